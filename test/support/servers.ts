import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from './wait-for.js';

/**
 * The machine's own RabbitMQ, Redis and PostgreSQL, acted on by the fault tests. Whatever a test
 * stops it starts again, with the commands the servers were first started with (the same ones
 * .ci/run uses: `rabbitmq-server -detached`, `redis-server --daemonize yes …`).
 */
const run = promisify(execFile);
const command = (file: string, ...args: string[]) => run(file, args, { timeout: 60_000 });

export const rabbitmqctl = (...args: string[]) => command('rabbitmqctl', ...args);

async function brokerAnswers(): Promise<boolean> {
  try {
    await rabbitmqctl('-q', 'await_startup');
    return true;
  } catch {
    return false; // right after `rabbitmq-server -detached`, await_startup fails until the node is up: retried
  }
}

export async function waitForBroker(): Promise<void> {
  await waitFor(brokerAnswers, { timeoutMs: 90_000, intervalMs: 500, what: 'RabbitMQ to start' });
}

/** `rabbitmqctl stop_app` … `start_app`: the node stays, the broker application stops. */
export const stopBrokerApp = () => rabbitmqctl('stop_app');
export async function startBrokerApp(): Promise<void> {
  await rabbitmqctl('start_app');
  await waitForBroker();
}

/** SIGKILL of the broker's Erlang VM, then a fresh start (quorum queues recover from their logs). */
export async function killBroker(): Promise<void> {
  const { stdout } = await rabbitmqctl('eval', 'os:getpid().');
  const pid = Number(stdout.trim().replace(/"/g, ''));
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no broker pid in ${JSON.stringify(stdout)}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => !alive(pid), { timeoutMs: 10_000, what: 'the broker to die' });
}

export async function startBroker(): Promise<void> {
  await command('rabbitmq-server', '-detached');
  await waitForBroker();
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const redisCli = (...args: string[]) => command('redis-cli', '-h', '127.0.0.1', '-p', '6379', ...args);

/** Stops Redis; it keeps nothing on disk here, so it comes back empty. */
export async function stopRedis(): Promise<void> {
  await redisCli('shutdown', 'nosave').catch(() => undefined); // the connection drops as it stops
  await waitFor(async () => !(await redisAnswers()), { timeoutMs: 10_000, what: 'Redis to stop' });
}

export async function startRedis(): Promise<void> {
  await command(
    'redis-server',
    '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
    '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
  );
  await waitFor(redisAnswers, { timeoutMs: 20_000, intervalMs: 200, what: 'Redis to start' });
}

async function redisAnswers(): Promise<boolean> {
  try {
    return (await redisCli('ping')).stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

/** Terminates the Postgres backends whose application_name starts with `prefix`; returns how many. */
export async function terminateBackends(db: pg.Pool, prefix: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
     WHERE application_name LIKE $1 || '%' AND pid <> pg_backend_pid()`,
    [prefix],
  );
  return rows[0]?.n ?? 0;
}

/** Messages (ready and unacked) in each queue whose name starts with `prefix`. */
export async function queueDepths(prefix: string): Promise<Record<string, number>> {
  const { stdout } = await rabbitmqctl('-q', 'list_queues', 'name', 'messages', '--no-table-headers');
  const depths: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const [name, messages] = line.trim().split(/\s+/);
    if (name?.startsWith(prefix)) depths[name] = Number(messages);
  }
  return depths;
}

/** Waits until every queue of the namespace has been empty on two looks a second apart. */
export async function waitForQueuesIdle(prefix: string, timeoutMs = 60_000): Promise<void> {
  let idleBefore = false;
  await waitFor(
    async () => {
      const idle = Object.values(await queueDepths(prefix)).every((n) => n === 0);
      const settled = idle && idleBefore;
      idleBefore = idle;
      return settled;
    },
    { timeoutMs, intervalMs: 1_000, what: 'every queue to be empty' },
  );
}
