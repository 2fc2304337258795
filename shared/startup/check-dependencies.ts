import net from 'node:net';
import { DependencyUnavailableError } from '../errors/dependency-unavailable-error.js';

export const START_HINTS = {
  RabbitMQ: 'start it with: rabbitmq-server -detached',
  PostgreSQL: 'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  Redis:
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
} as const;

export type Dependency = keyof typeof START_HINTS;

const DEFAULT_PORTS: Record<string, number> = { 'amqp:': 5672, 'amqps:': 5671, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 };

/**
 * Checks that a backing server accepts TCP connections before a service wires itself to it, so
 * that a server that is down gives one clear line instead of a client library's retry loop or
 * stack trace.
 */
export async function assertReachable(dependency: Dependency, url: string, timeoutMs = 3_000): Promise<void> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol] || 0;
  const target = `${host}:${port}`;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (cause: unknown) => {
      socket.destroy();
      reject(new DependencyUnavailableError(dependency, START_HINTS[dependency], { cause, context: { target } }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('connect timeout')));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}
