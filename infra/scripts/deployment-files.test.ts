import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../shared/config/secrets.js';
import { COMPOSE_SECRETS, makeComposeSecrets } from './compose-secrets.js';

/** What a deployment is built from: the compose file, its secrets, the image and its dependencies. */
const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface ComposeService {
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  secrets?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
/** The platform's own services: those that run a compiled entry point of this repository. */
const ours = Object.entries(compose.services).filter(([, service]) => service.command?.some((part) => part.startsWith('dist/services/')));

describe('docker compose', () => {
  it('when a service of ours needs a secret, then it gets a Docker secret through <NAME>_FILE, never the value', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(['inventory-service', 'order-service', 'payment-provider', 'payment-service', 'shipping-service']);
    for (const [name, service] of ours) {
      const environment = service.environment ?? {};
      // The compose Redis has no password, and the broker's guest user is the image's own, reachable
      // only on the compose network and 127.0.0.1 (AMQP_URL stays a plain variable so that
      // SAGA_AMQP_URL can point at the cluster): their URLs hold no secret of the deployment's.
      if (environment.REDIS_URL !== undefined) expect(new URL(String(environment.REDIS_URL)).password).toBe('');
      for (const secret of SECRET_VARIABLES.filter((name) => name !== 'AMQP_URL' && name !== 'REDIS_URL')) {
        expect(environment[secret], `${name}: ${secret} in the environment`).toBeUndefined();
        const file = environment[`${secret}_FILE`];
        if (file === undefined) continue;
        const secretName = /^\/run\/secrets\/([a-z_]+)$/.exec(String(file))?.[1];
        expect(secretName, `${name}: ${secret}_FILE=${file}`).toBeDefined();
        expect(service.secrets, `${name} mounts ${secretName}`).toContain(secretName);
        expect(compose.secrets[secretName!]?.file, `secret ${secretName}`).toBe(`./secrets/${secretName}`);
      }
    }
    const needs = (service: string) => Object.keys(compose.services[service]!.environment ?? {}).filter((key) => key.endsWith('_FILE'));
    expect(needs('order-service').sort()).toEqual(['AUTH_JWT_SECRET_FILE', 'DATABASE_URL_FILE']);
    expect(needs('payment-service').sort()).toEqual(['AUTH_JWT_SECRET_FILE', 'DATABASE_URL_FILE', 'PAYMENT_PROVIDER_API_KEY_FILE']);
    expect(needs('payment-provider').sort()).toEqual(['DATABASE_URL_FILE', 'PAYMENT_PROVIDER_API_KEY_FILE']);
    expect(compose.services.postgres!.environment).toEqual({ POSTGRES_PASSWORD_FILE: '/run/secrets/postgres_password' });
  });

  it('when the compose file names its secrets, then `npm run secrets` makes exactly those', () => {
    expect(Object.keys(compose.secrets).sort()).toEqual([...COMPOSE_SECRETS].sort());
  });

  const dockerCompose = '/usr/bin/docker-compose';
  it.skipIf(!existsSync(dockerCompose))('when docker-compose reads the file with its secrets made, then it is valid', () => {
    const made = mkdtempSync(path.join(tmpdir(), 'compose-'));
    try {
      makeComposeSecrets(path.join(made, 'secrets'));
      const result = spawnSync(dockerCompose, ['-f', path.join(root, 'docker-compose.yml'), '--project-directory', made, 'config', '-q'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(made, { recursive: true, force: true });
    }
  });
});

describe('npm run secrets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when run twice, then it makes every secret once, random and consistent, and then keeps them', () => {
    const secretsDir = path.join(dir, 'secrets');
    expect(makeComposeSecrets(secretsDir)).toEqual([...COMPOSE_SECRETS]);
    const value = (name: string) => readFileSync(path.join(secretsDir, name), 'utf8').trim();
    const first = Object.fromEntries(COMPOSE_SECRETS.map((name) => [name, value(name)]));
    expect(first.auth_jwt_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.payment_provider_api_key).toMatch(/^sk_test_[0-9a-f]{24}$/);
    expect(first.database_url).toBe(`postgres://postgres:${first.postgres_password}@postgres:5432/postgres`);
    expect(statSync(secretsDir).mode & 0o777).toBe(0o700);

    expect(makeComposeSecrets(secretsDir)).toEqual([]);
    expect(Object.fromEntries(COMPOSE_SECRETS.map((name) => [name, value(name)]))).toEqual(first);
    const other = path.join(dir, 'other');
    makeComposeSecrets(other);
    expect(readFileSync(path.join(other, 'auth_jwt_secret'), 'utf8').trim()).not.toBe(first.auth_jwt_secret);
  });
});

describe('the image', () => {
  const dockerfile = read('infra/Dockerfile');

  it('when built, then it starts from one pinned Node release, installs production dependencies only and runs as a user without privileges', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM .*/gm)).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE} AS runtime']);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^RUN npm ci --omit=dev /m);
    expect(runtime).not.toMatch(/^COPY --from=build \/app\/node_modules/m);
    const users = runtime.match(/^USER .*/gm);
    expect(users).toEqual(['USER node']);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('CMD '));
  });

  it('when the services and shared code import a package, then it is a production dependency (the image has no others)', () => {
    const manifest = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const imported = new Map<string, string>();
    // The console's sources are bundled at build time (dist/console); the image runs none of them.
    const bundled = path.join('services', 'order-service', 'console');
    const walk = (dir: string): string[] =>
      dir === bundled
        ? []
        : readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
            entry.isDirectory() ? walk(path.join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path.join(dir, entry.name)] : [],
          );
    for (const file of [...walk('services'), ...walk('shared')]) {
      // `import type` is erased by the compiler: it needs no package at run time.
      for (const match of read(file).matchAll(/^(?:import|export) (?!type )[^;]*? from '([^'.][^']*)'/gms)) {
        const specifier = match[1]!;
        if (specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        imported.set(name, file);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    const missing = [...imported].filter(([name]) => !(name in manifest.dependencies));
    expect(missing, 'imported at run time but not in dependencies').toEqual([]);
  });
});
