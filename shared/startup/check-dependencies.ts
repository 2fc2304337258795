import net from 'node:net';
import tls from 'node:tls';
import { splitUrlList } from '../config/amqp-urls.js';
import { serverAddress, type ServerAddress } from '../config/server-address.js';
import type { TlsClientOptions } from '../config/tls-options.js';
import { urlWithoutPassword } from '../config/url-without-password.js';
import { DependencyTlsError } from '../errors/dependency-tls-error.js';
import { DependencyUnavailableError } from '../errors/dependency-unavailable-error.js';
import { TLS_HINTS, tlsFailure } from './tls-failure.js';

export const START_HINTS = {
  RabbitMQ: 'start it with: rabbitmq-server -detached',
  PostgreSQL: 'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  Redis:
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
} as const;

export type Dependency = keyof typeof START_HINTS;

/** Schemes whose connections are TLS from the first byte: their probe is a TLS handshake. */
const TLS_SCHEMES = new Set(['amqps:', 'rediss:']);

export interface ReachableOptions {
  /** @defaultValue 3 000 */
  timeoutMs?: number;
  /** CA, client certificate and key the client will use for `amqps://` and `rediss://` URLs. @defaultValue Node's built-in CAs */
  tls?: TlsClientOptions;
}

/** Connects to one server, and for a TLS URL completes the handshake (certificate and host name checked); then hangs up. */
function probe(dependency: Dependency, url: string, target: ServerAddress, options: ReachableOptions): Promise<void> {
  const secure = TLS_SCHEMES.has(new URL(url).protocol);
  return new Promise<void>((resolve, reject) => {
    let tcpConnected = false;
    const socket = secure
      ? tls.connect({ host: target.host, port: target.port, ...(net.isIP(target.host) ? {} : { servername: target.host }), ...options.tls })
      : net.connect({ host: target.host, port: target.port });
    const fail = (cause: unknown) => {
      socket.destroy();
      reject(cause);
    };
    socket.setTimeout(options.timeoutMs ?? 3_000, () => {
      if (!tcpConnected) return fail(new Error('connect timeout'));
      // The port took the connection but never answered the TLS hello: a plain-text port.
      fail(new DependencyTlsError(dependency, urlWithoutPassword(url), 'no answer to the TLS handshake (is this the TLS port?)', TLS_HINTS[dependency]['no-tls']));
    });
    socket.once('error', (error) => fail(tlsFailure(dependency, url, error) ?? error));
    socket.once('connect', () => {
      tcpConnected = true;
      if (!secure) {
        socket.end();
        resolve();
      }
    });
    socket.once('secureConnect', () => {
      socket.end();
      resolve();
    });
  });
}

/**
 * Checks that a backing server accepts connections before a service wires itself to it, so that a
 * server that is down gives one clear line instead of a client library's retry loop or stack
 * trace. For `amqps://` and `rediss://` URLs the check is a TLS handshake with the client's own
 * settings, so that a certificate that does not verify (or a server without TLS) stops the start
 * with a DependencyTlsError before anything else happens. `url` may list several nodes (a RabbitMQ
 * cluster: a comma-separated list, or an array): one that answers is enough, and when none does
 * the error names them all (or is the first node's TLS failure, if one had one).
 */
export async function assertReachable(dependency: Dependency, url: string | readonly string[], options: ReachableOptions = {}): Promise<void> {
  const urls = typeof url === 'string' ? splitUrlList(url) : url;
  const targets = urls.map(serverAddress);
  const unreachable = (cause: unknown) =>
    new DependencyUnavailableError(dependency, START_HINTS[dependency], {
      cause,
      context: { target: targets.map((t) => t.label).join(', ') || '(no address given)' },
    });
  if (targets.length === 0) throw unreachable(new Error('no address given'));
  try {
    await Promise.any(targets.map((target, i) => probe(dependency, urls[i]!, target, options)));
  } catch (error) {
    const failures = error instanceof AggregateError ? error.errors : [error];
    const tlsError = failures.find((failure) => failure instanceof DependencyTlsError);
    if (tlsError) throw tlsError;
    // Promise.any rejects with every node's failure; one node keeps its own error as the cause.
    throw unreachable(error instanceof AggregateError && targets.length === 1 ? error.errors[0] : error);
  }
}
