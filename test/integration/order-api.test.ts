import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi, orderBody } from '../support/order-api.js';
import { expectNoSecretsInLogs } from '../support/secret-scan.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';

let stack: TestStack;
let api: OrderApi;

beforeAll(async () => {
  stack = await TestStack.start();
  api = new OrderApi(stack);
});

afterAll(async () => {
  await stack?.stop();
});

const problem = (type: string) => `urn:order-platform:problem:${type}`;

async function expectProblem(response: Response, status: number, type: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: problem(type), status });
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |node_modules/);
  return body;
}

describe('order API contract', () => {
  it('when an order is placed, then 202 carries the order and a Location that serves it', async () => {
    const response = await api.request('POST', '/orders', orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }, { sku: 'STICKER-PACK', quantity: 2 }] }));
    expect(response.status).toBe(202);
    const order = (await response.json()) as { id: string; total: string; items: { line_total: string }[] };
    expect(response.headers.get('location')).toBe(`/orders/${order.id}`);
    expect(order.total).toBe('18.00');
    expect(order.items.map((i) => i.line_total)).toEqual(['9.50', '8.50']);
    expect(JSON.stringify(order)).not.toContain('tok_visa');
    expect((await api.request('GET', response.headers.get('location') as string)).status).toBe(200);
  });

  it('when the client sends a price or a total, then the order is rejected: prices come from the catalog', async () => {
    const body = { ...orderBody(), total: '0.01' };
    await expectProblem(await api.request('POST', '/orders', body), 400, 'validation_error');
    const line = { ...orderBody(), items: [{ sku: 'MUG-LOGO', quantity: 1, unit_price: '0.01' }] };
    await expectProblem(await api.request('POST', '/orders', line), 400, 'validation_error');
  });

  it.each([
    ['no items', { items: [] }],
    ['a zero quantity', { items: [{ sku: 'MUG-LOGO', quantity: 0 }] }],
    ['a fractional quantity', { items: [{ sku: 'MUG-LOGO', quantity: 1.5 }] }],
    ['an unknown currency', { currency: 'XXX' }],
    ['a card number instead of a token', { payment_source: '4242424242424242' }],
    ['an address without a country', { shipping_address: { name: 'A', line1: 'B', city: 'C', postal_code: 'D' } }],
  ])('when the body has %s, then 400 validation_error', async (_name, patch) => {
    const body = await expectProblem(await api.request('POST', '/orders', { ...orderBody(), ...patch }), 400, 'validation_error');
    expect(body.errors).toEqual(expect.any(Array));
  });

  it('when a SKU is unknown, then 422 unknown_sku and no order exists', async () => {
    await expectProblem(await api.request('POST', '/orders', orderBody({ items: [{ sku: 'NO-SUCH-THING', quantity: 1 }] })), 422, 'unknown_sku');
  });

  it('when the JSON is malformed, the type is not JSON or the body too large, then 400, 415 and 413', async () => {
    await expectProblem(await api.request('POST', '/orders', '{"items": ['), 400, 'malformed_json');
    await expectProblem(await api.request('POST', '/orders', 'items=1', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    const huge = { ...orderBody(), padding: 'x'.repeat(150_000) };
    await expectProblem(await api.request('POST', '/orders', huge), 413, 'payload_too_large');
  });

  it('when an order id is not a UUID or unknown, then 404, never 500', async () => {
    await expectProblem(await api.request('GET', '/orders/not-a-uuid'), 404, 'not_found');
    await expectProblem(await api.request('GET', `/orders/${randomUUID()}`), 404, 'not_found');
    await expectProblem(await api.request('POST', `/orders/${randomUUID()}/cancel`), 404, 'not_found');
    await expectProblem(await api.request('GET', '/nowhere'), 404, 'not_found');
  });

  it("when another customer asks for an order, then 404 and the order is unchanged", async () => {
    const placed = await api.place();
    const stranger = new OrderApi(stack, 'cus_stranger');
    await expectProblem(await stranger.request('GET', `/orders/${placed.id}`), 404, 'not_found');
    await expectProblem(await stranger.request('POST', `/orders/${placed.id}/cancel`), 404, 'not_found');
    expect((await api.get(placed.id)).status).not.toBe('cancelled');
  });

  it('when orders are listed page by page, then every order of the customer appears once, newest first', async () => {
    const lister = new OrderApi(stack, `cus_pages_${randomUUID().slice(0, 8)}`);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await lister.place()).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const response = await lister.request('GET', `/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await response.json()) as { data: { id: string }[]; next_cursor: string | null };
      seen.push(...body.data.map((o) => o.id));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].reverse());
    const clamped = (await (await lister.request('GET', '/orders?limit=100000')).json()) as { data: unknown[] };
    expect(clamped.data).toHaveLength(5);
    await expectProblem(await lister.request('GET', '/orders?cursor=%%%'), 400, 'validation_error');
  });

  it('when the products are listed, then each has prices per currency and available stock', async () => {
    const response = await api.request('GET', '/products');
    const { data } = (await response.json()) as { data: { sku: string; prices: Record<string, string>; available: number }[] };
    expect(data.find((p) => p.sku === 'MUG-LOGO')).toMatchObject({ prices: { USD: '9.50', JPY: '1400' } });
    expect(data.every((p) => p.available >= 0)).toBe(true);
  });

  it('when health is asked, then /healthz is alive and /readyz reports every dependency ready', async () => {
    expect((await api.request('GET', '/healthz')).status).toBe(200);
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres_and_rabbitmq: true, redis: true } });
  });

  it.skipIf(EXTERNAL_STACK)('when requests were served, then no log line holds a card token, the provider key or a bearer token', () => {
    expectNoSecretsInLogs(stack);
  });
});
