import net from 'node:net';
import { splitUrlList } from '../config/amqp-urls.js';
import { serverAddress, type ServerAddress } from '../config/server-address.js';
import { DependencyUnavailableError } from '../errors/dependency-unavailable-error.js';

export const START_HINTS = {
  RabbitMQ: 'start it with: rabbitmq-server -detached',
  PostgreSQL: 'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  Redis:
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
} as const;

export type Dependency = keyof typeof START_HINTS;

function probe(target: ServerAddress, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const fail = (cause: unknown) => {
      socket.destroy();
      reject(cause);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('connect timeout')));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}

/**
 * Checks that a backing server accepts TCP connections before a service wires itself to it, so
 * that a server that is down gives one clear line instead of a client library's retry loop or
 * stack trace. `url` may list several nodes (a RabbitMQ cluster: a comma-separated list, or an
 * array): one that answers is enough, and when none does the error names them all.
 */
export async function assertReachable(dependency: Dependency, url: string | readonly string[], timeoutMs = 3_000): Promise<void> {
  const urls = typeof url === 'string' ? splitUrlList(url) : url;
  const targets = urls.map(serverAddress);
  const unreachable = (cause: unknown) =>
    new DependencyUnavailableError(dependency, START_HINTS[dependency], {
      cause,
      context: { target: targets.map((t) => t.label).join(', ') || '(no address given)' },
    });
  if (targets.length === 0) throw unreachable(new Error('no address given'));
  try {
    await Promise.any(targets.map((target) => probe(target, timeoutMs)));
  } catch (error) {
    // Promise.any rejects with every node's failure; one node keeps its own error as the cause.
    throw unreachable(error instanceof AggregateError && targets.length === 1 ? error.errors[0] : error);
  }
}
