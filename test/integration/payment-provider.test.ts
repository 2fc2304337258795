import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProviderInstance } from '../support/provider-instance.js';

let provider: ProviderInstance;

beforeAll(async () => {
  provider = await ProviderInstance.start({ FAULT_INJECTION_ENABLED: 'true' });
});

afterEach(async () => {
  await provider.call('PUT', '/_faults', {});
});

afterAll(async () => {
  await provider?.stop();
});

const charge = (overrides: Record<string, unknown> = {}) => ({
  amount: '12.3',
  currency: 'USD',
  source: 'tok_visa',
  customer: 'cus_1',
  description: 'test',
  order_id: randomUUID(),
  ...overrides,
});

describe('mock payment provider', () => {
  it('when the API key is missing or wrong, then 401 authentication_error', async () => {
    for (const authorization of ['', 'Bearer wrong', 'Basic abc']) {
      const response = await provider.call('GET', '/payments', undefined, { authorization });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { type: 'authentication_error' } });
    }
  });

  it('when tok_visa is charged, then 200 with the payment, which GET and the list by order find', async () => {
    const body = charge();
    const response = await provider.call('POST', '/payments/create', body);
    expect(response.status).toBe(200);
    const payment = (await response.json()) as Record<string, string>;
    expect(payment).toMatchObject({ object: 'payment', status: 'succeeded', amount: '12.30', currency: 'USD', amount_refunded: '0.00' });
    expect(payment.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(payment)).not.toContain('tok_visa');
    expect(await (await provider.call('GET', `/payments/${payment.id}`)).json()).toEqual(payment);
    const list = (await (await provider.call('GET', `/payments?order_id=${body.order_id}`)).json()) as { data: unknown[] };
    expect(list.data).toEqual([payment]);
  });

  it.each([
    ['tok_chargeDeclined', 'card_declined'],
    ['tok_insufficientFunds', 'insufficient_funds'],
  ])('when %s is charged, then 402 %s and a failed payment in the ledger', async (source, code) => {
    const body = charge({ source });
    const response = await provider.call('POST', '/payments/create', body);
    expect(response.status).toBe(402);
    const { error } = (await response.json()) as { error: { type: string; code: string; payment_id: string } };
    expect(error).toMatchObject({ type: 'card_error', code });
    const list = (await (await provider.call('GET', `/payments?order_id=${body.order_id}`)).json()) as { data: { id: string; status: string }[] };
    expect(list.data).toEqual([expect.objectContaining({ id: error.payment_id, status: 'failed', failure_code: code })]);
  });

  it.each([
    ['an unknown token', { source: 'tok_nope' }, 'token_invalid'],
    ['too many decimals', { amount: '1.999' }, 'parameter_invalid'],
    ['a negative amount', { amount: '-1' }, 'parameter_invalid'],
    ['a zero amount', { amount: '0' }, 'parameter_invalid'],
    ['a float amount', { amount: 12.3 }, 'parameter_invalid'],
    ['an unknown currency', { currency: 'XXX' }, 'parameter_invalid'],
    ['an unknown field', { card_number: '4242' }, 'parameter_invalid'],
  ])('when the charge has %s, then 400 %s and nothing is recorded', async (_name, patch, code) => {
    const body = charge(patch);
    const response = await provider.call('POST', '/payments/create', body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code } });
    expect(await provider.count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it('when a request is repeated with its Idempotency-Key, then the first response is replayed and one payment exists', async () => {
    const body = charge();
    const key = { 'idempotency-key': randomUUID() };
    const first = await provider.call('POST', '/payments/create', body, key);
    const second = await provider.call('POST', '/payments/create', body, key);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    expect(await provider.count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when a key is reused with another body, then 422 idempotency_key_reused', async () => {
    const key = { 'idempotency-key': randomUUID() };
    await provider.call('POST', '/payments/create', charge(), key);
    const response = await provider.call('POST', '/payments/create', charge(), key);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: { type: 'idempotency_error', code: 'idempotency_key_reused' } });
  });

  it('when 20 requests with one key arrive at once, then all get the same payment and the ledger holds one', async () => {
    const body = charge();
    const key = { 'idempotency-key': randomUUID() };
    const responses = await Promise.all(Array.from({ length: 20 }, () => provider.call('POST', '/payments/create', body, key)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: string }[];
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await provider.count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when a payment is refunded in parts, then over-refunding and refunding twice are refused', async () => {
    const payment = (await (await provider.call('POST', '/payments/create', charge({ amount: '10.00' }))).json()) as { id: string };
    const part = await provider.call('POST', '/refunds', { payment: payment.id, amount: '4.00' });
    expect(await part.json()).toMatchObject({ object: 'refund', amount: '4.00', status: 'succeeded' });
    const over = await provider.call('POST', '/refunds', { payment: payment.id, amount: '6.01' });
    expect(await over.json()).toMatchObject({ error: { code: 'amount_too_large' } });
    const rest = await provider.call('POST', '/refunds', { payment: payment.id });
    expect(await rest.json()).toMatchObject({ amount: '6.00' });
    const again = await provider.call('POST', '/refunds', { payment: payment.id });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { code: 'charge_already_refunded' } });
    expect(await (await provider.call('GET', `/payments/${payment.id}`)).json()).toMatchObject({ amount_refunded: '10.00' });
    const refunds = (await (await provider.call('GET', `/refunds?payment=${payment.id}`)).json()) as { data: unknown[] };
    expect(refunds.data).toHaveLength(2);
  });

  it('when 10 full refunds race under different keys, then exactly one succeeds', async () => {
    const payment = (await (await provider.call('POST', '/payments/create', charge({ amount: '5.00' }))).json()) as { id: string };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => provider.call('POST', '/refunds', { payment: payment.id }, { 'idempotency-key': randomUUID() })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await provider.count('refunds', 'payment_id = $1', [payment.id])).toBe(1);
  });

  it('when the provider commits and then answers 500, then the same key later replays the success: one payment', async () => {
    await provider.call('PUT', '/_faults', { commit_then_fail: '500' });
    const body = charge();
    const key = { 'idempotency-key': randomUUID() };
    expect((await provider.call('POST', '/payments/create', body, key)).status).toBe(500);
    await provider.call('PUT', '/_faults', {});
    const retry = await provider.call('POST', '/payments/create', body, key);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await provider.count('payments', 'order_id = $1', [body.order_id])).toBe(1);
  });

  it('when the error rate is 1, then 500 and nothing is committed', async () => {
    await provider.call('PUT', '/_faults', { error_rate: 1 });
    const body = charge();
    expect((await provider.call('POST', '/payments/create', body, { 'idempotency-key': randomUUID() })).status).toBe(500);
    expect(await provider.count('payments', 'order_id = $1', [body.order_id])).toBe(0);
  });

  it('when latency is injected, then answers take at least that long; when it hangs, the client timeout ends it', async () => {
    await provider.call('PUT', '/_faults', { latency_ms: 300 });
    const started = Date.now();
    await provider.call('POST', '/payments/create', charge());
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await provider.call('PUT', '/_faults', { hang: true });
    const hung = await fetch(`${provider.url}/payments/create`, {
      method: 'POST',
      headers: { authorization: `Bearer sk_test_provider_suite_key`, 'content-type': 'application/json' },
      body: JSON.stringify(charge()),
      signal: AbortSignal.timeout(300),
    }).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(Error);
  });

  it('when fault injection is not enabled, then /_faults does not exist', async () => {
    const plain = await ProviderInstance.start();
    try {
      expect((await plain.call('PUT', '/_faults', { hang: true })).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
