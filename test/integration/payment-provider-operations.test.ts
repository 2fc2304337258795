import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pg from 'pg';
import winston from 'winston';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPaymentProvider } from '../../services/payment-provider/app.js';
import { loadPaymentProviderConfig } from '../../services/payment-provider/config.js';
import { createLogger } from '../../shared/logging/logger.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The mock provider's operational edges, in-process over the real local Postgres: faults that
 * leave requests unanswered and stop(), Idempotency-Key expiry and scoping, list parameters,
 * concurrent partial refunds, and what its log lines carry (never a token or the API key).
 * Each instance lives in its own random schema, dropped afterwards.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const API_KEY = 'sk_test_operations_key_1';

interface Instance {
  service: RunningService;
  schema: string;
  key: string;
  lines: string[];
}

const db = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
db.on('error', () => undefined);
const started: Instance[] = [];

/** An instance logging at debug into `lines`; `namespace` lets two instances share one ledger. */
async function start(options: { key?: string; namespace?: string; faults?: boolean } = {}): Promise<Instance> {
  const namespace = options.namespace ?? `t${randomBytes(4).toString('hex')}_`;
  const key = options.key ?? API_KEY;
  const lines: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ service: 'payment-provider', level: 'debug', transport: new winston.transports.Stream({ stream }) });
  const service = await startPaymentProvider(
    loadPaymentProviderConfig({
      NAMESPACE: namespace,
      PORT: '0',
      METRICS_PORT: '0',
      DATABASE_URL,
      PAYMENT_PROVIDER_API_KEY: key,
      FAULT_INJECTION_ENABLED: options.faults === false ? 'false' : 'true',
    }),
    { logger },
  );
  const instance = { service, schema: `${namespace}payment_provider`, key, lines };
  started.push(instance);
  return instance;
}

let provider: Instance;

beforeAll(async () => {
  provider = await start();
});

afterEach(async () => {
  await call('PUT', '/_faults', {});
});

afterAll(async () => {
  for (const instance of started) await instance.service.stop().catch(() => undefined);
  for (const schema of new Set(started.map((instance) => instance.schema))) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.end();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, on: Instance = provider) {
  const response = await fetch(`${on.service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${on.key}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

const idempotencyKey = () => ({ 'idempotency-key': randomUUID() });
const charge = (overrides: Record<string, unknown> = {}) => ({
  amount: '10.00',
  currency: 'USD',
  source: 'tok_visa',
  customer: 'cus_ops',
  description: null,
  order_id: randomUUID(),
  ...overrides,
});

async function count(table: 'payments' | 'refunds', where: string, params: unknown[], schema = provider.schema): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".${table} WHERE ${where}`, params);
  return rows[0]?.n ?? -1;
}

/** A POST that is expected to get no answer: resolves with the client-side error. */
async function unanswered(instance: Instance, path: string, body: unknown, headers: Record<string, string>, timeoutMs: number) {
  return fetch(`${instance.service.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${instance.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  }).then(
    (response) => ({ answered: response.status }),
    (error: unknown) => ({ error: error as Error }),
  );
}

describe('mock payment provider: unanswered requests', () => {
  it('when commit_then_fail is "timeout", then the client times out, yet a look-up by order_id finds the payment and a retry with the key replays it', async () => {
    await call('PUT', '/_faults', { commit_then_fail: 'timeout' });
    const body = charge();
    const headers = idempotencyKey();
    const outcome = await unanswered(provider, '/payments/create', body, headers, 500);
    expect(outcome).toMatchObject({ error: { name: 'TimeoutError' } });
    const list = await call('GET', `/payments?order_id=${body.order_id}`);
    expect(list.json.data).toEqual([expect.objectContaining({ status: 'succeeded', order_id: body.order_id })]);
    // Still faulted: a replay is answered anyway, which is how a client recovers the outcome.
    const retry = await call('POST', '/payments/create', body, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json.id).toBe(list.json.data[0].id);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when faults match "refunds" only, then charges are untouched and a refund commits before its 500', async () => {
    await call('PUT', '/_faults', { commit_then_fail: '500', match: 'refunds' });
    const payment = await call('POST', '/payments/create', charge(), idempotencyKey());
    expect(payment.status).toBe(200);
    const refund = await call('POST', '/refunds', { payment: payment.json.id, amount: '4.00' }, idempotencyKey());
    expect(refund.status).toBe(500);
    expect(refund.json).toMatchObject({ error: { type: 'api_error' } });
    expect((await call('GET', `/payments/${payment.json.id}`)).json.amount_refunded).toBe('4.00');
    expect((await call('GET', `/refunds?payment=${payment.json.id}`)).json.data).toHaveLength(1);
  });

  it('when a request hangs, then stop() drops it at once and the client sees the connection close', async () => {
    const instance = await start();
    await call('PUT', '/_faults', { hang: true }, {}, instance);
    const pending = unanswered(instance, '/payments/create', charge(), {}, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request reaches the provider
    const stopping = performance.now();
    await instance.service.stop();
    expect(performance.now() - stopping).toBeLessThan(2_000);
    const outcome = await pending;
    expect(outcome).toHaveProperty('error');
    expect((outcome as { error: Error }).error.name).not.toBe('TimeoutError');
  });
});

describe('mock payment provider: Idempotency-Key lifetime and scope', () => {
  it('when a key is older than 24 hours, then it is claimed afresh: another body makes a new payment, not a 422', async () => {
    const headers = idempotencyKey();
    const first = await call('POST', '/payments/create', charge(), headers);
    expect(first.status).toBe(200);
    await db.query(`UPDATE "${provider.schema}".idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [
      headers['idempotency-key'],
    ]);
    const second = await call('POST', '/payments/create', charge({ amount: '20.00' }), headers);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.json.id).not.toBe(first.json.id);
  });

  it('when two API keys use the same Idempotency-Key on one ledger, then each gets its own payment', async () => {
    const namespace = provider.schema.replace(/payment_provider$/, '');
    const other = await start({ key: 'sk_test_operations_key_2', namespace });
    const headers = idempotencyKey();
    const body = charge();
    const mine = await call('POST', '/payments/create', body, headers);
    const theirs = await call('POST', '/payments/create', body, headers, other);
    expect([mine.status, theirs.status]).toEqual([200, 200]);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.json.id).not.toBe(mine.json.id);
    expect(await count('payments', 'order_id = $1', [body.order_id])).toBe(2);
    // Each key is still idempotent within its own scope.
    expect((await call('POST', '/payments/create', body, headers, other)).json.id).toBe(theirs.json.id);
  });
});

describe('mock payment provider: lists and refunds under concurrency', () => {
  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['customer=a&customer=b', 'customer'],
    ['starting_after=pay_missing', 'starting_after'],
  ])('when GET /payments has %s, then 400 naming %s', async (query, param) => {
    const response = await call('GET', `/payments?${query}`);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: { type: 'invalid_request_error', param } });
  });

  it('when refunds are paged with limit 1, then has_more and starting_after walk them newest first', async () => {
    const payment = (await call('POST', '/payments/create', charge(), idempotencyKey())).json;
    const ids: string[] = [];
    for (const amount of ['1.00', '2.00']) ids.unshift((await call('POST', '/refunds', { payment: payment.id, amount })).json.id);
    const first = await call('GET', `/refunds?payment=${payment.id}&limit=1`);
    expect(first.json).toMatchObject({ object: 'list', has_more: true, data: [{ id: ids[0] }] });
    const second = await call('GET', `/refunds?payment=${payment.id}&limit=1&starting_after=${ids[0]}`);
    expect(second.json).toMatchObject({ has_more: false, data: [{ id: ids[1] }] });
  });

  it('when 8 partial refunds of 3.00 race on a 10.00 payment, then exactly 3 succeed and amount_refunded is 9.00', async () => {
    const payment = (await call('POST', '/payments/create', charge(), idempotencyKey())).json;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/refunds', { payment: payment.id, amount: '3.00' }, idempotencyKey())),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    for (const r of responses.filter((r) => r.status !== 200)) expect(r.json).toMatchObject({ error: { code: 'amount_too_large' } });
    expect((await call('GET', `/payments/${payment.id}`)).json.amount_refunded).toBe('9.00');
    expect(await count('refunds', 'payment_id = $1', [payment.id])).toBe(3);
  });
});

describe('mock payment provider: logs', () => {
  it('when charges, declines and a bad key pass through, then each request is logged with its Request-Id and no line holds a token or the API key', async () => {
    const ok = await call('POST', '/payments/create', charge({ source: 'tok_mastercard' }));
    await call('POST', '/payments/create', charge({ source: 'tok_insufficientFunds' }));
    await call('GET', '/payments', undefined, { authorization: `Bearer ${API_KEY}_wrong` });
    const requestId = ok.headers.get('request-id');
    expect(requestId).toMatch(/^req_[0-9a-f]{16}$/);
    // 'close' listeners log after the answer: wait for the three request lines.
    await waitFor(async () => provider.lines.filter((l) => l.includes('"message":"request"')).length >= 3, { what: 'the request log lines' });
    const line = provider.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.request_id === requestId);
    expect(line).toMatchObject({ message: 'request', method: 'POST', path: '/payments/create', status: 200 });
    const leaks = provider.lines.filter((l) => /tok_[A-Za-z]+|sk_test_operations_key|Bearer /.test(l));
    expect(leaks).toEqual([]);
  });
});
