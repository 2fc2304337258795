import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../logging/logger.js';
import type { RetryOptions } from '../resilience/retry-policy.js';
import { HTTPClient } from './http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from './http-errors.js';
import { timeRequests, type RequestTiming } from './request-timing.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/**
 * One real server for the file, on 127.0.0.1:0:
 * - `/flaky/<token>`: 503 the first time a token is asked, 200 after;
 * - `/hang`: no answer until the client gives up, or 504 after 5 s at the latest (so it holds nothing for long);
 * - anything else: 200 with `{ path }`.
 */
let server: http.Server;
let baseUrl: string;
/** A port nothing listens on: a server was opened there and closed. */
let refusedUrl: string;
const asked = new Map<string, number>();
const clients: HTTPClient[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      const n = (asked.get(path) ?? 0) + 1;
      asked.set(path, n);
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/hang') {
        const bound = setTimeout(() => answer(504, {}), 5_000);
        res.on('close', () => clearTimeout(bound));
        return;
      }
      if (path.startsWith('/flaky/') && n === 1) return answer(503, { error: 'down' });
      answer(200, { path });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((resolve) => closed.close(resolve));
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: { url?: string; timeoutMs?: number; retry?: RetryOptions } = {}) {
  const created = new HTTPClient({
    baseUrl: options.url ?? baseUrl,
    apiKey: 'sk_test_timing',
    timeoutMs: options.timeoutMs ?? 2_000,
    retry: options.retry ?? { maxAttempts: 1 },
    logger: silent,
  });
  clients.push(created);
  return created;
}

/** Times `c`'s requests; `reported(n)` resolves once n timings came, and fails after 2 s. */
function timed(c: HTTPClient) {
  const timings: RequestTiming[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const stop = timeRequests(c, (timing) => {
    timings.push(timing);
    for (const w of waiters.filter((w) => timings.length >= w.n)) w.resolve();
  });
  const reported = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (timings.length >= n) return resolve();
      const late = setTimeout(() => reject(new Error(`${timings.length} timings reported, ${n} awaited`)), 2_000);
      waiters.push({ n, resolve: () => (clearTimeout(late), resolve()) });
    });
  return { timings, reported, stop };
}

/** Lets every continuation queued now run, e.g. a report that would come twice. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** The interceptors still registered on `c` (axios leaves null where one was ejected). */
const registered = (c: HTTPClient) => [c.interceptors.request.handlers?.filter(Boolean).length, c.interceptors.response.handlers?.filter(Boolean).length];

describe('timeRequests', () => {
  it('when a request is answered, then its attempt is reported once with the method, the route template, the status and no failure', async () => {
    const c = client();
    const { timings } = timed(c);
    await c.get('/payments/pay_3x9');
    await c.post('payments/create', { amount: '1.00' });
    await settled();
    expect(timings).toEqual([
      { method: 'GET', route: '/payments/{id}', status: 200, failure: undefined, seconds: expect.any(Number) },
      { method: 'POST', route: '/payments/create', status: 200, failure: undefined, seconds: expect.any(Number) },
    ]);
    for (const t of timings) expect(t.seconds).toBeGreaterThanOrEqual(0);
    for (const t of timings) expect(t.seconds).toBeLessThan(2);
  });

  it('when the base URL has a path of its own, then the route is the path below it, as the spans name it', async () => {
    const c = client({ url: `${baseUrl}/v1/` });
    const { timings } = timed(c);
    await c.get('/payments/pay_3x9');
    await settled();
    expect(timings.map((t) => t.route)).toEqual(['/payments/{id}']);
  });

  it('when a GET gets 503 then 200, then each attempt is reported with its own status, and the backoff between them is in neither', async () => {
    const c = client({ retry: { maxAttempts: 2, baseDelayMs: 400, jitter: 'none' } });
    const { timings } = timed(c);
    const started = performance.now();
    expect(await c.get('/flaky/ord_1a')).toEqual({ path: '/flaky/ord_1a' });
    const wholeCall = (performance.now() - started) / 1000;
    await settled();
    expect(timings.map(({ method, route, status, failure }) => ({ method, route, status, failure }))).toEqual([
      { method: 'GET', route: '/flaky/{id}', status: 503, failure: undefined },
      { method: 'GET', route: '/flaky/{id}', status: 200, failure: undefined },
    ]);
    expect(wholeCall).toBeGreaterThanOrEqual(0.39);
    for (const t of timings) expect(t.seconds).toBeLessThan(0.35);
  });

  it('when an attempt times out, then it is reported with failure timeout and no status', async () => {
    const c = client({ timeoutMs: 100 });
    const { timings, reported } = timed(c);
    expect(isHttpTimeoutError(await c.get('/hang').catch((e: unknown) => e))).toBe(true);
    // The timeout fails the call at once; axios's own rejection, which the interceptor sees, may follow.
    await reported(1);
    await settled();
    expect(timings).toEqual([{ method: 'GET', route: '/hang', status: undefined, failure: 'timeout', seconds: expect.any(Number) }]);
    expect(timings[0]?.seconds).toBeGreaterThanOrEqual(0.09);
  });

  it('when the caller aborts an attempt, then it is reported as cancelled, not as a timeout', async () => {
    const c = client();
    const { timings, reported } = timed(c);
    const controller = new AbortController();
    const call = c.get('/hang', { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    expect(await call).toMatchObject({ message: 'shutting down' });
    await reported(1);
    expect(timings).toEqual([{ method: 'GET', route: '/hang', status: undefined, failure: 'cancelled', seconds: expect.any(Number) }]);
  });

  it('when the connection is refused, then each attempt is reported with failure network and no status', async () => {
    const c = client({ url: refusedUrl, retry: { maxAttempts: 2, baseDelayMs: 1, jitter: 'none' } });
    const { timings, reported } = timed(c);
    const error = await c.get('/payments/pay_3x9').catch((e: unknown) => e);
    expect(isHttpNetworkError(error) && error.errorCode).toBe('ECONNREFUSED');
    await reported(2);
    await settled();
    expect(timings.map(({ method, route, status, failure }) => ({ method, route, status, failure }))).toEqual([
      { method: 'GET', route: '/payments/{id}', status: undefined, failure: 'network' },
      { method: 'GET', route: '/payments/{id}', status: undefined, failure: 'network' },
    ]);
  });

  it('when the function timeRequests returned is called, then both its interceptors are removed and nothing more is reported', async () => {
    const c = client();
    const { timings, stop } = timed(c);
    expect(registered(c)).toEqual([1, 1]);
    await c.get('/payments/pay_1');
    expect(timings).toHaveLength(1);
    stop();
    expect(registered(c)).toEqual([0, 0]);
    await c.get('/payments/pay_2');
    expect(isHttpStatusError(await c.get('/flaky/gone_2').catch((e: unknown) => e))).toBe(true);
    await settled();
    expect(timings).toHaveLength(1);
  });
});
