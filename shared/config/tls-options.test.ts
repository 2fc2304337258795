import { Type } from '@sinclair/typebox';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfigError, loadEnv } from './load-env.js';
import { amqpTlsEnv } from './tls-env.js';
import { amqpTlsOptions, redisTlsOptions } from './tls-options.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tls-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const amqp = (AMQP_URL: string, files: Partial<Record<keyof typeof amqpTlsEnv, string>> = {}) =>
  amqpTlsOptions({ AMQP_URL, AMQP_TLS_CA_FILE: '', AMQP_TLS_CERT_FILE: '', AMQP_TLS_KEY_FILE: '', AMQP_TLS_KEY_PASSPHRASE: '', ...files });
const redis = (REDIS_URL: string, REDIS_TLS_CA_FILE = '') =>
  redisTlsOptions({ REDIS_URL, REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE: '', REDIS_TLS_KEY_FILE: '', REDIS_TLS_KEY_PASSPHRASE: '' });
const configErrorOf = (attempt: () => unknown): Error => {
  try {
    attempt();
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return error as Error;
  }
  throw new Error('no ConfigError thrown');
};

describe('TLS settings of the broker and Redis connections', () => {
  it('when the URLs are plain and no TLS file is set, then there are no TLS options', () => {
    expect(amqp('amqp://guest:guest@127.0.0.1:5672')).toBeUndefined();
    expect(redis('redis://127.0.0.1:6379')).toBeUndefined();
  });

  it('when the URL is amqps:// or rediss:// with no CA file, then TLS uses Node\'s built-in CAs (empty options)', () => {
    expect(amqp('amqps://guest:guest@broker.example')).toEqual({});
    expect(redis('rediss://cache.example:6380')).toEqual({});
  });

  it('when TLS files are set beside a plain URL, then the start is refused rather than sending plain text', () => {
    expect(configErrorOf(() => amqp('amqp://guest:guest@broker.example', { AMQP_TLS_CA_FILE: '/ca.pem' })).message).toContain('use amqps://');
    expect(configErrorOf(() => redis('redis://cache.example', '/ca.pem')).message).toContain('use rediss://');
  });

  it('when a cluster list mixes amqps:// and amqp:// nodes, then the start is refused', () => {
    expect(configErrorOf(() => amqp('amqps://a.example,amqp://b.example')).message).toContain('mixes amqps:// and amqp://');
  });

  it('when a CA file cannot be read, then the error names the variable and the path', () => {
    const message = configErrorOf(() => amqp('amqps://broker.example', { AMQP_TLS_CA_FILE: path.join(dir, 'missing.pem') })).message;
    expect(message).toContain(`AMQP_TLS_CA_FILE: cannot read ${path.join(dir, 'missing.pem')} (ENOENT)`);
  });

  it('when a client certificate is given without its key, then the error says both go together', () => {
    expect(configErrorOf(() => amqp('amqps://broker.example', { AMQP_TLS_CERT_FILE: '/client.pem' })).message).toContain(
      'AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE go together',
    );
  });

  it('when the key passphrase comes from AMQP_TLS_KEY_PASSPHRASE_FILE, then it is read from that file like any secret', () => {
    const file = path.join(dir, 'passphrase');
    writeFileSync(file, 'from-a-file\n');
    const config = loadEnv(Type.Object(amqpTlsEnv), { AMQP_TLS_KEY_PASSPHRASE_FILE: file });
    expect(config.AMQP_TLS_KEY_PASSPHRASE).toBe('from-a-file');
  });
});
