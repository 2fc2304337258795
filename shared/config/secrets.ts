import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * The variables that hold secrets (keys, or URLs that may carry a password). Each also accepts
 * `<NAME>_FILE`, the path of a file holding the value (the Docker and Kubernetes convention for
 * secrets): its content, less a final newline, is the value.
 */
export const SECRET_VARIABLES = [
  'AUTH_JWT_SECRET',
  'PAYMENT_PROVIDER_API_KEY',
  'DATABASE_URL',
  'AMQP_URL',
  'REDIS_URL',
  'AMQP_TLS_KEY_PASSPHRASE',
  'REDIS_TLS_KEY_PASSPHRASE',
] as const;

/** The defaults that are secrets everybody can read in the README: refused off loopback. */
export const PUBLIC_DEFAULT_SECRETS = ['AUTH_JWT_SECRET', 'PAYMENT_PROVIDER_API_KEY'] as const;

/**
 * The environment with each `<NAME>_FILE` of a secret variable the schema reads replaced by the
 * file's content under `<NAME>`. Returns the problems (both set, unreadable file) instead of
 * throwing, so that every bad variable is named at once.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv, names: readonly string[]): { env: NodeJS.ProcessEnv; problems: string[] } {
  const resolved: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES.filter((secret) => names.includes(secret))) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return { env: resolved, problems };
}

/** Whether an address to listen on only takes connections from this host. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * The secret variables still at their documented default while the service listens on an address
 * other hosts can reach: the README shows those values, so anyone could sign an admin token or
 * charge through the provider with them.
 */
export function publicDefaultsOffLoopback(config: Record<string, unknown>, defaults: Record<string, unknown>): string[] {
  const host = config.HOST;
  if (typeof host !== 'string' || isLoopback(host)) return [];
  return PUBLIC_DEFAULT_SECRETS.filter((name) => name in config && defaults[name] !== undefined && config[name] === defaults[name]).map(
    (name) =>
      `${name} is still its local-only default while HOST=${host} is reachable from other hosts: set ${name} (or ${name}_FILE) to a secret of your own, e.g. $(openssl rand -hex 32)`,
  );
}
