import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { Logger } from '../logging/logger.js';
import { assertReachable } from '../startup/check-dependencies.js';

export type { AmqpConnectionManager };

export interface AmqpConnectionOptions {
  url: string;
  /** Shown in the broker's connection list. */
  name: string;
  logger: Logger;
  /** @defaultValue 10 000 */
  connectTimeoutMs?: number;
}

/**
 * Connects to RabbitMQ through amqp-connection-manager, which reconnects after a broker restart or
 * a dropped connection and re-runs every channel's setup (topology, prefetch, consumers).
 * Nagle is switched off (`noDelay`): with it on, one hop measured 44 ms instead of 0.5 ms here.
 */
export async function connectAmqp(options: AmqpConnectionOptions): Promise<AmqpConnectionManager> {
  await assertReachable('RabbitMQ', options.url);
  const connection = amqp.connect([options.url], {
    heartbeatIntervalInSeconds: 10,
    reconnectTimeInSeconds: 1,
    connectionOptions: { noDelay: true, clientProperties: { connection_name: options.name } },
  });
  const log = options.logger;
  connection.on('connect', () => log.info('amqp connected'));
  connection.on('disconnect', ({ err }) => log.warn('amqp disconnected; reconnecting', { error: err }));
  connection.on('connectFailed', ({ err }) => log.warn('amqp connect failed; retrying', { error: err }));
  connection.on('blocked', ({ reason }) => log.warn('amqp connection blocked by the broker', { reason }));
  connection.on('unblocked', () => log.info('amqp connection unblocked'));
  await connection.connect({ timeout: options.connectTimeoutMs ?? 10_000 });
  return connection;
}
