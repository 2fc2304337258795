import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OrderApi, orderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { expectNoSecretsInLogs } from '../support/secret-scan.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { customerToken } from '../support/tokens.js';

/** Requirement 5: strict input. Every bad request is a 4xx problem with a stable type, never a 5xx. */
const CUSTOMER = `cus_bad_${randomUUID().slice(0, 8)}`;
let stack: TestStack;
let api: OrderApi;

beforeAll(async () => {
  vi.stubEnv('TEST_LOG_LEVEL', 'debug'); // the log scan covers every request line too
  // One test places 101 orders at once to page through them: a burst admission control would
  // (rightly) refuse part of; it is tested in api-admission.test.ts.
  stack = await TestStack.start({ ADMISSION_MAX_BACKLOG: 'off' });
  api = new OrderApi(stack, CUSTOMER);
});

afterAll(async () => {
  await stack?.stop();
  vi.unstubAllEnvs();
});

interface BadInput {
  name: string;
  method?: 'GET' | 'POST';
  path?: string;
  /** A value is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
}

const order = (patch: Record<string, unknown>) => ({ ...orderBody(), ...patch });
const line = (patch: Record<string, unknown>) => order({ items: [{ sku: 'MUG-LOGO', quantity: 1, ...patch }] });
const address = (patch: Record<string, unknown>) => order({ shipping_address: { ...orderBody().shipping_address, ...patch } });
/** The valid body as JSON text with `extra` added last (a repeated key wins), for keys an object literal cannot hold. */
const rawOrder = (extra: string) => `${JSON.stringify(orderBody()).slice(0, -1)},${extra}}`;
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const CASES: BadInput[] = [
  // Fields the server owns: prices and totals come from the catalog, ids and status from the server.
  { name: 'the body sets status', body: order({ status: 'completed' }), status: 400, type: 'validation_error' },
  { name: 'the body sets a total', body: order({ total: '0.01' }), status: 400, type: 'validation_error' },
  { name: 'the body sets customer_id', body: order({ customer_id: 'cus_someone_else' }), status: 400, type: 'validation_error' },
  { name: 'the body sets id', body: order({ id: randomUUID() }), status: 400, type: 'validation_error' },
  { name: 'a line sets unit_price', body: line({ unit_price: '0.01' }), status: 400, type: 'validation_error' },
  { name: 'the address has an unknown field', body: address({ phone: '+44 20 0000' }), status: 400, type: 'validation_error' },
  // Lines and quantities.
  { name: 'items are missing', body: { ...orderBody(), items: undefined }, status: 400, type: 'validation_error' },
  { name: 'items are empty', body: order({ items: [] }), status: 400, type: 'validation_error' },
  { name: 'items is an object', body: order({ items: { sku: 'MUG-LOGO', quantity: 1 } }), status: 400, type: 'validation_error' },
  { name: 'there are 51 lines (limit 50)', body: order({ items: Array.from({ length: 51 }, () => ({ sku: 'MUG-LOGO', quantity: 1 })) }), status: 400, type: 'validation_error' },
  { name: 'there are 10 000 empty lines', body: order({ items: Array.from({ length: 10_000 }, () => ({})) }), status: 400, type: 'validation_error' },
  { name: 'a quantity is 0', body: line({ quantity: 0 }), status: 400, type: 'validation_error' },
  { name: 'a quantity is negative', body: line({ quantity: -1 }), status: 400, type: 'validation_error' },
  { name: 'a quantity is fractional', body: line({ quantity: 1.5 }), status: 400, type: 'validation_error' },
  { name: 'a quantity is 101 (limit 100)', body: line({ quantity: 101 }), status: 400, type: 'validation_error' },
  { name: 'a quantity is 2^53', body: line({ quantity: 2 ** 53 }), status: 400, type: 'validation_error' },
  { name: 'a quantity overflows to Infinity', body: rawOrder('"items":[{"sku":"MUG-LOGO","quantity":1e400}]'), status: 400, type: 'validation_error' },
  { name: 'a quantity is a string', body: line({ quantity: '2' }), status: 400, type: 'validation_error' },
  { name: 'a SKU is lower case', body: line({ sku: 'mug-logo' }), status: 400, type: 'validation_error' },
  // Other fields.
  { name: 'the currency is unknown', body: order({ currency: 'XXX' }), status: 400, type: 'validation_error' },
  { name: 'a card number replaces the token', body: order({ payment_source: '4242424242424242' }), status: 400, type: 'validation_error' },
  { name: 'the address has no country', body: order({ shipping_address: { name: 'A', line1: 'B', city: 'C', postal_code: 'D' } }), status: 400, type: 'validation_error' },
  { name: 'the country is lower case', body: address({ country: 'gb' }), status: 400, type: 'validation_error' },
  { name: 'the name holds a NUL character', body: address({ name: 'Ada\u0000Lovelace' }), status: 400, type: 'validation_error' },
  { name: 'the name is 101 characters', body: address({ name: 'x'.repeat(101) }), status: 400, type: 'validation_error' },
  // Prototype pollution attempts.
  { name: 'the body has a __proto__ key', body: rawOrder('"__proto__":{"polluted":"yes"}'), status: 400, type: 'validation_error' },
  { name: 'the body has a constructor.prototype key', body: rawOrder('"constructor":{"prototype":{"polluted":"yes"}}'), status: 400, type: 'validation_error' },
  { name: 'a line has a __proto__ key', body: rawOrder('"items":[{"sku":"MUG-LOGO","quantity":1,"__proto__":{"polluted":"yes"}}]'), status: 400, type: 'validation_error' },
  // Body shape, size and type.
  { name: 'the JSON is cut off', body: '{"items": [', status: 400, type: 'malformed_json' },
  { name: 'the JSON has a trailing comma', body: '{"currency":"USD",}', status: 400, type: 'malformed_json' },
  { name: 'the body is JSON null', body: 'null', status: 400, type: 'malformed_json' },
  { name: 'the body is a JSON string', body: '"order"', status: 400, type: 'malformed_json' },
  { name: 'the body is a JSON array', body: '[]', status: 400, type: 'validation_error' },
  { name: 'the body is empty', body: '', status: 400, type: 'validation_error' },
  { name: 'the JSON is nested 40 000 deep', body: `{"items":${'['.repeat(40_000)}${']'.repeat(40_000)}}`, status: 400, type: 'validation_error' },
  { name: 'the body is over 100 kB', body: order({ padding: 'x'.repeat(150_000) }), status: 413, type: 'payload_too_large' },
  { name: 'the body is text/plain', body: 'items=1', headers: { 'content-type': 'text/plain' }, status: 415, type: 'unsupported_media_type' },
  { name: 'the body is a form', body: 'items=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, type: 'unsupported_media_type' },
  { name: 'the body has no Content-Type', body: new TextEncoder().encode(JSON.stringify(orderBody())), headers: { 'content-type': '' }, status: 415, type: 'unsupported_media_type' },
  { name: 'the JSON is declared latin1', body: orderBody(), headers: { 'content-type': 'application/json; charset=latin1' }, status: 415, type: 'unsupported_media_type' },
  { name: 'the body has an unknown Content-Encoding', body: orderBody(), headers: { 'content-encoding': 'compress' }, status: 415, type: 'unsupported_media_type' },
  // Idempotency-Key header.
  { name: 'the Idempotency-Key is missing', body: orderBody(), headers: { 'idempotency-key': '' }, status: 400, type: 'idempotency_key_missing' },
  { name: 'the Idempotency-Key has 256 characters', body: orderBody(), headers: { 'idempotency-key': 'k'.repeat(256) }, status: 400, type: 'idempotency_key_invalid' },
  // Ids in paths.
  { name: 'an order id is not a UUID', method: 'GET', path: '/orders/not-a-uuid', status: 404, type: 'not_found' },
  { name: 'an order id is unknown', method: 'GET', path: `/orders/${randomUUID()}`, status: 404, type: 'not_found' },
  { name: 'an order id is SQL', method: 'GET', path: `/orders/${encodeURIComponent("' OR '1'='1")}`, status: 404, type: 'not_found' },
  { name: 'an order id is badly percent-encoded', method: 'GET', path: '/orders/%ZZ', status: 400, type: 'validation_error' },
  { name: 'an order id has a UUID with a suffix', method: 'GET', path: `/orders/${randomUUID()}x`, status: 404, type: 'not_found' },
  { name: 'a cancelled id is not a UUID', path: '/orders/not-a-uuid/cancel', status: 404, type: 'not_found' },
  { name: 'an unknown order is cancelled', path: `/orders/${randomUUID()}/cancel`, status: 404, type: 'not_found' },
  { name: 'the route does not exist', method: 'GET', path: '/nowhere', status: 404, type: 'not_found' },
  // Listing.
  { name: 'the limit is not a number', method: 'GET', path: '/orders?limit=abc', status: 400, type: 'validation_error' },
  { name: 'the limit is negative', method: 'GET', path: '/orders?limit=-1', status: 400, type: 'validation_error' },
  { name: 'the limit has 7 digits', method: 'GET', path: '/orders?limit=1000000', status: 400, type: 'validation_error' },
  { name: 'the limit is given twice', method: 'GET', path: '/orders?limit=1&limit=2', status: 400, type: 'validation_error' },
  { name: 'the query has an unknown parameter', method: 'GET', path: '/orders?status=completed', status: 400, type: 'validation_error' },
  { name: 'the cursor is not base64 JSON', method: 'GET', path: '/orders?cursor=%25%25%25', status: 400, type: 'validation_error' },
  { name: 'the cursor lacks its fields', method: 'GET', path: `/orders?cursor=${cursor({ id: 1 })}`, status: 400, type: 'validation_error' },
  { name: 'the cursor is in year 0000', method: 'GET', path: `/orders?cursor=${cursor({ created_at: '0000-01-01T00:00:00.000Z', id: randomUUID() })}`, status: 400, type: 'validation_error' },
  { name: 'the cursor time overflows year 9999', method: 'GET', path: `/orders?cursor=${cursor({ created_at: '9999-12-31T23:59:59-23:59', id: randomUUID() })}`, status: 400, type: 'validation_error' },
  { name: 'the cursor id is a urn:uuid', method: 'GET', path: `/orders?cursor=${cursor({ created_at: new Date().toISOString(), id: `urn:uuid:${randomUUID()}` })}`, status: 400, type: 'validation_error' },
];

/** Sends one bad request as the customer: JSON, the customer's token and a fresh key unless overridden. */
async function send(c: BadInput): Promise<Response> {
  const method = c.method ?? 'POST';
  const headers: Record<string, string> = {
    authorization: `Bearer ${await customerToken(CUSTOMER)}`,
    'content-type': 'application/json',
    ...(method === 'POST' ? { 'idempotency-key': `bad-input-${randomUUID()}` } : {}),
    ...c.headers,
  };
  const sent = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ''));
  if (sent['idempotency-key']) api.idempotencyKeys.push(sent['idempotency-key']);
  const body = c.body === undefined ? undefined : typeof c.body === 'string' || c.body instanceof Uint8Array ? c.body : JSON.stringify(c.body);
  return fetch(`${stack.orderApi}${c.path ?? '/orders'}`, { method, headers: sent, ...(body === undefined ? {} : { body }) });
}

async function orderCount(): Promise<number> {
  const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE customer_id = $1`, [CUSTOMER]);
  return rows[0].n as number;
}

describe('order API bad input', () => {
  it('when the table is read, then it holds at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('when $name, then $status $type', async (c) => {
    const problem = await expectProblem(await send(c), c.status, c.type);
    // A rejected body says which fields are wrong.
    if (c.type === 'validation_error' && (c.method ?? 'POST') === 'POST') expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]));
  });

  it('when every bad request was answered, then none of them created an order', async () => {
    expect(await orderCount()).toBe(0);
  });

  it.skipIf(EXTERNAL_STACK)('when __proto__ and constructor keys were sent, then no prototype is polluted and the API still serves', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const placed = await api.place();
    expect((await api.get(placed.id)).id).toBe(placed.id);
  });

  it('when a body is exactly at the bounds (50 lines of quantity 100), then it is accepted', async () => {
    const items = Array.from({ length: 50 }, () => ({ sku: 'STICKER-PACK', quantity: 1 }));
    items[0] = { sku: 'STICKER-PACK', quantity: 100 };
    const response = await api.request('POST', '/orders', orderBody({ items }), { 'idempotency-key': `bad-input-${'k'.repeat(245)}` });
    expect(response.status).toBe(202);
  });

  it('when the limit is 0 or far above 100, then it is clamped to 1 and to 100', async () => {
    const lister = new OrderApi(stack, `cus_many_${randomUUID().slice(0, 8)}`);
    const body = orderBody({ items: [{ sku: 'STICKER-PACK', quantity: 1 }] });
    for (let batch = 0; batch < 101; batch += 10) {
      await Promise.all(Array.from({ length: Math.min(10, 101 - batch) }, () => lister.place(body)));
    }
    const page = async (query: string) => (await (await lister.request('GET', `/orders?${query}`)).json()) as { data: unknown[]; next_cursor: string | null };
    const one = await page('limit=0');
    expect(one.data).toHaveLength(1);
    expect(one.next_cursor).toEqual(expect.any(String));
    const clamped = await page('limit=999999');
    expect(clamped.data).toHaveLength(100);
    expect(clamped.next_cursor).toEqual(expect.any(String));
    expect((await page('')).data).toHaveLength(20);
    api.idempotencyKeys.push(...lister.idempotencyKeys);
  });

  it.skipIf(EXTERNAL_STACK)('when the suite has run, then no log line holds a card token, bearer token or Idempotency-Key', async () => {
    expect(stack.logs.lines.some((line) => line.includes('"message":"request"'))).toBe(true); // request lines were captured
    expectNoSecretsInLogs(stack, { values: [...api.idempotencyKeys, await customerToken(CUSTOMER)] });
  });
});
