import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogFields, Logger } from '../logging/logger.js';
import type { RetryOptions } from '../resilience/retry-policy.js';
import { HTTPClient } from './http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from './http-errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const API_KEY = 'sk_test_key_4242';
const servers: http.Server[] = [];
const clients: HTTPClient[] = [];
// Captured before any test fakes timers: lets a test give real I/O a moment while the clock stands still.
const realSetTimeout = globalThis.setTimeout;
const realPause = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

/** A real local server on port 0; `arrived(n)` resolves once it has received n requests. */
async function serve(handler: Handler) {
  const requests: Seen[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      for (const w of waiters.filter((w) => requests.length >= w.n)) w.resolve();
      handler(req, res, requests.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const arrived = (n: number) => new Promise<void>((resolve) => (requests.length >= n ? resolve() : waiters.push({ n, resolve })));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server, arrived };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** A Logger that keeps every line; `retried(n)` resolves at the n-th "retrying" warning. */
function recordingLogger() {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const retries = () => lines.filter((l) => l.message.includes('retrying')).length;
  const log = (level: string) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, ...(fields ? { fields } : {}) });
    for (const w of waiters.filter((w) => retries() >= w.n)) w.resolve();
  };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  const retried = (n: number) => new Promise<void>((resolve) => (retries() >= n ? resolve() : waiters.push({ n, resolve })));
  return { logger, lines, retried };
}

function client(baseUrl: string, options: { timeoutMs?: number; retry?: RetryOptions; logger?: Logger } = {}) {
  const created = new HTTPClient({
    baseUrl,
    apiKey: API_KEY,
    timeoutMs: options.timeoutMs ?? 2_000,
    retry: options.retry ?? { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    logger: options.logger ?? recordingLogger().logger,
  });
  clients.push(created);
  return created;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const c of clients.splice(0)) c.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('HTTPClient', () => {
  it('when paths are joined, then slashes collapse as in the Python client and auth and JSON headers are sent', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 200, { ok: true }));
    expect(await client(`${url}/v1//`).post('/payments/create', { amount: '1.00' })).toEqual({ ok: true });
    expect(await client(`${url}/v1`).get('payments', { params: { order_id: 'o 1', limit: 5 } })).toEqual({ ok: true });
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/v1/payments/create', body: '{"amount":"1.00"}' });
    expect(requests[1]).toMatchObject({ method: 'GET', url: '/v1/payments?order_id=o+1&limit=5' });
    expect(requests[0]?.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', accept: 'application/json' });
  });

  it('when the base URL ends with a slash and the path starts with one, then url() joins them with a single slash', () => {
    const c = client('http://127.0.0.1:1/v1/');
    expect(c.url('/payments/create')).toBe('http://127.0.0.1:1/v1/payments/create');
    expect(c.url('//payments')).toBe('http://127.0.0.1:1/v1/payments');
    expect(c.url('payments')).toBe('http://127.0.0.1:1/v1/payments');
  });

  it.each([500, 502, 503, 504])('when a GET gets %i then 200, then it is retried once and resolves with the body', async (status) => {
    const { url, requests } = await serve((_req, res, n) => (n === 1 ? json(res, status, { error: 'down' }) : json(res, 200, { ok: n })));
    expect(await client(url).get('/x')).toEqual({ ok: 2 });
    expect(requests.map((r) => r.url)).toEqual(['/x', '/x']);
  });

  it('when a GET keeps getting 503, then it stops after maxAttempts with the last HttpStatusError', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 503, { error: 'down' }));
    const error = await client(url).get('x').catch((e: unknown) => e);
    expect(isHttpStatusError(error) && [error.status, error.body]).toEqual([503, { error: 'down' }]);
    expect(requests).toHaveLength(3);
  });

  it('when a 429 carries Retry-After: 0, then it is retried at once, for a GET and for a keyed POST', async () => {
    const { url, requests } = await serve((_req, res, n) => (n % 2 === 1 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, { n })));
    expect(await client(url).get('x')).toEqual({ n: 2 });
    expect(await client(url).post('x', {}, { headers: { 'Idempotency-Key': 'k' } })).toEqual({ n: 4 });
    expect(requests).toHaveLength(4);
  });

  it('when a POST without Idempotency-Key gets 429 or a timeout, then it is not retried either', async () => {
    const { url, requests } = await serve((_req, res, n) => (n === 1 ? json(res, 429, {}, { 'retry-after': '0' }) : undefined));
    expect(isHttpStatusError(await client(url).post('x', {}).catch((e: unknown) => e))).toBe(true);
    expect(isHttpTimeoutError(await client(url, { timeoutMs: 100 }).post('x', {}).catch((e: unknown) => e))).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it('when the timeout fires, then it fires no earlier than timeoutMs, and a keyed retry sends the request again', async () => {
    const { url, requests } = await serve(() => undefined);
    const started = Date.now();
    const error = await client(url, { timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 5 } })
      .post('slow', {}, { headers: { 'Idempotency-Key': 'k' } })
      .catch((e: unknown) => e);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 150 - 10);
    expect(requests).toHaveLength(2);
  });

  it('when a GET keeps getting 5xx, then it is retried after delays that double and stop at the cap', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { url, requests, arrived } = await serve((_req, res, n) => (n < 3 ? json(res, 503, {}) : json(res, 200, { n })));
    const { logger, retried } = recordingLogger();
    const call = client(url, { logger, retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_500, jitter: 'none' } }).get('x');
    await retried(1);
    await vi.advanceTimersByTimeAsync(999);
    await realPause(30);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await arrived(2);
    await retried(2);
    await vi.advanceTimersByTimeAsync(1_499); // 2 000 capped at 1 500
    await realPause(30);
    expect(requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toEqual({ n: 3 });
  });

  it.each([
    ['delta seconds', () => '2', 2_000],
    ['an HTTP date', () => new Date(Date.now() + 3_000).toUTCString(), 3_000],
  ])('when a 429 carries Retry-After as %s, then the client waits that long before retrying', async (_kind, header, waitMs) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const { url, requests, arrived } = await serve((_req, res, n) => (n === 1 ? json(res, 429, {}, { 'retry-after': header() }) : json(res, 200, {})));
    const { logger, lines, retried } = recordingLogger();
    const call = client(url, { logger, retry: { baseDelayMs: 100, jitter: 'none' } }).get('x');
    await retried(1);
    expect(lines[0]?.fields).toMatchObject({ status: 429, delay_ms: waitMs });
    await vi.advanceTimersByTimeAsync(waitMs - 1);
    await realPause(30);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await arrived(2);
    await call;
  });

  it.each([400, 402, 404, 409, 422])('when the server answers %i, then neither a GET nor a keyed POST is retried', async (status) => {
    const { url, requests } = await serve((_req, res) => json(res, status, { error: { code: 'x' } }));
    const error = await client(url).get('x').catch((e: unknown) => e);
    expect(isHttpStatusError(error) && [error.status, error.body]).toEqual([status, { error: { code: 'x' } }]);
    await client(url).post('x', {}, { headers: { 'Idempotency-Key': 'k' } }).catch(() => undefined);
    expect(requests).toHaveLength(2);
  });

  it('when a POST fails with 503, then it is retried only if it carries an Idempotency-Key, with that same key', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 503, {}));
    await client(url).post('payments/create', {}).catch(() => undefined);
    expect(requests).toHaveLength(1);
    await client(url).post('payments/create', {}, { headers: { 'idempotency-key': 'k1' } }).catch(() => undefined);
    expect(requests.slice(1).map((r) => r.headers['idempotency-key'])).toEqual(['k1', 'k1', 'k1']);
  });

  it('when retryWhen rejects a transient failure, then that request is not retried', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 503, {}));
    await client(url).post('x', {}, { headers: { 'Idempotency-Key': 'k' }, retryWhen: () => false }).catch(() => undefined);
    expect(requests).toHaveLength(1);
  });

  it('when the server never answers, then the timeout aborts the request and the server sees its socket close', async () => {
    let socketClosed!: Promise<void>;
    const { url } = await serve((req) => {
      socketClosed = new Promise((resolve) => req.socket.on('close', () => resolve()));
    });
    const started = Date.now();
    const error = await client(url, { timeoutMs: 200, retry: { maxAttempts: 1 } }).post('slow', {}).catch((e: unknown) => e);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_500);
    await socketClosed;
  });

  it('when the caller aborts, then the request is cancelled with the caller’s reason, its socket closed, and not retried', async () => {
    let socketClosed!: Promise<void>;
    const { url, requests, arrived } = await serve((req) => {
      socketClosed = new Promise((resolve) => req.socket.on('close', () => resolve()));
    });
    const controller = new AbortController();
    const call = client(url).get('slow', { signal: controller.signal }).catch((e: unknown) => e);
    await arrived(1);
    controller.abort(new Error('shutting down'));
    expect(await call).toMatchObject({ message: 'shutting down' });
    await socketClosed;
    expect(requests).toHaveLength(1);
  });

  it('when the connection is refused, then the error says the request was never sent and carries no secret', async () => {
    const { url, server } = await serve(() => undefined);
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const { logger, lines } = recordingLogger();
    const error = await client(url, { logger }).post('payments/create', {}, { headers: { 'Idempotency-Key': 'k' } }).catch((e: unknown) => e);
    expect(isHttpNetworkError(error) && [error.sent, error.errorCode]).toEqual([false, 'ECONNREFUSED']);
    expect(lines).toHaveLength(2); // refused twice, retried twice: nothing was sent
    expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
    expect(JSON.stringify(lines, (_k, v: unknown) => (v instanceof Error ? inspect(v, { depth: 10 }) : v))).not.toContain(API_KEY);
  });

  it('when a timeout fires, then neither the error nor its cause chain holds the API key', async () => {
    const { url } = await serve(() => undefined);
    const error = await client(url, { timeoutMs: 50, retry: { maxAttempts: 1 } }).get('x').catch((e: unknown) => e);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
  });
});

describe('HTTPClient: interceptors', () => {
  it('when a request interceptor adds a header, then the server sees it on every attempt', async () => {
    const { url, requests } = await serve((_req, res, n) => (n === 1 ? json(res, 503, {}) : json(res, 200, { n })));
    const c = client(url);
    let attempts = 0;
    c.interceptors.request.use((config) => {
      attempts += 1;
      config.headers.set('X-Attempt', String(attempts));
      return config;
    });
    expect(await c.get('/payments/pay_1')).toEqual({ n: 2 });
    expect(requests.map((r) => r.headers['x-attempt'])).toEqual(['1', '2']);
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`); // the client's own headers stay
  });

  it('when the server answers non-2xx, then a response interceptor sees the answer, and the client fails the call after it', async () => {
    const { url } = await serve((_req, res) => json(res, 404, { error: { code: 'resource_missing' } }));
    const c = client(url);
    const seen: string[] = [];
    c.interceptors.response.use(
      (answer) => {
        seen.push(`answer ${answer.status} ${JSON.stringify(answer.data)}`);
        return answer;
      },
      (error: unknown) => {
        seen.push('failure');
        throw error;
      },
    );
    const error = await c.get('/payments/pay_404').catch((e: unknown) => e);
    expect(seen).toEqual(['answer 404 {"error":{"code":"resource_missing"}}']);
    expect(isHttpStatusError(error) && [error.status, error.body]).toEqual([404, { error: { code: 'resource_missing' } }]);
  });
});
