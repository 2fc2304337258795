import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiConformance, type OpenApiDocument } from '../support/openapi-conformance.js';
import { OrderApi, orderBody, type OrderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Admission control for POST /orders, against real Postgres, RabbitMQ and Redis: a small fixed
 * bound, and order-service started without its participants, so that accepted orders stay open
 * (pending) until the test lets the saga run. The tests build on each other, in order.
 */
const BOUND = 2;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

let stack: TestStack;
let redis: Redis;
let conformance: OpenApiConformance;
const api = () => new OrderApi(stack, 'cus_admission');
/** The orders accepted so far, with the key and the first answer of each. */
const accepted: { id: string; key: string; text: string }[] = [];
/** A request refused in the first test, retried in the last. */
let refused: { key: string; retryAfterS: number; at: number };

beforeAll(async () => {
  if (EXTERNAL_STACK) return;
  stack = await TestStack.start(
    { ADMISSION_MAX_BACKLOG: String(BOUND), ADMISSION_REFRESH_MS: '50' },
    { services: ['payment-provider', 'order-service'] },
  );
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  conformance = new OpenApiConformance((await (await fetch(`${stack.orderApi}/openapi.json`)).json()) as OpenApiDocument);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

async function post(key: string, body: OrderBody = orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] })) {
  const response = await api().request('POST', '/orders', body, { 'idempotency-key': key });
  return { response, text: await response.clone().text() };
}

/** What POST /orders may have left behind for `key`: order rows, order.created outbox rows, the Redis record. */
async function tracesOf(key: string) {
  const orders = await stack.db.query<{ id: string }>(
    `SELECT id FROM ${stack.table('order-service', 'orders')} WHERE customer_id = 'cus_admission' AND idempotency_key_hash = $1`,
    [sha256(key)],
  );
  const outbox = await stack.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${stack.table('order-service', 'outbox')} WHERE routing_key = 'order.created'`,
  );
  const record = await redis.exists(`${stack.namespace}:idempotency:${sha256('cus_admission')}:${sha256(key)}`);
  return { orders: orders.rows.length, orderCreatedEvents: outbox.rows[0]!.n, redisRecord: record === 1 };
}

const openOrders = async () =>
  (
    await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE status NOT IN ('completed', 'cancelled')`,
    )
  ).rows[0]!.n;

describe.skipIf(EXTERNAL_STACK)('admission control', () => {
  it('when the orders in progress reach the bound, then POST /orders answers 503 overloaded with Retry-After and writes nothing', async () => {
    for (let i = 0; i < BOUND; i += 1) {
      const key = `adm-${randomUUID()}`;
      const { response, text } = await post(key);
      expect(response.status).toBe(202);
      accepted.push({ id: (JSON.parse(text) as { id: string }).id, key, text });
    }
    expect(await openOrders()).toBe(BOUND);

    const key = `adm-${randomUUID()}`;
    const { response } = await post(key);
    const at = Date.now();
    await conformance.check('post', '/orders', response.clone());
    await expectProblem(response, 503, 'overloaded');
    const retryAfter = Number(response.headers.get('retry-after'));
    // Nothing has ended yet (no participant runs): the backlog is not draining, the longest wait.
    expect(retryAfter).toBe(30);
    // Answered before the rate limit counted it.
    expect(response.headers.get('ratelimit-remaining')).toBeNull();
    expect(await tracesOf(key)).toEqual({ orders: 0, orderCreatedEvents: BOUND, redisRecord: false });
    expect(await openOrders()).toBe(BOUND);
    refused = { key, retryAfterS: retryAfter, at };
  });

  it('when overloaded, then a retry of an accepted order is answered from its stored response, a new order is still refused, and a bad request gets its 4xx', async () => {
    const first = accepted[0]!;
    const replay = await post(first.key);
    expect(replay.response.status).toBe(202);
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
    // The same key with another body: the key's own answer (422), not a refusal.
    await expectProblem((await post(first.key, orderBody({ currency: 'EUR' }))).response, 422, 'idempotency_key_reused');
    await expectProblem((await post(`adm-${randomUUID()}`)).response, 503, 'overloaded');
    // What would be refused anyway is answered as it always is: no token 401, no key 400.
    const body = orderBody();
    await expectProblem(await api().request('POST', '/orders', body, { authorization: '' }), 401, 'unauthorized');
    await expectProblem(await api().request('POST', '/orders', body, { 'idempotency-key': '' }), 400, 'idempotency_key_missing');

    // Its Redis record gone, the key cannot be told from a new one without a write: refused too.
    const second = accepted[1]!;
    await redis.del(`${stack.namespace}:idempotency:${sha256('cus_admission')}:${sha256(second.key)}`);
    await expectProblem((await post(second.key)).response, 503, 'overloaded');
    expect((await tracesOf(second.key)).orders).toBe(1);
    expect(await openOrders()).toBe(BOUND);
  });

  it('when overloaded, then reads and cancels are served, and the slot a cancel frees takes the next order', async () => {
    const client = api();
    expect((await client.get(accepted[0]!.id)).status).toBe('pending');
    expect((await client.request('GET', '/orders')).status).toBe(200);
    expect((await client.request('GET', '/products')).status).toBe(200);
    await expectProblem((await post(`adm-${randomUUID()}`)).response, 503, 'overloaded');

    const cancelled = accepted.pop()!;
    const cancel = await client.request('POST', `/orders/${cancelled.id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(await openOrders()).toBe(BOUND - 1);

    const key = `adm-${randomUUID()}`;
    const { text } = await waitFor(
      async () => {
        const answer = await post(key);
        if (answer.response.status === 503) return undefined;
        expect(answer.response.status).toBe(202);
        return answer;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the freed slot to take an order' },
    );
    accepted.push({ id: (JSON.parse(text) as { id: string }).id, key, text });
    expect(await openOrders()).toBe(BOUND);
    await expectProblem((await post(`adm-${randomUUID()}`)).response, 503, 'overloaded');
  });

  it('when the participants drain the backlog, then the refused order, retried with its key within its Retry-After, is accepted and completes', async () => {
    for (const service of ['inventory-service', 'payment-service', 'shipping-service'] as const) await stack.startService(service);
    const client = api();
    for (const order of accepted) expect((await client.settled(order.id)).status).toBe('completed');

    const retried = await waitFor(
      async () => {
        const answer = await post(refused.key);
        if (answer.response.status === 503) return undefined;
        expect(answer.response.status).toBe(202);
        return answer;
      },
      { timeoutMs: Math.max(0, refused.at + refused.retryAfterS * 1000 - Date.now()), intervalMs: 100, what: 'the retry to be accepted' },
    );
    expect(Date.now() - refused.at).toBeLessThanOrEqual(refused.retryAfterS * 1000);
    const order = JSON.parse(retried.text) as { id: string };
    expect((await client.settled(order.id)).status).toBe('completed');
    expect(await tracesOf(refused.key)).toEqual({ orders: 1, orderCreatedEvents: BOUND + 2, redisRecord: true });
  });
});
