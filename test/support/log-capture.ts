import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../shared/logging/logger.js';

/** Collects the JSON log lines of in-process services, so tests can scan them (no secrets). */
export class LogCapture {
  readonly lines: string[] = [];
  private readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (process.env.TEST_LOG_ECHO) process.stderr.write(chunk);
      done();
    },
  });

  loggerFor(service: string): Logger {
    return createLogger({
      service,
      level: process.env.TEST_LOG_LEVEL ?? 'info',
      transport: new winston.transports.Stream({ stream: this.stream }),
    });
  }
}
