import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import { amqpNodeLabel, parseAmqpUrls } from '../config/amqp-urls.js';
import type { TlsClientOptions } from '../config/tls-options.js';
import type { Logger } from '../logging/logger.js';
import { assertReachable } from '../startup/check-dependencies.js';
import { tlsFailure } from '../startup/tls-failure.js';

export type { AmqpConnectionManager };

export interface AmqpConnectionOptions {
  /**
   * The broker: one URL, or the nodes of a cluster (a comma-separated list, as `AMQP_URL` takes it,
   * or an array). Nodes are tried in the order given.
   */
  url: string | readonly string[];
  /** Shown in the broker's connection list. */
  name: string;
  logger: Logger;
  /** @defaultValue 10 000 */
  connectTimeoutMs?: number;
  /**
   * CA, client certificate and key for `amqps://` nodes (see `amqpTlsOptions`), handed to amqplib's
   * `tls.connect`, which checks the broker's certificate and host name against them.
   * @defaultValue Node's built-in CAs, no client certificate
   */
  tls?: TlsClientOptions;
}

/** The node a connection event names, as `host:port` (the URL itself holds the password). */
const nodeOf = (url: unknown): string => (typeof url === 'string' ? amqpNodeLabel(url) : 'unknown');

/**
 * Connects to RabbitMQ through amqp-connection-manager, which reconnects after a broker restart or
 * a dropped connection and re-runs every channel's setup (topology, prefetch, consumers).
 * With several nodes (a cluster) it starts with the first of the list, and every further attempt,
 * after a failed connect or a dropped connection, goes to the next node, round robin
 * (amqp-connection-manager's own rotation over the URL array; `findServers` is only needed for a
 * list that changes), so a dead node is left for a live one within `reconnectTimeInSeconds`.
 * Nagle is switched off (`noDelay`): with it on, one hop measured 44 ms instead of 0.5 ms here.
 * For `amqps://` nodes the start-up check is a TLS handshake with `tls`: a broker certificate that
 * does not verify stops the start with a DependencyTlsError at once. A broker that refuses the
 * client certificate says so only after the handshake (TLS 1.3), on the first connect: that too
 * ends the start at once instead of retrying until the timeout. Later reconnects that fail so are
 * logged and retried like any other failure.
 */
export async function connectAmqp(options: AmqpConnectionOptions): Promise<AmqpConnectionManager> {
  const urls = parseAmqpUrls(options.url);
  await assertReachable('RabbitMQ', urls, { tls: options.tls });
  const connection = amqp.connect(urls, {
    heartbeatIntervalInSeconds: 10,
    reconnectTimeInSeconds: 1,
    connectionOptions: { noDelay: true, clientProperties: { connection_name: options.name }, ...options.tls },
  });
  const log = options.logger;
  connection.on('connect', ({ url }) => log.info('amqp connected', { node: nodeOf(url) }));
  connection.on('disconnect', ({ err }) => log.warn('amqp disconnected; reconnecting', { error: err }));
  connection.on('connectFailed', ({ err, url }) => log.warn('amqp connect failed; retrying', { node: nodeOf(url), error: err }));
  connection.on('blocked', ({ reason }) => log.warn('amqp connection blocked by the broker', { reason }));
  connection.on('unblocked', () => log.info('amqp connection unblocked'));
  let onFailed: (failure: { err: Error; url: unknown }) => void = () => undefined;
  const tlsFailed = new Promise<never>((_resolve, reject) => {
    onFailed = ({ err, url }) => {
      const failure = tlsFailure('RabbitMQ', typeof url === 'string' ? url : (urls[0] ?? ''), err);
      if (failure) reject(failure);
    };
  });
  connection.on('connectFailed', onFailed);
  const connected = connection.connect({ timeout: options.connectTimeoutMs ?? 10_000 });
  // Still pending when a TLS failure wins the race: its later timeout is no news then.
  connected.catch(() => undefined);
  try {
    await Promise.race([connected, tlsFailed]);
  } catch (error) {
    // Stops the manager's retries in the background: nobody holds this connection.
    await connection.close().catch(() => undefined);
    throw error;
  } finally {
    connection.removeListener('connectFailed', onFailed);
  }
  return connection;
}
