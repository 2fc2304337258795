import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OrderApi, orderBody, type OrderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { expectNoSecretsInLogs } from '../support/secret-scan.js';
import { waitForQuiescence } from '../faults/quiescence.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { customerToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

/** Requirement 3: Idempotency-Key on POST /orders, against real Redis and Postgres. */
let stack: TestStack;
const clients: OrderApi[] = [];

beforeAll(async () => {
  vi.stubEnv('TEST_LOG_LEVEL', 'debug');
  stack = await TestStack.start();
});

afterAll(async () => {
  await stack?.stop();
  vi.unstubAllEnvs();
});

/** A client for a fresh customer, so that each test counts only its own orders. */
function newCustomer(): OrderApi {
  const api = new OrderApi(stack, `cus_idem_${randomUUID().slice(0, 8)}`);
  clients.push(api);
  return api;
}

const newKey = () => `idem-${randomUUID()}`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Orders in Postgres placed by `customer` under `key` (the table keeps the key's hash only). */
async function ordersFor(customer: string, key: string): Promise<string[]> {
  const { rows } = await stack.db.query(
    `SELECT id FROM ${stack.table('order-service', 'orders')} WHERE customer_id = $1 AND idempotency_key_hash = $2`,
    [customer, sha256(key)],
  );
  return rows.map((row) => row.id as string);
}

async function post(api: OrderApi, key: string, body: OrderBody | string = orderBody()) {
  const response = await api.request('POST', '/orders', body, { 'idempotency-key': key });
  return { response, text: await response.clone().text() };
}

describe('Idempotency-Key', () => {
  it('when the same key and body are sent again, then the first response is replayed byte for byte, even after the order moved on', async () => {
    const api = newCustomer();
    const key = newKey();
    const first = await post(api, key);
    expect(first.response.status).toBe(202);
    expect(first.response.headers.get('idempotent-replayed')).toBeNull();
    const order = JSON.parse(first.text) as { id: string; status: string };
    expect((await api.settled(order.id)).status).toBe('completed');

    const again = await post(api, key);
    expect(again.response.status).toBe(202);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(again.response.headers.get('location')).toBe(first.response.headers.get('location'));
    expect(again.response.headers.get('content-type')).toBe(first.response.headers.get('content-type'));
    expect(JSON.parse(again.text)).toMatchObject({ id: order.id, status: 'pending' });
    expect(await ordersFor(api.customerId, key)).toEqual([order.id]);
  });

  it('when the same body comes with its keys in another order, then it is the same request and replayed', async () => {
    const api = newCustomer();
    const key = newKey();
    const body = orderBody();
    const first = await post(api, key, body);
    const reordered = JSON.stringify({ shipping_address: body.shipping_address, payment_source: body.payment_source, currency: body.currency, items: body.items });
    const again = await post(api, key, reordered);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
  });

  it('when the same key comes with another body, then 422 idempotency_key_reused and still one order', async () => {
    const api = newCustomer();
    const key = newKey();
    const first = await post(api, key);
    expect(first.response.status).toBe(202);
    const other = await post(api, key, orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 3 }] }));
    await expectProblem(other.response, 422, 'idempotency_key_reused');
    expect(await ordersFor(api.customerId, key)).toEqual([JSON.parse(first.text).id]);
  });

  it('when the first request failed (unknown SKU), then the key is free for the corrected request', async () => {
    const api = newCustomer();
    const key = newKey();
    await expectProblem((await post(api, key, orderBody({ items: [{ sku: 'NO-SUCH-THING', quantity: 1 }] }))).response, 422, 'unknown_sku');
    const fixed = await post(api, key);
    expect(fixed.response.status).toBe(202);
    expect(fixed.response.headers.get('idempotent-replayed')).toBeNull();
    expect(await ordersFor(api.customerId, key)).toHaveLength(1);
  });

  it('when two customers use the same key, then each gets its own order (keys are scoped per customer)', async () => {
    const [alice, bob] = [newCustomer(), newCustomer()];
    const key = newKey();
    const a = await post(alice, key);
    const b = await post(bob, key);
    const c = await post(newCustomer(), key, orderBody({ items: [{ sku: 'STICKER-PACK', quantity: 1 }] }));
    for (const { response } of [a, b, c]) {
      expect(response.status).toBe(202);
      expect(response.headers.get('idempotent-replayed')).toBeNull();
    }
    const ids = [a, b, c].map(({ text }) => JSON.parse(text).id as string);
    expect(new Set(ids).size).toBe(3);
    expect(await ordersFor(alice.customerId, key)).toEqual([ids[0]]);
    expect(await ordersFor(bob.customerId, key)).toEqual([ids[1]]);
  });

  it('when a request with the key is still running, then another with the same key gets 409 (and one with another body 422)', async () => {
    const api = newCustomer();
    const key = newKey();
    const orders = stack.table('order-service', 'orders');
    // Earlier tests' sagas still in flight would update orders too and queue behind the lock below,
    // each holding one of order-service's few pooled connections, and could leave the request none:
    // let every event be published and applied first.
    const quiet = await waitForQuiescence({ namespace: stack.namespace, db: stack.db, table: (owner, name) => stack.table(owner, name), logLines: () => [] });
    expect(quiet.left).toEqual([]);
    // Holding a SHARE lock on the orders table parks the first request at its INSERT, after it has
    // claimed the key: "still running", deterministically, with no hook in the service.
    const lock = await stack.db.connect();
    let first: Promise<Awaited<ReturnType<typeof post>>> | undefined;
    try {
      await lock.query('BEGIN');
      await lock.query(`LOCK TABLE ${orders} IN SHARE MODE`);
      first = post(api, key);
      first.catch(() => undefined); // awaited below; keeps a failure here from going unhandled
      await waitFor(
        async () => {
          const { rowCount } = await stack.db.query(
            `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.relation = $1::regclass AND NOT l.granted AND a.query LIKE 'INSERT INTO orders%'`,
            [orders],
          );
          return rowCount === 1;
        },
        { timeoutMs: 10_000, what: 'the first request to wait at its INSERT' },
      );
      const second = await post(api, key);
      expect(second.response.headers.get('retry-after')).toBe('1');
      await expectProblem(second.response, 409, 'idempotency_key_in_use');
      await expectProblem((await post(api, key, orderBody({ currency: 'EUR' }))).response, 422, 'idempotency_key_reused');
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    const done = await first!;
    expect(done.response.status).toBe(202);
    const retry = await post(api, key);
    expect(retry.response.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(done.text);
    expect(await ordersFor(api.customerId, key)).toHaveLength(1);
  });

  it('when 50 requests with one key arrive at once, then exactly one order exists and every answer is that order (202) or 409', async () => {
    const api = newCustomer();
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(api, key)));

    const statuses = new Set(answers.map(({ response }) => response.status));
    expect([...statuses].every((status) => status === 202 || status === 409)).toBe(true);
    const accepted = answers.filter(({ response }) => response.status === 202);
    const conflicts = answers.filter(({ response }) => response.status === 409);
    expect(accepted.filter(({ response }) => response.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(new Set(accepted.map(({ text }) => text)).size).toBe(1);
    for (const { response } of conflicts) await expectProblem(response, 409, 'idempotency_key_in_use');

    const ids = await ordersFor(api.customerId, key);
    expect(ids).toHaveLength(1);
    expect(JSON.parse(accepted[0]!.text).id).toBe(ids[0]);
    const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE customer_id = $1`, [api.customerId]);
    expect(rows[0].n).toBe(1);
  });

  it.skipIf(EXTERNAL_STACK)('when the suite has run, then no log line holds an Idempotency-Key or a bearer token', async () => {
    const keys = clients.flatMap((api) => api.idempotencyKeys);
    const tokens = await Promise.all(clients.map((api) => customerToken(api.customerId)));
    expect(keys.length).toBeGreaterThan(50);
    expectNoSecretsInLogs(stack, { values: [...keys, ...tokens] });
  });
});
