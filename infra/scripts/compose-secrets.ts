import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files docker-compose.yml hands to the services as Docker secrets (`/run/secrets/<name>`,
 * read through `<NAME>_FILE`): made once with random values, never overwritten, so that running
 * this again keeps a stack's secrets (a new Postgres password would not match the data volume's).
 */
export const COMPOSE_SECRETS = [
  'auth_jwt_secret',
  'payment_provider_api_key',
  'postgres_password',
  'database_url',
  'rabbitmq_cluster_cookie',
  'grafana_admin_password',
] as const;
export type ComposeSecret = (typeof COMPOSE_SECRETS)[number];

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** How each secret is made; database_url carries postgres_password, so it is made after it. */
const MAKE: Record<ComposeSecret, (made: (name: ComposeSecret) => string) => string> = {
  auth_jwt_secret: () => hex(32),
  payment_provider_api_key: () => `sk_test_${hex(12)}`,
  postgres_password: () => hex(16),
  database_url: (made) => `postgres://postgres:${made('postgres_password')}@postgres:5432/postgres`,
  // Erlang cookies are capital letters by convention; 32 of them.
  rabbitmq_cluster_cookie: () => Array.from(randomBytes(32), (byte) => String.fromCharCode(65 + (byte % 26))).join(''),
  grafana_admin_password: () => hex(12),
};

/**
 * Writes the secrets missing from `dir` and returns the names written. The directory is private
 * (0700); the files are 0644 because compose bind-mounts each file into its containers as it is,
 * where the services run as an unprivileged user that must read them.
 */
export function makeComposeSecrets(dir: string): ComposeSecret[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const read = (name: ComposeSecret) => readFileSync(join(dir, name), 'utf8').trim();
  const written: ComposeSecret[] = [];
  for (const name of COMPOSE_SECRETS) {
    const path = join(dir, name);
    if (existsSync(path)) continue;
    writeFileSync(path, `${MAKE[name](read)}\n`, { mode: 0o644, flag: 'wx' });
    written.push(name);
  }
  return written;
}
