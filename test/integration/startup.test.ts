import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

/** Runs a service's main.ts as its own process with `env` and returns its exit code and stderr. */
async function runService(service: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services', service, 'main.ts')], {
    env: { ...process.env, PORT: '0', NAMESPACE: 'startup_probe_', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

describe('start-up with a backing server down', () => {
  it.each([
    ['order-service', { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }, 'RabbitMQ', 'rabbitmq-server -detached'],
    ['inventory-service', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' }, 'PostgreSQL', 'pg_ctlcluster'],
    ['order-service', { REDIS_URL: 'redis://127.0.0.1:1' }, 'Redis', 'redis-server'],
  ])('when %s starts with %o unreachable, then it prints one line naming %s and how to start it, and exits 1', async (service, env, name, hint) => {
    const { code, stderr } = await runService(service, env);
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.trim() && !line.includes('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name} is unreachable`);
    expect(lines[0]).toContain(hint);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('when a configuration variable is invalid, then the service names it and exits 1', async () => {
    const { code, stderr } = await runService('shipping-service', { AMQP_PREFETCH: 'lots' });
    expect(code).toBe(1);
    expect(stderr).toContain('AMQP_PREFETCH');
  });
});

describe('start-up off loopback', () => {
  it.each([
    ['order-service', {}, 'AUTH_JWT_SECRET'],
    ['payment-provider', {}, 'PAYMENT_PROVIDER_API_KEY'],
    ['payment-service', { AUTH_JWT_SECRET: 'a-secret-of-our-own-that-is-long-enough-0000' }, 'PAYMENT_PROVIDER_API_KEY'],
  ])('when %s listens on 0.0.0.0 with a README default secret, then it prints one line naming it and exits 1', async (service, env, name) => {
    const { code, stderr } = await runService(service, { HOST: '0.0.0.0', METRICS_PORT: '0', ...env });
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.trim() && !line.includes('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name} is still its local-only default while HOST=0.0.0.0 is reachable from other hosts: set ${name} (or ${name}_FILE)`);
  });
});

describe('start-up with TLS that cannot be set up', () => {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const broker = new URL((process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').split(',')[0]!);

  it.each([
    [
      'inventory-service',
      { DATABASE_URL: `${databaseUrl.split('?')[0]}?sslmode=verify-full` },
      `PostgreSQL TLS connection failed (${databaseUrl.split('?')[0]}?sslmode=verify-full): the server does not support TLS`,
      'turn TLS on in the server (ssl = on)',
    ],
    [
      'shipping-service',
      { AMQP_URL: `amqps://guest:guest@${broker.host}` },
      `RabbitMQ TLS connection failed (amqps://guest:***@${broker.host}): the server did not answer in TLS`,
      "point AMQP_URL at the broker's TLS listener",
    ],
    [
      'order-service',
      { REDIS_TLS_CA_FILE: '/etc/ssl/certs/ca-certificates.crt' },
      'REDIS_TLS_* files are set but REDIS_URL is redis:// (plain text): use rediss:// for TLS',
      'rediss://',
    ],
  ])('when %s starts with %o, then it prints one line naming the server, its URL without password and why, and exits 1', async (service, env, expected, hint) => {
    const { code, stderr } = await runService(service, env);
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.trim() && !line.includes('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(expected);
    expect(lines[0]).toContain(hint);
    expect(lines[0]).not.toContain('guest:guest');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
