import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPaymentProvider } from '../../services/payment-provider/app.js';
import { loadPaymentProviderConfig } from '../../services/payment-provider/config.js';
import type { RunningService } from '../../shared/startup/running-service.js';

/**
 * The mock payment provider, in-process, over the real local Postgres, each instance in its own
 * `<namespace>payment_provider` schema (dropped afterwards). Requests go through Node's fetch.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const API_KEY = 'sk_test_local_provider_key'; // the config's default key

interface Started {
  service: RunningService;
  schema: string;
}

async function start(faults: boolean): Promise<Started> {
  const namespace = `t${randomBytes(4).toString('hex')}_`;
  const service = await startPaymentProvider(
    loadPaymentProviderConfig({
      NAMESPACE: namespace,
      PORT: '0',
      METRICS_PORT: '0',
      DATABASE_URL,
      FAULT_INJECTION_ENABLED: faults ? 'true' : 'false',
      LOG_LEVEL: 'warn',
    }),
  );
  return { service, schema: `${namespace}payment_provider` };
}

let provider: Started;
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
db.on('error', () => undefined);
const toDrop: Started[] = [];

beforeAll(async () => {
  provider = await start(true);
  toDrop.push(provider);
});

afterEach(async () => {
  if (provider) await call('PUT', '/_faults', {});
});

afterAll(async () => {
  for (const started of toDrop) {
    await started.service.stop().catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS "${started.schema}" CASCADE`);
  }
  await db.end();
});

interface Call {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** A request with the API key (unless the headers override it); reads the whole body. */
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base: Started = provider,
): Promise<Call> {
  const response = await fetch(`${base.service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const key = () => ({ 'idempotency-key': randomUUID() });

async function count(table: 'payments' | 'refunds' | 'idempotency_keys', where: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${provider.schema}".${table} WHERE ${where}`, params);
  return rows[0]?.n ?? -1;
}

const charge = (overrides: Record<string, unknown> = {}) => ({
  amount: '12.3',
  currency: 'USD',
  source: 'tok_visa',
  customer: 'cus_1',
  description: 'test',
  order_id: randomUUID(),
  ...overrides,
});

async function paid(amount: string): Promise<{ id: string; amount: string }> {
  const response = await call('POST', '/payments/create', charge({ amount }), key());
  expect(response.status).toBe(200);
  return response.json;
}

describe('mock payment provider: authentication', () => {
  it.each([
    ['no Authorization header', undefined],
    ['an empty Authorization header', ''],
    ['a wrong Bearer key', 'Bearer sk_test_wrong_key'],
    ['the right key but not as Bearer', `Basic ${API_KEY}`],
  ])('when a request has %s, then 401 authentication_error and nothing is charged', async (_name, authorization) => {
    const body = charge();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const post = await fetch(`${provider.service.url}/payments/create`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(post.status).toBe(401);
    expect(await post.json()).toEqual({
      error: { type: 'authentication_error', code: 'invalid_api_key', message: 'Invalid API key provided.' },
    });
    const list = await fetch(`${provider.service.url}/payments`, { headers });
    expect(list.status).toBe(401);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });
});

describe('mock payment provider: charges', () => {
  it('when tok_visa is charged "12.3" USD, then 200 with a succeeded payment that GET /payments/:id and the list by order_id find', async () => {
    const body = charge();
    const before = Date.now();
    const response = await call('POST', '/payments/create', body);
    expect(response.status).toBe(200);
    const payment = response.json;
    expect(payment).toEqual({
      id: expect.stringMatching(/^pay_[0-9a-f]{24}$/),
      object: 'payment',
      status: 'succeeded',
      amount: '12.30',
      currency: 'USD',
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      customer: 'cus_1',
      description: 'test',
      order_id: body.order_id,
      amount_refunded: '0.00',
      failure_code: null,
      source: { brand: 'visa' },
    });
    expect(new Date(payment.created).toISOString()).toBe(payment.created);
    expect(Math.abs(Date.parse(payment.created) - before)).toBeLessThan(60_000);

    const found = await call('GET', `/payments/${payment.id}`);
    expect(found.status).toBe(200);
    expect(found.json).toEqual(payment);

    const list = await call('GET', `/payments?order_id=${encodeURIComponent(body.order_id)}`);
    expect(list.status).toBe(200);
    expect(list.json).toEqual({ object: 'list', data: [payment], has_more: false });
  });

  it('when an unknown payment id is fetched, then 404 resource_missing', async () => {
    const response = await call('GET', '/payments/pay_doesnotexist');
    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
  });

  it.each([
    ['tok_chargeDeclined', 'card_declined'],
    ['tok_insufficientFunds', 'insufficient_funds'],
  ])('when %s is charged, then 402 %s and a failed payment is recorded (visible by order_id)', async (source, code) => {
    const body = charge({ source });
    const response = await call('POST', '/payments/create', body);
    expect(response.status).toBe(402);
    const { error } = response.json as { error: { type: string; code: string; payment_id: string } };
    expect(error).toMatchObject({ type: 'card_error', code, payment_id: expect.stringMatching(/^pay_/) });
    const list = await call('GET', `/payments?order_id=${encodeURIComponent(body.order_id)}`);
    expect(list.json.data).toEqual([
      expect.objectContaining({ id: error.payment_id, status: 'failed', failure_code: code, amount: '12.30', order_id: body.order_id }),
    ]);
    expect(await count('payments', "order_id = $1 AND status = 'failed'", [body.order_id])).toBe(1);
  });

  it('when an unknown card token is charged, then 400 token_invalid (param source) and nothing is recorded', async () => {
    const body = charge({ source: 'tok_nope' });
    const response = await call('POST', '/payments/create', body);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', code: 'token_invalid', param: 'source' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it.each([
    ['too many decimals for USD ("1.999")', { amount: '1.999' }, 'amount'],
    ['a negative amount ("-1")', { amount: '-1' }, 'amount'],
    ['a non-numeric amount ("abc")', { amount: 'abc' }, 'amount'],
    ['a zero amount ("0")', { amount: '0' }, 'amount'],
    ['a JSON number as amount', { amount: 12.3 }, 'amount'],
    ['an unknown currency ("XXX")', { currency: 'XXX' }, 'currency'],
    ['a decimal JPY amount ("1.5")', { amount: '1.5', currency: 'JPY' }, 'amount'],
    ['an unknown field', { card_number: '4242424242424242' }, 'card_number'],
  ])('when the charge has %s, then 400 parameter_invalid and nothing is recorded', async (_name, patch, param) => {
    const body = charge(patch);
    const response = await call('POST', '/payments/create', body);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_invalid' } });
    if (param) expect(response.json.error.param).toBe(param);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it('when the charge lacks a required field, then 400 parameter_missing naming it and nothing is recorded', async () => {
    const body = charge({ customer: undefined });
    const response = await call('POST', '/payments/create', body);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', code: 'parameter_missing', param: 'customer' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it('when the body is not JSON, then 400 parameter_invalid', async () => {
    const response = await fetch(`${provider.service.url}/payments/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"amount":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'parameter_invalid' } });
  });
});

describe('mock payment provider: idempotency', () => {
  it('when a charge is repeated with the same key and body, then the identical body is replayed with Idempotent-Replayed: true and one ledger row exists', async () => {
    const body = charge();
    const headers = key();
    const first = await call('POST', '/payments/create', body, headers);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same body, other key order: canonicalised, so it is the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await call('POST', '/payments/create', reordered, headers);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json).toEqual(first.json);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
    expect(await count('idempotency_keys', 'key = $1', [headers['idempotency-key']])).toBe(1);
  });

  /**
   * Regression: the stored response used to be a `jsonb` column, which reorders object keys, so a
   * replay was equal only after parsing (fixed by migration 002: response_body is `json`).
   */
  it('when a charge is replayed by its key, then the body is byte-identical to the first answer', async () => {
    const body = charge();
    const headers = key();
    const first = await call('POST', '/payments/create', body, headers);
    const second = await call('POST', '/payments/create', body, headers);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.text).toBe(first.text);
  });

  it('when a decline is repeated with the same key, then the 402 is replayed and one failed payment exists', async () => {
    const body = charge({ source: 'tok_chargeDeclined' });
    const headers = key();
    const first = await call('POST', '/payments/create', body, headers);
    const second = await call('POST', '/payments/create', body, headers);
    expect([first.status, second.status]).toEqual([402, 402]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json).toEqual(first.json);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when a key is reused with another body, then 422 idempotency_key_reused and no second payment', async () => {
    const headers = key();
    const body = charge();
    expect((await call('POST', '/payments/create', body, headers)).status).toBe(200);
    const other = { ...body, amount: '99.00' };
    const response = await call('POST', '/payments/create', other, headers);
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({ error: { type: 'idempotency_error', code: 'idempotency_key_reused' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when an Idempotency-Key is longer than 255 characters, then 400 idempotency_key_invalid', async () => {
    const body = charge();
    const response = await call('POST', '/payments/create', body, { 'idempotency-key': 'k'.repeat(256) });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { code: 'idempotency_key_invalid' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it('when 20 POSTs with one key arrive concurrently, then all answer 200 with the same payment id and the ledger holds exactly one row', async () => {
    const body = charge();
    const headers = key();
    const responses = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/payments/create', body, headers)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const ids = new Set(responses.map((r) => r.json.id as string));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });
});

describe('mock payment provider: refunds', () => {
  it('when a payment is refunded in full, then 200 refund for the whole amount and amount_refunded equals amount', async () => {
    const payment = await paid('10.00');
    const refund = await call('POST', '/refunds', { payment: payment.id }, key());
    expect(refund.status).toBe(200);
    expect(refund.json).toMatchObject({ object: 'refund', payment: payment.id, amount: '10.00', currency: 'USD', status: 'succeeded' });
    expect(refund.json.id).toMatch(/^re_/);
    expect((await call('GET', `/payments/${payment.id}`)).json).toMatchObject({ amount: '10.00', amount_refunded: '10.00' });
  });

  it('when a payment is refunded in part and then for the remainder, then both succeed; over-refunding is 400 amount_too_large; a refund after the full one is 400 charge_already_refunded', async () => {
    const payment = await paid('10.00');
    const part = await call('POST', '/refunds', { payment: payment.id, amount: '4.00' });
    expect(part.status).toBe(200);
    expect(part.json).toMatchObject({ object: 'refund', amount: '4.00' });

    const over = await call('POST', '/refunds', { payment: payment.id, amount: '6.01' });
    expect(over.status).toBe(400);
    expect(over.json).toMatchObject({ error: { code: 'amount_too_large' } });

    const rest = await call('POST', '/refunds', { payment: payment.id });
    expect(rest.status).toBe(200);
    expect(rest.json).toMatchObject({ amount: '6.00' });

    const again = await call('POST', '/refunds', { payment: payment.id });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ error: { code: 'charge_already_refunded' } });
    const againPart = await call('POST', '/refunds', { payment: payment.id, amount: '0.01' });
    expect(againPart.status).toBe(400);
    expect(againPart.json).toMatchObject({ error: { code: 'charge_already_refunded' } });

    expect((await call('GET', `/payments/${payment.id}`)).json).toMatchObject({ amount_refunded: '10.00' });
    const refunds = await call('GET', `/refunds?payment=${payment.id}`);
    expect(refunds.json.data).toHaveLength(2);
    expect(await count('refunds', 'payment_id = $1', [payment.id])).toBe(2);
  });

  it('when a refund is over the whole amount at once, then 400 amount_too_large and nothing is refunded', async () => {
    const payment = await paid('5.00');
    const over = await call('POST', '/refunds', { payment: payment.id, amount: '5.01' });
    expect(over.status).toBe(400);
    expect(over.json).toMatchObject({ error: { code: 'amount_too_large' } });
    expect(await count('refunds', 'payment_id = $1', [payment.id])).toBe(0);
  });

  it('when a failed payment or an unknown payment is refunded, then 400 charge_not_refundable / 404 resource_missing', async () => {
    const declined = await call('POST', '/payments/create', charge({ source: 'tok_chargeDeclined' }));
    const failedId = declined.json.error.payment_id as string;
    const notRefundable = await call('POST', '/refunds', { payment: failedId });
    expect(notRefundable.status).toBe(400);
    expect(notRefundable.json).toMatchObject({ error: { code: 'charge_not_refundable' } });
    const missing = await call('POST', '/refunds', { payment: 'pay_missing' });
    expect(missing.status).toBe(404);
  });

  it('when 10 full refunds race under different keys, then exactly one succeeds, the rest are 400 charge_already_refunded, and amount_refunded equals amount', async () => {
    const payment = await paid('5.00');
    const responses = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/refunds', { payment: payment.id }, key())));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.json).toMatchObject({ amount: '5.00' });
    for (const r of responses.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error: { code: 'charge_already_refunded' } });
    }
    expect(await count('refunds', 'payment_id = $1', [payment.id])).toBe(1);
    const after = await call('GET', `/payments/${payment.id}`);
    expect(after.json.amount_refunded).toBe(after.json.amount);
    expect(after.json.amount_refunded).toBe('5.00');
  });
});

describe('mock payment provider: fault injection', () => {
  it('when commit_then_fail is "500", then the charge answers 500; after clearing faults the same key replays the success and the ledger holds one payment', async () => {
    expect((await call('PUT', '/_faults', { commit_then_fail: '500' })).json).toEqual({ commit_then_fail: '500' });
    const body = charge();
    const headers = key();
    const failed = await call('POST', '/payments/create', body, headers);
    expect(failed.status).toBe(500);
    expect(failed.json).toMatchObject({ error: { type: 'api_error', code: 'injected_fault' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1); // committed despite the 500

    expect((await call('PUT', '/_faults', {})).json).toEqual({});
    const retry = await call('POST', '/payments/create', body, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json).toMatchObject({ status: 'succeeded', order_id: body.order_id, amount: '12.30' });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when error_rate is 1, then 500 and nothing is committed (neither payment nor key)', async () => {
    await call('PUT', '/_faults', { error_rate: 1 });
    const body = charge();
    const headers = key();
    const response = await call('POST', '/payments/create', body, headers);
    expect(response.status).toBe(500);
    expect(response.json).toMatchObject({ error: { code: 'injected_fault' } });
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(0);
    expect(await count('idempotency_keys', 'key = $1', [headers['idempotency-key']])).toBe(0);
    // The key stays usable once the fault is gone.
    await call('PUT', '/_faults', {});
    const retry = await call('POST', '/payments/create', body, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('when latency_ms is 300, then a charge takes at least 300 ms', async () => {
    await call('PUT', '/_faults', { latency_ms: 300 });
    const started = performance.now();
    const response = await call('POST', '/payments/create', charge());
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(300);
  });

  it('when hang is set, then the provider never answers and a client AbortSignal.timeout(300) aborts the request', async () => {
    await call('PUT', '/_faults', { hang: true });
    const started = performance.now();
    const outcome = await fetch(`${provider.service.url}/payments/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(charge()),
      signal: AbortSignal.timeout(300),
    }).then(
      (response) => ({ answered: response.status }),
      (error: unknown) => ({ error: error as Error }),
    );
    expect(outcome).toHaveProperty('error');
    expect((outcome as { error: Error }).error.name).toBe('TimeoutError');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('when a fault setting is invalid, then PUT /_faults answers 400', async () => {
    const response = await call('PUT', '/_faults', { error_rate: 2 });
    expect(response.status).toBe(400);
    expect((await call('GET', '/_faults')).json).toEqual({});
  });

  it('when a provider runs with FAULT_INJECTION_ENABLED false, then /_faults answers 404', async () => {
    const plain = await start(false);
    toDrop.push(plain);
    const put = await call('PUT', '/_faults', { hang: true }, {}, plain);
    expect(put.status).toBe(404);
    expect(put.json).toMatchObject({ error: { code: 'resource_missing' } });
    expect((await call('GET', '/_faults', undefined, {}, plain)).status).toBe(404);
    // And it still charges normally.
    expect((await call('POST', '/payments/create', charge(), {}, plain)).status).toBe(200);
  });
});

describe('mock payment provider: listing', () => {
  /**
   * Regression: the `starting_after` cursor used to be re-read into a JS Date (millisecond
   * precision) while `created_at` is a microsecond timestamptz, so a payment from the same
   * millisecond as, but before, the cursor row was skipped. The cursor is now compared in SQL.
   */
  it('when payments are paged with starting_after, then a payment from the same millisecond is not skipped', async () => {
    const customer = `cus_page_${randomBytes(4).toString('hex')}`;
    // Two payments 100 µs apart within one millisecond (.1235 and .1234): the cursor of the newer
    // one becomes .123 once it passes through a JS Date, and .1234 < .123 is false.
    await db.query(
      `INSERT INTO "${provider.schema}".payments (id, customer, amount, currency, status, source_brand, created_at) VALUES
       ('pay_b_${customer}', $1, 1, 'USD', 'succeeded', 'visa', '2024-01-01T00:00:00.123500Z'),
       ('pay_a_${customer}', $1, 1, 'USD', 'succeeded', 'visa', '2024-01-01T00:00:00.123400Z')`,
      [customer],
    );
    const all = await call('GET', `/payments?customer=${customer}`);
    expect(all.json.data.map((p: { id: string }) => p.id)).toEqual([`pay_b_${customer}`, `pay_a_${customer}`]);
    const first = await call('GET', `/payments?customer=${customer}&limit=1`);
    expect(first.json).toMatchObject({ has_more: true, data: [{ id: `pay_b_${customer}` }] });
    const second = await call('GET', `/payments?customer=${customer}&limit=1&starting_after=pay_b_${customer}`);
    expect(second.json.data.map((p: { id: string }) => p.id)).toEqual([`pay_a_${customer}`]);
  });
});
