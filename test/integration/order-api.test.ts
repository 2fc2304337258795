import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi, orderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
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

  it('when a SKU is unknown, then 422 unknown_sku and no order exists', async () => {
    await expectProblem(await api.request('POST', '/orders', orderBody({ items: [{ sku: 'NO-SUCH-THING', quantity: 1 }] })), 422, 'unknown_sku');
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
