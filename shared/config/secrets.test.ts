import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';
import { isLoopback } from './secrets.js';

const schema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  AUTH_JWT_SECRET: Type.String({ default: 'local-only-order-api-signing-key-0123456789', minLength: 32 }),
  PAYMENT_PROVIDER_API_KEY: Type.String({ default: 'sk_test_local_provider_key' }),
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/postgres' }),
});
const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
const file = (name: string, content: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, content);
  return at;
};
const OWN = 'a-secret-of-our-own-that-is-long-enough-0000';

describe('secrets in the configuration', () => {
  it('reads <NAME>_FILE for a secret variable, less its final newline', () => {
    const config = loadEnv(schema, {
      AUTH_JWT_SECRET_FILE: file('jwt', `${OWN}\n`),
      DATABASE_URL_FILE: file('db', 'postgres://app:pa55@db:5432/app\n'),
    });
    expect(config.AUTH_JWT_SECRET).toBe(OWN);
    expect(config.DATABASE_URL).toBe('postgres://app:pa55@db:5432/app');
  });

  it('refuses a secret given twice, or a file it cannot read, naming the variable', () => {
    expect(() => loadEnv(schema, { AUTH_JWT_SECRET: OWN, AUTH_JWT_SECRET_FILE: file('jwt2', OWN) })).toThrow(
      'AUTH_JWT_SECRET and AUTH_JWT_SECRET_FILE are both set: keep one',
    );
    expect(() => loadEnv(schema, { PAYMENT_PROVIDER_API_KEY_FILE: path.join(dir, 'missing') })).toThrow(/PAYMENT_PROVIDER_API_KEY_FILE: cannot read .*missing \(ENOENT\)/);
  });

  it('keeps the README defaults on loopback, and refuses them on any other address', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) expect(() => loadEnv(schema, { HOST: host }), host).not.toThrow();
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'order-service']) {
      expect(() => loadEnv(schema, { HOST: host }), host).toThrow(
        `AUTH_JWT_SECRET is still its local-only default while HOST=${host} is reachable from other hosts: set AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE)`,
      );
    }
    expect(() => loadEnv(schema, { HOST: '0.0.0.0', AUTH_JWT_SECRET: OWN })).toThrow(/PAYMENT_PROVIDER_API_KEY is still its local-only default/);
    expect(loadEnv(schema, { HOST: '0.0.0.0', AUTH_JWT_SECRET: OWN, PAYMENT_PROVIDER_API_KEY_FILE: file('key', 'sk_live_ours') })).toMatchObject({
      PAYMENT_PROVIDER_API_KEY: 'sk_live_ours',
    });
  });

  it('knows a loopback address', () => {
    expect([isLoopback('127.0.0.1'), isLoopback('::ffff:127.0.0.1'), isLoopback('0.0.0.0'), isLoopback('192.168.1.2'), isLoopback('::')]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
