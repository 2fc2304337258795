import { randomUUID } from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOrderService } from '../../services/order-service/app.js';
import { newEvent } from '../../shared/contracts/events.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { authHeader } from '../support/tokens.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The read path on two order-service instances sharing one namespace (as two processes would):
 * the read cache (memory, then Redis) dropped by changes committed anywhere, one load for many
 * readers of a cold key, conditional GETs, and a client waiting for an order's next change.
 */
let stack: TestStack;
let second: RunningOrderService;
let first: OrderApi;
let other: OrderApi;
const CUSTOMER = `cus_read_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  stack = await TestStack.start({ CACHE_ORDERS_TTL_MS: '60000', CACHE_PRODUCTS_TTL_MS: '60000' });
  second = await stack.startOrderServiceInstance();
  first = new OrderApi(stack, CUSTOMER);
  other = new OrderApi({ orderApi: second.url }, CUSTOMER);
}, 120_000);

afterAll(async () => {
  if (!EXTERNAL_STACK) await stack?.setProviderFaults({}).catch(() => undefined);
  await second?.stop();
  await stack?.stop();
});

/** A counter of the second instance's metrics, by its labels. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const { values } = await second.runtime.metrics.getSingleMetric(name)!.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

const json = async <T>(response: Response): Promise<T> => {
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};
type Product = { sku: string; available: number };
const available = async (api: OrderApi, sku: string) => (await json<{ data: Product[] }>(await api.request('GET', '/products'))).data.find((p) => p.sku === sku)!.available;

describe.skipIf(EXTERNAL_STACK)('the read path on two instances', () => {
  it('when an instance starts, then it has loaded the catalog: its first read of it is a hit', async () => {
    expect(await metric('cache_loads_total', { cache: 'products' })).toBe(1);
    expect(await metric('cache_requests_total', { cache: 'products' })).toBe(0);
    await json(await other.request('GET', '/products'));
    expect(await metric('cache_requests_total', { cache: 'products', result: 'hit' })).toBe(1);
    expect(await metric('cache_loads_total', { cache: 'products' })).toBe(1);
  });

  it('when an ended order is cached, then another customer asking for it gets 404, from the cache as from Postgres', async () => {
    const order = await first.settled((await first.place()).id);
    await other.get(order.id);
    const hits = await metric('cache_requests_total', { cache: 'orders', result: 'hit' });
    const stranger = new OrderApi({ orderApi: second.url }, `cus_stranger_${randomUUID().slice(0, 8)}`);
    const refused = await stranger.request('GET', `/orders/${order.id}`);
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toContain(CUSTOMER);
    // It was the cached entry that was refused, not a read that found nothing.
    expect(await metric('cache_requests_total', { cache: 'orders', result: 'hit' })).toBe(hits + 1);
  });

  it('when an ended order or the catalog is cached and a saga event changes them, then the next read on either instance shows the change', async () => {
    const order = await first.settled((await first.place(orderBody({ items: [{ sku: 'BOOK-SAGAS', quantity: 1 }] }))).id);
    expect(order.status).toBe('completed');
    // Cached on both (each reads it once), and the catalog too.
    await first.get(order.id);
    await other.get(order.id);
    const stockBefore = await available(other, 'BOOK-SAGAS');
    expect(await available(first, 'BOOK-SAGAS')).toBe(stockBefore);
    const hitsBefore = await metric('cache_requests_total', { cache: 'orders', result: 'hit' });
    expect((await other.get(order.id)).history).toHaveLength(order.history.length);
    expect(await metric('cache_requests_total', { cache: 'orders', result: 'hit' })).toBe(hitsBefore + 1);

    // A saga event for the order, applied by whichever instance takes it: its history grows and
    // the stock read model moves. No instance is told but through Postgres.
    const release = newEvent('inventory.released', { order_id: order.id, items: [{ sku: 'BOOK-SAGAS', quantity: 1 }], reason: 'cancelled' }, { correlationId: order.id });
    await stack.broker.publish('inventory.released', release, { messageId: release.id, type: release.type });
    await waitFor(() => stack.handled('order-service', release.id), { what: 'the event to be applied' });

    for (const api of [first, other]) {
      expect((await api.get(order.id)).history.map((entry) => entry.event_id)).toContain(release.id);
      expect(await available(api, 'BOOK-SAGAS')).toBe(stockBefore + 1);
    }
  });

  it('when 100 readers miss a cold key at once, then one load from Postgres answers them all', async () => {
    const order = await first.settled((await first.place()).id);
    // Cold everywhere: changes that alter nothing still drop the order and the catalog, from every
    // instance's memory and from Redis, once their announcement has arrived.
    const dropped = { orders: await metric('cache_invalidations_total', { cache: 'orders' }), products: await metric('cache_invalidations_total', { cache: 'products' }) };
    await stack.db.query(`UPDATE ${stack.table('order-service', 'orders')} SET status = status WHERE id = $1`, [order.id]);
    await stack.db.query(`UPDATE ${stack.table('order-service', 'product_stock')} SET available = available WHERE sku = 'MUG-LOGO'`);
    for (const cache of ['orders', 'products'] as const) {
      await waitFor(async () => (await metric('cache_invalidations_total', { cache })) > dropped[cache] || undefined, { what: `the ${cache} entry to be dropped` });
    }
    for (const [cache, path] of [
      ['orders', `/orders/${order.id}`],
      ['products', '/products'],
    ] as const) {
      const loadsBefore = await metric('cache_loads_total', { cache });
      const answers = await Promise.all(Array.from({ length: 100 }, () => other.request('GET', path)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
      const bodies = new Set(await Promise.all(answers.map((answer) => answer.text())));
      expect(bodies.size).toBe(1);
      expect(await metric('cache_loads_total', { cache }), `${cache}: loads for 100 readers`).toBe(loadsBefore + 1);
    }
  });

  it('when a client has the current ETag, then 304 with no body; after a change, 200 with a new ETag', async () => {
    const order = await first.settled((await first.place()).id);
    for (const path of [`/orders/${order.id}`, '/orders', '/products']) {
      const answer = await first.request('GET', path);
      const etag = answer.headers.get('etag');
      expect(etag, path).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(answer.headers.get('cache-control')).toBe('private, no-cache');
      // On either instance: the ETag is the body's, not the instance's.
      const again = await other.request('GET', path, undefined, { 'if-none-match': etag! });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
      expect((await other.request('GET', path, undefined, { 'if-none-match': '"something-else"' })).status).toBe(200);
    }
    const productsTag = (await first.request('GET', '/products')).headers.get('etag')!;
    await first.settled((await first.place()).id); // stock moved
    expect((await other.request('GET', '/products', undefined, { 'if-none-match': productsTag })).status).toBe(200);
  });

  it('when a client waits for an order that another instance changes, then it is answered with the change long before its wait is up', async () => {
    // A slow provider holds the charge: the order waits in `reserved` while the client waits on it.
    await stack.setProviderFaults({ latency_ms: 3_000, match: 'payments' });
    const placed = await first.place();
    const before = await waitFor(async () => {
      const answer = await other.request('GET', `/orders/${placed.id}`);
      const body = (await answer.json()) as { status: string };
      return body.status === 'reserved' ? answer.headers.get('etag') : undefined;
    }, { what: 'the order to be reserved' });

    const waitsBefore = await metric('order_waits', {});
    let answered = false;
    const waiting = other.request('GET', `/orders/${placed.id}?wait=20`, undefined, { 'if-none-match': before! }).finally(() => (answered = true));
    await waitFor(async () => (await metric('order_waits', {})) > waitsBefore || undefined, { what: 'the client to wait on the second instance' });
    // Still waiting: nothing has changed yet.
    expect(answered).toBe(false);
    // The change: a cancellation on the first instance.
    const cancel = await first.request('POST', `/orders/${placed.id}/cancel`);
    expect(cancel.status).toBe(202);
    const changedAt = Date.now();
    const answer = await waiting;
    const answeredAt = Date.now();
    await stack.setProviderFaults({});
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { status: string }).status).toBe('cancelled');
    expect(answer.headers.get('etag')).not.toBe(before);
    // Well before the 20 s; how soon is a figure, not an assertion (npm run bench:read measures it).
    expect(answeredAt - changedAt).toBeLessThan(5_000);
    process.stdout.write(`[read-path] the waiting client on the other instance was answered ${answeredAt - changedAt} ms after the cancel's 202\n`);
    expect(await metric('order_waits', {})).toBe(waitsBefore);
  });

  it('when nothing changes during the wait, then 304 once it is up; a wait beyond the maximum is refused', async () => {
    const order = await first.settled((await first.place()).id);
    const etag = (await other.request('GET', `/orders/${order.id}`)).headers.get('etag')!;
    const started = Date.now();
    const answer = await other.request('GET', `/orders/${order.id}?wait=1`, undefined, { 'if-none-match': etag });
    expect(answer.status).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // Without If-None-Match: the order as it is when the time is up.
    expect((await other.request('GET', `/orders/${order.id}?wait=1`)).status).toBe(200);
    for (const wait of ['0', '31', 'soon']) {
      const refused = await other.request('GET', `/orders/${order.id}?wait=${wait}`);
      expect(refused.status, wait).toBe(400);
    }
    // Another customer waiting on it learns nothing: 404 at once.
    expect((await new OrderApi({ orderApi: second.url }, 'cus_someone_else').request('GET', `/orders/${order.id}?wait=5`)).status).toBe(404);
  });

  it('when the change feed loses its connection, then it listens again and drops everything cached, since changes went unheard', async () => {
    const order = await first.settled((await first.place()).id);
    await other.get(order.id);
    await other.get(order.id); // cached on the second instance
    const loadsBefore = await metric('cache_loads_total', { cache: 'orders' });
    const relistened = () => stack.logs.lines.filter((line) => line.includes('change feed listening again')).length;
    const before = relistened();
    const { rows } = await stack.db.query(`SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1`, [
      `${stack.namespace}order_service.changes`,
    ]);
    expect(rows.length, 'both instances listen').toBe(2);
    await waitFor(async () => relistened() >= before + 2 || undefined, { what: 'both feeds to listen again' });
    await other.get(order.id);
    expect(await metric('cache_loads_total', { cache: 'orders' }), 'loaded again after the resync').toBe(loadsBefore + 1);
  });

  it('when a client accepts br or gzip, then a large answer comes compressed and the bytes before and after are counted; a small one, or a client that accepts neither, gets it as it is', async () => {
    // Orders that have ended: the page stays the same from one request to the next.
    const placed = await Promise.all(Array.from({ length: 12 }, () => first.place()));
    await Promise.all(placed.map((order) => first.settled(order.id)));
    /** A GET on the second instance as raw bytes, with the headers it answered. */
    const raw = async (path: string, acceptEncoding?: string) => {
      const headers = { ...(await authHeader(CUSTOMER)), ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) };
      return new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        http
          .get(`${second.url}${path}`, { headers }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
    };
    const plain = await raw('/orders?limit=100');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const page = JSON.parse(plain.body.toString('utf8')) as { data: unknown[] };
    expect(page.data.length).toBeGreaterThanOrEqual(12);
    const wireBefore = await metric('http_server_response_body_bytes_total', { stage: 'wire', content_encoding: 'br' });
    const bodyBefore = await metric('http_server_response_body_bytes_total', { stage: 'body', content_encoding: 'br' });

    const br = await raw('/orders?limit=100', 'br;q=1, gzip;q=0.5');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(JSON.parse(zlib.brotliDecompressSync(br.body).toString('utf8'))).toEqual(page);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    const gzip = await raw('/orders?limit=100', 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(gzip.body).toString('utf8'))).toEqual(page);

    expect(await metric('http_server_response_body_bytes_total', { stage: 'wire', content_encoding: 'br' })).toBe(wireBefore + br.body.length);
    expect(await metric('http_server_response_body_bytes_total', { stage: 'body', content_encoding: 'br' })).toBe(bodyBefore + plain.body.length);
    // Under the threshold: as it is, whatever the client accepts.
    const small = await raw(`/orders/${randomUUID()}`, 'br, gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});
