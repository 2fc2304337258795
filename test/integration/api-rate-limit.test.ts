import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectProblem } from '../support/problem-assert.js';
import { expectNoSecretsInLogs } from '../support/secret-scan.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { customerToken } from '../support/tokens.js';

/**
 * Requirement 4 (rate limits through Redis; X-Forwarded-For only from trusted proxies) and the
 * configured side of requirement 6 (CORS). Its own stack with low limits, so no other suite feels
 * them. Every test calls from its own loopback address (127.0.0.x) or as its own customer, so each
 * starts with a fresh budget; 127.0.0.2 plays the trusted proxy.
 */
const ANONYMOUS_LIMIT = 5;
const CUSTOMER_LIMIT = 8;
const WINDOW_S = 60;
const PROXY = '127.0.0.2';
const SHOP = 'https://shop.example';
const sentTokens = new Set<string>();

let stack: TestStack;

beforeAll(async () => {
  if (EXTERNAL_STACK) return; // the limits below are overrides of an in-process stack
  vi.stubEnv('TEST_LOG_LEVEL', 'debug');
  stack = await TestStack.start({
    RATE_LIMIT_ANONYMOUS: String(ANONYMOUS_LIMIT),
    RATE_LIMIT_CUSTOMER: String(CUSTOMER_LIMIT),
    RATE_LIMIT_WINDOW_S: String(WINDOW_S),
    TRUSTED_PROXIES: PROXY,
    CORS_ORIGINS: SHOP,
  });
});

afterAll(async () => {
  await stack?.stop();
  vi.unstubAllEnvs();
});

/** A request sent from a chosen loopback address (fetch cannot pick its source address). */
function call(path: string, options: { from: string; headers?: Record<string, string>; method?: string }): Promise<Response> {
  const url = new URL(path, stack.orderApi);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method ?? 'GET', headers: options.headers, localAddress: options.from, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, String(value));
          resolve(new Response(Buffer.concat(chunks).length > 0 ? Buffer.concat(chunks) : null, { status: res.statusCode ?? 0, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function asCustomer(customer: string): Promise<Record<string, string>> {
  const token = await customerToken(customer);
  sentTokens.add(token);
  return { authorization: `Bearer ${token}` };
}

const limitHeaders = (response: Response) => ({
  limit: Number(response.headers.get('ratelimit-limit')),
  remaining: Number(response.headers.get('ratelimit-remaining')),
  reset: Number(response.headers.get('ratelimit-reset')),
});

/** Sends `count` requests one after another (the counter is what is under test) and returns them. */
async function burst(count: number, send: (i: number) => Promise<Response>): Promise<Response[]> {
  const responses: Response[] = [];
  for (let i = 0; i < count; i += 1) responses.push(await send(i));
  return responses;
}

async function expectRateLimited(response: Response): Promise<void> {
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
  expect(limitHeaders(response).remaining).toBe(0);
  await expectProblem(response, 429, 'rate_limited');
}

describe.skipIf(EXTERNAL_STACK)('rate limits', () => {
  it('when a customer spends its budget, then the headers count down and the next request gets 429 with Retry-After', async () => {
    const headers = await asCustomer(`cus_rl_${randomUUID().slice(0, 8)}`);
    const allowed = await burst(CUSTOMER_LIMIT, () => call('/orders', { from: '127.0.0.1', headers }));
    expect(allowed.map((r) => r.status)).toEqual(Array(CUSTOMER_LIMIT).fill(200));
    expect(allowed.map((r) => limitHeaders(r).remaining)).toEqual(Array.from({ length: CUSTOMER_LIMIT }, (_, i) => CUSTOMER_LIMIT - 1 - i));
    for (const response of allowed) {
      expect(limitHeaders(response).limit).toBe(CUSTOMER_LIMIT);
      expect(limitHeaders(response).reset).toBeGreaterThanOrEqual(1);
      expect(limitHeaders(response).reset).toBeLessThanOrEqual(WINDOW_S);
    }
    await expectRateLimited(await call('/orders', { from: '127.0.0.1', headers }));
  });

  it('when one customer is limited, then another customer on the same address is not', async () => {
    const spent = await asCustomer(`cus_rl_${randomUUID().slice(0, 8)}`);
    await burst(CUSTOMER_LIMIT, () => call('/orders', { from: '127.0.0.1', headers: spent }));
    await expectRateLimited(await call('/orders', { from: '127.0.0.1', headers: spent }));
    const other = await call('/orders', { from: '127.0.0.1', headers: await asCustomer(`cus_rl_${randomUUID().slice(0, 8)}`) });
    expect(other.status).toBe(200);
    expect(limitHeaders(other)).toMatchObject({ limit: CUSTOMER_LIMIT, remaining: CUSTOMER_LIMIT - 1 });
  });

  it('when counts are kept, then they live in Redis under the stack namespace', async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await redis.connect();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${stack.namespace}:ratelimit*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      expect(keys.some((key) => key.includes('ratelimit:customer'))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('when an anonymous address (or a token guesser) spends its budget, then it gets 429 instead of 401', async () => {
    const from = '127.0.0.3';
    const guesses = await burst(ANONYMOUS_LIMIT, (i) => call('/orders', { from, headers: { authorization: `Bearer guess.number.${i}` } }));
    expect(guesses.map((r) => r.status)).toEqual(Array(ANONYMOUS_LIMIT).fill(401));
    expect(guesses.map((r) => limitHeaders(r).limit)).toEqual(Array(ANONYMOUS_LIMIT).fill(ANONYMOUS_LIMIT));
    await expectRateLimited(await call('/orders', { from }));
    expect((await call('/healthz', { from })).status).toBe(200); // probes are never limited
  });

  it('when an untrusted client spoofs a new X-Forwarded-For on every request, then it gets no fresh budget', async () => {
    const from = '127.0.0.4';
    const spoofed = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` });
    const answers = await burst(ANONYMOUS_LIMIT, (i) => call('/openapi.json', { from, headers: spoofed(i) }));
    expect(answers.map((r) => r.status)).toEqual(Array(ANONYMOUS_LIMIT).fill(200));
    expect(answers.map((r) => limitHeaders(r).remaining)).toEqual([4, 3, 2, 1, 0]);
    await expectRateLimited(await call('/openapi.json', { from, headers: spoofed(ANONYMOUS_LIMIT) }));
  });

  it('when the trusted proxy forwards clients, then each forwarded client has its own budget', async () => {
    const via = (client: string, spoof?: string) => ({ from: PROXY, headers: { 'x-forwarded-for': spoof ? `${spoof}, ${client}` : client } });
    const first = await burst(ANONYMOUS_LIMIT, () => call('/openapi.json', via('198.51.100.7')));
    expect(first.map((r) => r.status)).toEqual(Array(ANONYMOUS_LIMIT).fill(200));
    await expectRateLimited(await call('/openapi.json', via('198.51.100.7')));
    // What the client itself put in front of the proxy's entry does not count either.
    await expectRateLimited(await call('/openapi.json', via('198.51.100.7', '192.0.2.99')));
    const second = await call('/openapi.json', via('198.51.100.8'));
    expect(second.status).toBe(200);
    expect(limitHeaders(second).remaining).toBe(ANONYMOUS_LIMIT - 1);
  });
});

describe.skipIf(EXTERNAL_STACK)('CORS when origins are configured', () => {
  it('when an allowed origin calls, then it is allowed; another origin gets no CORS header', async () => {
    const headers = await asCustomer(`cus_cors_${randomUUID().slice(0, 8)}`);
    const allowed = await call('/orders', { from: '127.0.0.5', headers: { ...headers, origin: SHOP } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SHOP);
    const other = await call('/orders', { from: '127.0.0.5', headers: { ...headers, origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when an allowed origin preflights a POST with Idempotency-Key, then the preflight allows it', async () => {
    const preflight = await call('/orders', {
      from: '127.0.0.5',
      method: 'OPTIONS',
      headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
  });
});

describe.skipIf(EXTERNAL_STACK)('logs', () => {
  it('when the suite has run, then no log line holds a bearer token', () => {
    expectNoSecretsInLogs(stack, { values: [...sentTokens] });
  });
});
