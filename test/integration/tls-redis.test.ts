import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrderService } from '../../services/order-service/app.js';
import { loadOrderConfig } from '../../services/order-service/config.js';
import { isDependencyTlsError } from '../../shared/errors/dependency-tls-error.js';
import { LogCapture } from '../support/log-capture.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { startTlsRedis, type TlsRedis } from '../support/tls-redis.js';

/**
 * TLS to Redis: a redis-server of the test's own with only a TLS port and a certificate from a CA
 * the test makes. order-service given `rediss://` and REDIS_TLS_CA_FILE keeps its rate limits
 * there; a CA that did not sign the server's certificate, or a port without TLS, stops its start
 * with one error naming Redis, the URL without its password and why.
 */
const LOCAL_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let certificates: TestCertificates;
let otherCa: TestCertificates;
let server: TlsRedis;

beforeAll(async () => {
  [certificates, otherCa] = await Promise.all([makeTestCertificates('redis'), makeTestCertificates('other')]);
  server = await startTlsRedis(certificates);
});

afterAll(async () => {
  await server?.stop();
  await Promise.all([certificates?.remove(), otherCa?.remove()]);
});

/** The error order-service's start fails with, given its Redis settings (it checks Redis before anything else). */
async function startFailure(env: Record<string, string>): Promise<unknown> {
  const config = loadOrderConfig({ NAMESPACE: 'tls_probe_', PORT: '0', METRICS_PORT: '0', ...env });
  return startOrderService(config, { logger: new LogCapture().loggerFor('order-service') }).then(
    async (service) => {
      await service.stop();
      return undefined;
    },
    (error: unknown) => error,
  );
}

describe.skipIf(EXTERNAL_STACK)('Redis over TLS', () => {
  it('when order-service has a rediss:// URL and REDIS_TLS_CA_FILE, then it starts, reports Redis up and keeps its rate limits in that server', async () => {
    const url = `rediss://127.0.0.1:${server.port}`;
    const stack = await TestStack.start({ REDIS_URL: url, REDIS_TLS_CA_FILE: certificates.caFile }, { services: ['order-service'] });
    const redis = new Redis(url, { tls: { ca: readFileSync(certificates.caFile, 'utf8') }, lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      const ready = await fetch(`${stack.orderApi}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: true } });
      // An anonymous request spends from its address's budget, kept in Redis.
      expect((await fetch(`${stack.orderApi}/openapi.json`)).status).toBe(200);
      await redis.connect();
      const keys = await redis.keys(`${stack.namespace}:ratelimit:*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
      await stack.stop();
    }
  });

  it('when REDIS_TLS_CA_FILE is a CA that did not sign the server certificate, then the start fails naming Redis, the URL without its password and the verification failure', async () => {
    const url = `rediss://:s3cret@127.0.0.1:${server.port}`;
    const error = await startFailure({ REDIS_URL: url, REDIS_TLS_CA_FILE: otherCa.caFile });
    expect(isDependencyTlsError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`Redis TLS connection failed (rediss://:***@127.0.0.1:${server.port})`);
    expect(message).toMatch(/self-signed certificate in certificate chain|unable to verify the first certificate/);
    expect(message).not.toContain('s3cret');
  });

  it('when rediss:// points at a port without TLS, then the start fails saying the handshake got no answer, with no plain-text attempt', async () => {
    const plain = new URL(LOCAL_REDIS_URL);
    const error = await startFailure({ REDIS_URL: `rediss://${plain.host}`, REDIS_TLS_CA_FILE: certificates.caFile });
    expect(isDependencyTlsError(error)).toBe(true);
    expect((error as Error).message).toContain('no answer to the TLS handshake');
  });
});
