import winston from 'winston';
import { activeTraceIds } from '../observability/trace-context.js';
import { redact, redactText } from './redact.js';

/** Structured fields a log line may carry; snake_case, as on the wire. */
export interface LogFields {
  correlation_id?: string;
  request_id?: string;
  [key: string]: unknown;
}

/** The one logging interface the code uses; winston is behind it. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` (a correlation id, a request id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  service: string;
  /** @defaultValue 'info' */
  level?: string;
  /** Extra winston transport, e.g. a test capturing lines. */
  transport?: winston.transport;
}

const redactFormat = winston.format((info) => {
  const masked = redact({ ...info }) as winston.Logform.TransformableInfo;
  masked.message = redactText(String(info.message));
  // winston keeps its internal symbols on the original object; copy them over.
  for (const symbol of Object.getOwnPropertySymbols(info)) {
    (masked as unknown as Record<symbol, unknown>)[symbol] = (info as unknown as Record<symbol, unknown>)[symbol];
  }
  return masked;
});

/** Creates a JSON-lines logger for one service, with secrets redacted from every line. */
export function createLogger(options: LoggerOptions): Logger {
  const base = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.timestamp(),
      redactFormat(),
      winston.format.json(),
    ),
    transports: [options.transport ?? new winston.transports.Console()],
  });
  return wrap(base);
}

function wrap(target: winston.Logger): Logger {
  // winston builds and streams a line before its level filter drops it; checking first makes a
  // disabled level (debug and info under LOG_LEVEL=warn) cost nothing on the hot paths.
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => {
    if (target.isLevelEnabled(level)) target.log(level, message, withTraceIds(fields ?? {}));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => wrap(target.child(fields)) };
}

/**
 * A line written inside a span carries the span's `trace_id` and `span_id`. Read here, where the
 * line is logged, not in a winston format: formats run inside winston's streams, which can hold lines
 * back while the output is busy and then format them later, in some other line's async context.
 * With tracing off the active span is always undefined (the API's no-op context), so a line costs
 * one lookup more and no allocation.
 */
function withTraceIds(fields: LogFields): LogFields {
  const ids = activeTraceIds();
  return ids ? { ...fields, ...ids } : fields;
}
