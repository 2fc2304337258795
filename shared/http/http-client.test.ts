import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCapture } from '../../test/support/log-capture.js';
import { HTTPClient } from './http-client.js';
import { isHttpNetworkError, isHttpStatusError, isHttpTimeoutError } from './http-errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: http.Server[] = [];
const logger = new LogCapture().loggerFor('http-client-test');

/** A real local server; `requests` records what it received. */
async function serve(handler: Handler) {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const client = (baseUrl: string, timeoutMs = 2_000) =>
  new HTTPClient({ baseUrl, apiKey: 'sk_test_key', timeoutMs, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, logger });

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('HTTPClient', () => {
  it('when paths are joined, then slashes collapse as in the Python client and auth and JSON headers are sent', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 200, { ok: true }));
    expect(await client(`${url}/v1/`).post('/payments/create', { amount: '1.00' })).toEqual({ ok: true });
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/v1/payments/create', body: '{"amount":"1.00"}' });
    expect(requests[0]?.headers).toMatchObject({ authorization: 'Bearer sk_test_key', 'content-type': 'application/json', accept: 'application/json' });
  });

  it('when the server answers 5xx then 200, then a GET is retried and succeeds', async () => {
    let calls = 0;
    const { url, requests } = await serve((_req, res) => ((calls += 1) === 1 ? json(res, 503, {}) : json(res, 200, { n: calls })));
    expect(await client(url).get('payments/1')).toEqual({ n: 2 });
    expect(requests).toHaveLength(2);
  });

  it.each([400, 402, 404, 422])('when the server answers %i, then it is not retried', async (status) => {
    const { url, requests } = await serve((_req, res) => json(res, status, { error: { code: 'x' } }));
    const error = await client(url).get('x').catch((e: unknown) => e);
    expect(isHttpStatusError(error) && error.status).toBe(status);
    expect(requests).toHaveLength(1);
  });

  it('when a POST fails with 503, then it is retried only if it carries an Idempotency-Key', async () => {
    const { url, requests } = await serve((_req, res) => json(res, 503, {}));
    await client(url).post('payments/create', {}).catch(() => undefined);
    expect(requests).toHaveLength(1);
    await client(url).post('payments/create', {}, { headers: { 'Idempotency-Key': 'k1' } }).catch(() => undefined);
    expect(requests).toHaveLength(4);
    expect(requests[3]?.headers['idempotency-key']).toBe('k1');
  });

  it('when the server answers 429 with Retry-After, then the client waits and retries', async () => {
    let calls = 0;
    const { url } = await serve((_req, res) => ((calls += 1) === 1 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, {})));
    await client(url).get('x');
    expect(calls).toBe(2);
  });

  it('when the server never answers, then the timeout aborts the request and closes its socket', async () => {
    let socketClosed!: Promise<void>;
    const { url } = await serve((req) => {
      socketClosed = new Promise((resolve) => req.socket.on('close', () => resolve()));
    });
    const started = Date.now();
    const error = await client(url, 200).post('slow', {}).catch((e: unknown) => e);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_500);
    await socketClosed;
  });

  it('when the connection is refused, then the error says the request was never sent', async () => {
    const { url, server } = await serve(() => undefined);
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const error = await client(url).post('payments/create', {}).catch((e: unknown) => e);
    expect(isHttpNetworkError(error) && error.sent).toBe(false);
  });
});
