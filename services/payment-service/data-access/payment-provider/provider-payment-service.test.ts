import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HTTPClient } from '../../../../shared/http/http-client.js';
import { isBulkheadFullError } from '../../../../shared/resilience/bulkhead.js';
import { CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.js';
import { LogCapture } from '../../../../test/support/log-capture.js';
import {
  isInvalidPaymentRequestError,
  isPaymentDeclinedError,
  isPaymentOutcomeUnknownError,
  isPaymentProviderUnavailableError,
} from './payment-errors.js';
import { ProviderPaymentService, type ProviderCallOutcome, type ProviderOperation, type ProviderPaymentServiceOptions } from './provider-payment-service.js';

const logger = new LogCapture().loggerFor('adapter-test');
const servers: http.Server[] = [];
const closers: (() => void)[] = [];

const PAYMENT = {
  id: 'pay_1',
  object: 'payment',
  status: 'succeeded',
  amount: '12.30',
  currency: 'USD',
  created: '2026-11-23T01:02:03.456Z',
  customer: 'cus_1',
  description: null,
  order_id: 'o-1',
  amount_refunded: '0.00',
};
const REFUND = { id: 're_1', object: 'refund', payment: 'pay_1', amount: '12.30', currency: 'USD', status: 'succeeded', created: PAYMENT.created };
const providerError = (type: string, code: string, extra: Record<string, unknown> = {}) => ({ error: { type, code, message: `${code} happened`, ...extra } });

type Answer = [number, unknown, Record<string, string>?] | 'hang';

/** A fake of the provider's HTTP contract on 127.0.0.1:0; `respond` decides each answer. */
async function fakeProvider(respond: (req: http.IncomingMessage, n: number) => Answer) {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = respond(req, seen.length);
      if (answer === 'hang') return;
      res.writeHead(answer[0], { 'content-type': 'application/json', ...answer[2] });
      res.end(JSON.stringify(answer[1]));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function adapter(url: string, threshold = 5) {
  const breaker = new CircuitBreaker({ name: 'provider', failureThreshold: threshold, resetTimeoutMs: 60_000 });
  const client = new HTTPClient({ baseUrl: url, apiKey: 'sk_test_k', timeoutMs: 300, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 }, logger });
  closers.push(() => breaker.shutdown(), () => client.close());
  return { payments: new ProviderPaymentService(client, breaker), breaker };
}

const request = { amount: '12.3', currency: 'USD' as const, cardToken: 'tok_visa', customerId: 'cus_1', orderId: 'o-1' };
const key = { idempotencyKey: 'order-o-1-charge' };
const charge = async (url: string, options: Partial<typeof key & { signal: AbortSignal }> = {}) =>
  adapter(url).payments.processPayment(request, { ...key, ...options }).catch((e: unknown) => e);

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe('ProviderPaymentService: charges', () => {
  it('when the charge succeeds, then the body follows the Python contract, the key is sent, and the payment maps', async () => {
    const { url, seen } = await fakeProvider(() => [200, PAYMENT]);
    const payment = await adapter(url).payments.processPayment(request, key);
    expect(payment).toMatchObject({ paymentId: 'pay_1', status: 'succeeded', amount: '12.30', currency: 'USD', orderId: 'o-1', amountRefunded: '0.00' });
    expect(payment.createdAt.toISOString()).toBe(PAYMENT.created);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/payments/create' });
    expect(seen[0]?.headers).toMatchObject({ 'idempotency-key': 'order-o-1-charge', authorization: 'Bearer sk_test_k' });
    // The amount goes out normalised to the currency's decimals; description null as the Python's None.
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ amount: '12.30', currency: 'USD', source: 'tok_visa', customer: 'cus_1', description: null, order_id: 'o-1' });
  });

  it('when the amount is malformed, then InvalidPaymentRequestError and nothing is sent', async () => {
    const { url, seen } = await fakeProvider(() => [200, PAYMENT]);
    const error = await adapter(url).payments.processPayment({ ...request, amount: '12.345' }, key).catch((e: unknown) => e);
    expect(isInvalidPaymentRequestError(error)).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it('when the card is declined, then PaymentDeclinedError carries the decline code and payment id, and the breaker stays closed', async () => {
    const { url, seen } = await fakeProvider(() => [402, providerError('card_error', 'insufficient_funds', { payment_id: 'pay_9' })]);
    const { payments, breaker } = adapter(url, 2);
    for (let i = 0; i < 4; i += 1) {
      const error = await payments.processPayment(request, key).catch((e: unknown) => e);
      expect(isPaymentDeclinedError(error) && [error.declineCode, error.paymentId]).toEqual(['insufficient_funds', 'pay_9']);
    }
    expect(breaker.state).toBe('CLOSED');
    expect(seen).toHaveLength(4);
  });

  it.each([
    [400, 'invalid_request_error', 'parameter_invalid'],
    [422, 'idempotency_error', 'idempotency_key_reused'],
  ])('when the provider answers %i %s, then InvalidPaymentRequestError with its code, sent once', async (status, type, code) => {
    const { url, seen } = await fakeProvider(() => [status, providerError(type, code)]);
    const error = await charge(url);
    expect(isInvalidPaymentRequestError(error) && [error.providerCode, error.status]).toEqual([code, status]);
    expect(seen).toHaveLength(1);
  });

  it.each([
    [409, providerError('idempotency_error', 'request_in_progress')],
    [401, providerError('authentication_error', 'invalid_api_key')],
  ])('when the provider answers %i, then it is unavailable for now (not an invalid order)', async (status, body) => {
    const { url } = await fakeProvider(() => [status, body]);
    expect(isPaymentProviderUnavailableError(await charge(url))).toBe(true);
  });

  it('when a charge gets 500, then its outcome is unknown and it is NOT retried', async () => {
    const { url, seen } = await fakeProvider(() => [500, providerError('api_error', 'internal')]);
    expect(isPaymentOutcomeUnknownError(await charge(url))).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('when a charge gets no answer, then the timeout makes its outcome unknown and it is NOT retried', async () => {
    const { url, seen } = await fakeProvider(() => 'hang');
    expect(isPaymentOutcomeUnknownError(await charge(url))).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('when the provider answers 200 with an unreadable body, then the outcome is unknown', async () => {
    const { url } = await fakeProvider(() => [200, { id: 'pay_1' }]);
    expect(isPaymentOutcomeUnknownError(await charge(url))).toBe(true);
  });

  it('when a 200 payment says failed, then it is a decline, never a charge', async () => {
    const { url } = await fakeProvider(() => [200, { ...PAYMENT, status: 'failed' }]);
    const error = await charge(url);
    expect(isPaymentDeclinedError(error) && error.paymentId).toBe('pay_1');
  });

  it('when a charge is rate limited (429), then it is retried with the same key, since nothing was performed', async () => {
    const { url, seen } = await fakeProvider((_req, n) => (n === 1 ? [429, providerError('rate_limit_error', 'rate_limited'), { 'retry-after': '0' }] : [200, PAYMENT]));
    expect(await charge(url)).toMatchObject({ paymentId: 'pay_1' });
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual(['order-o-1-charge', 'order-o-1-charge']);
  });

  it('when the provider refuses connections, then it is unavailable (nothing was sent)', async () => {
    const { url, server } = await fakeProvider(() => [200, PAYMENT]);
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    expect(isPaymentProviderUnavailableError(await charge(url))).toBe(true);
  });

  it('when the caller aborts a charge in flight, then its outcome is unknown', async () => {
    const { url } = await fakeProvider(() => 'hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    expect(isPaymentOutcomeUnknownError(await charge(url, { signal: controller.signal }))).toBe(true);
  });
});

describe('ProviderPaymentService: refunds, look-ups and the breaker', () => {
  it('when a refund is made, then the key reaches the provider and the refund maps', async () => {
    const { url, seen } = await fakeProvider(() => [200, REFUND]);
    const refund = await adapter(url).payments.refundPayment({ paymentId: 'pay_1', amount: '5.00', reason: 'cancelled' }, { idempotencyKey: 'order-o-1-refund' });
    expect(refund).toMatchObject({ refundId: 're_1', paymentId: 'pay_1', amount: '12.30', currency: 'USD', status: 'succeeded' });
    expect(seen[0]).toMatchObject({ url: '/refunds' });
    expect(seen[0]?.headers['idempotency-key']).toBe('order-o-1-refund');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ payment: 'pay_1', amount: '5.00', reason: 'cancelled' });
  });

  it('when a refund is refused as already refunded, then InvalidPaymentRequestError says so', async () => {
    const { url } = await fakeProvider(() => [400, providerError('invalid_request_error', 'charge_already_refunded')]);
    const error = await adapter(url).payments.refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'r' }).catch((e: unknown) => e);
    expect(isInvalidPaymentRequestError(error) && error.providerCode).toBe('charge_already_refunded');
  });

  it('when a refund gets 503, then its outcome is unknown and it is NOT retried', async () => {
    const { url, seen } = await fakeProvider(() => [503, providerError('api_error', 'unavailable')]);
    const error = await adapter(url).payments.refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'r' }).catch((e: unknown) => e);
    expect(isPaymentOutcomeUnknownError(error)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('when a payment is looked up, then 404 is null and a list by order maps every payment', async () => {
    const { url, seen } = await fakeProvider((req) =>
      req.url?.startsWith('/payments/')
        ? [404, providerError('invalid_request_error', 'resource_missing')]
        : [200, { object: 'list', data: [PAYMENT, { ...PAYMENT, id: 'pay_2', status: 'failed' }], has_more: false }],
    );
    const { payments } = adapter(url);
    expect(await payments.getPayment('pay_x/../y')).toBeNull();
    expect((await payments.findPaymentsByOrder('o-1')).map((p) => [p.paymentId, p.status])).toEqual([
      ['pay_1', 'succeeded'],
      ['pay_2', 'failed'],
    ]);
    expect(seen.map((s) => s.url)).toEqual(['/payments/pay_x%2F..%2Fy', '/payments?order_id=o-1&limit=100']);
  });

  it('when a look-up gets 503 then 200, then it is retried (reads change nothing)', async () => {
    const { url, seen } = await fakeProvider((_req, n) => (n === 1 ? [503, {}] : [200, PAYMENT]));
    expect(await adapter(url).payments.getPayment('pay_1')).toMatchObject({ paymentId: 'pay_1' });
    expect(seen).toHaveLength(2);
  });

  it('when look-ups keep failing, then the provider is unavailable after the retries', async () => {
    const { url, seen } = await fakeProvider(() => [503, {}]);
    expect(isPaymentProviderUnavailableError(await adapter(url).payments.findPaymentsByOrder('o-1').catch((e: unknown) => e))).toBe(true);
    expect(seen).toHaveLength(3);
  });

  it('when failures reach the threshold, then the breaker opens and calls fail as unavailable without reaching the provider', async () => {
    const { url, seen } = await fakeProvider(() => [503, {}]);
    const { payments, breaker } = adapter(url, 2);
    await payments.getPayment('pay_1').catch(() => undefined);
    await payments.getPayment('pay_1').catch(() => undefined);
    expect(breaker.state).toBe('OPEN');
    const before = seen.length;
    expect(isPaymentProviderUnavailableError(await payments.processPayment(request, key).catch((e: unknown) => e))).toBe(true);
    expect(seen.length).toBe(before);
  });

  it('when a payment is found, then it maps with amount as a string, createdAt as a Date and 0.00 refunded by default', async () => {
    const { amount_refunded: _omitted, ...withoutRefunded } = PAYMENT;
    const { url, seen } = await fakeProvider(() => [200, withoutRefunded]);
    const payment = await adapter(url).payments.getPayment('pay_1');
    expect(payment).toMatchObject({ paymentId: 'pay_1', amount: '12.30', amountRefunded: '0.00', orderId: 'o-1' });
    expect(payment?.createdAt).toBeInstanceOf(Date);
    expect(payment?.createdAt.getTime()).toBe(Date.parse(PAYMENT.created));
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/payments/pay_1' });
  });

  it('when a refund times out, then its outcome is unknown; when refused, then the provider is unavailable', async () => {
    const hanging = await fakeProvider(() => 'hang');
    expect(isPaymentOutcomeUnknownError(await adapter(hanging.url).payments.refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'r' }).catch((e: unknown) => e))).toBe(true);
    const { url, server } = await fakeProvider(() => [200, REFUND]);
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const { payments } = adapter(url);
    expect(isPaymentProviderUnavailableError(await payments.refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'r' }).catch((e: unknown) => e))).toBe(true);
    expect(isPaymentProviderUnavailableError(await payments.getPayment('pay_1').catch((e: unknown) => e))).toBe(true);
  });

  it('when charges keep getting 500, then the breaker opens at the threshold and every call is then unavailable without reaching the provider', async () => {
    const { url, seen } = await fakeProvider(() => [500, providerError('api_error', 'internal')]);
    const { payments, breaker } = adapter(url, 3);
    for (let i = 0; i < 3; i += 1) expect(isPaymentOutcomeUnknownError(await payments.processPayment(request, key).catch((e: unknown) => e))).toBe(true);
    expect(breaker.state).toBe('OPEN');
    expect(seen).toHaveLength(3);
    expect(isPaymentProviderUnavailableError(await payments.processPayment(request, key).catch((e: unknown) => e))).toBe(true);
    expect(isPaymentProviderUnavailableError(await payments.refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'r' }).catch((e: unknown) => e))).toBe(true);
    expect(isPaymentProviderUnavailableError(await payments.getPayment('pay_1').catch((e: unknown) => e))).toBe(true);
    expect(seen).toHaveLength(3);
  });
});

describe('ProviderPaymentService: bulkheads and the look-up cache', () => {
  afterEach(() => vi.useRealTimers());

  /**
   * A fake provider that holds requests open (every one, or those `holds` picks) until `release()`,
   * then answers as `respond` says, the held ones first and every later one at once; `arrived(n)`
   * resolves at the n-th request.
   */
  async function holdingProvider(respond: (req: http.IncomingMessage, n: number) => [number, unknown], holds: (n: number) => boolean = () => true) {
    const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
    const held: (() => void)[] = [];
    const waiters: { n: number; resolve: () => void }[] = [];
    let holding = true;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
        const [status, body] = respond(req, seen.length);
        const answer = () => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (holding && holds(seen.length)) held.push(answer);
        else answer();
        for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const arrived = (n: number) => new Promise<void>((resolve) => (seen.length >= n ? resolve() : waiters.push({ n, resolve })));
    const release = () => {
      holding = false;
      for (const answer of held.splice(0)) answer();
    };
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, arrived, release };
  }

  /** The adapter with `options`, its calls' outcomes recorded; `threshold` 1 opens the breaker on the first counted failure. */
  function service(url: string, options: ProviderPaymentServiceOptions = {}, threshold = 5) {
    const breaker = new CircuitBreaker({ name: 'provider', failureThreshold: threshold, resetTimeoutMs: 60_000 });
    const client = new HTTPClient({ baseUrl: url, apiKey: 'sk_test_k', timeoutMs: 2_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 }, logger });
    closers.push(() => breaker.shutdown(), () => client.close());
    const outcomes: [ProviderOperation, ProviderCallOutcome][] = [];
    const payments = new ProviderPaymentService(client, breaker, { observe: (operation, outcome) => outcomes.push([operation, outcome]), ...options });
    return { payments, breaker, outcomes };
  }

  const list = (data: unknown[]) => ({ object: 'list', data, has_more: false });

  it('when one charge runs and one waits (maxConcurrent 1, maxQueued 1), then a third fails at once as unavailable, nothing sent, observed as rejected, and the breaker does not count it', async () => {
    const provider = await holdingProvider(() => [200, PAYMENT]);
    const { payments, breaker, outcomes } = service(provider.url, { limits: { charge: { maxConcurrent: 1, maxQueued: 1 } } }, 1);
    const settled: string[] = [];
    const first = payments.processPayment(request, { idempotencyKey: 'charge-1' }).finally(() => settled.push('first'));
    const second = payments.processPayment(request, { idempotencyKey: 'charge-2' }).finally(() => settled.push('second'));
    await provider.arrived(1);
    const third = await payments.processPayment(request, { idempotencyKey: 'charge-3' }).catch((e: unknown) => e);
    expect(isPaymentProviderUnavailableError(third)).toBe(true);
    expect(isBulkheadFullError((third as Error).cause)).toBe(true);
    expect(settled).toEqual([]); // refused while the first was still held: it did not wait for a slot
    expect(provider.seen.map((s) => s.headers['idempotency-key'])).toEqual(['charge-1']);
    expect(outcomes).toEqual([['charge', 'rejected']]);
    // failureThreshold 1: had the refusal been counted as a failure, the circuit would be open.
    expect(breaker.state).toBe('CLOSED');
    provider.release();
    expect(await first).toMatchObject({ paymentId: 'pay_1', status: 'succeeded' });
    expect(await second).toMatchObject({ paymentId: 'pay_1', status: 'succeeded' });
    expect(provider.seen.map((s) => s.headers['idempotency-key'])).toEqual(['charge-1', 'charge-2']);
    expect(outcomes).toEqual([
      ['charge', 'rejected'],
      ['charge', 'success'],
      ['charge', 'success'],
    ]);
    expect(breaker.state).toBe('CLOSED');
  });

  it('when a refusal falls between two failed charges, then the breaker neither counts it nor takes it for a success: the two failures open it', async () => {
    // The second charge is held, so that the third finds its one slot taken and no queue.
    const provider = await holdingProvider(() => [500, providerError('api_error', 'internal')], (n) => n === 2);
    const { payments, breaker, outcomes } = service(provider.url, { limits: { charge: { maxConcurrent: 1, maxQueued: 0 } } }, 2);
    expect(isPaymentOutcomeUnknownError(await payments.processPayment(request, { idempotencyKey: 'charge-1' }).catch((e: unknown) => e))).toBe(true);
    expect(breaker.state).toBe('CLOSED');
    const second = payments.processPayment(request, { idempotencyKey: 'charge-2' }).catch((e: unknown) => e);
    await provider.arrived(2);
    expect(isPaymentProviderUnavailableError(await payments.processPayment(request, { idempotencyKey: 'charge-3' }).catch((e: unknown) => e))).toBe(true);
    provider.release();
    expect(isPaymentOutcomeUnknownError(await second)).toBe(true);
    // Had the refusal been taken for a success, the count would have restarted and the circuit stayed closed.
    expect(breaker.state).toBe('OPEN');
    expect(provider.seen).toHaveLength(2);
    expect(outcomes).toEqual([
      ['charge', 'error'],
      ['charge', 'rejected'],
      ['charge', 'error'],
    ]);
  });

  it('when a look-up by order finds a succeeded charge, then the next within the TTL is served from the cache, unobserved, and the next after it asks again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { url, seen } = await fakeProvider(() => [200, list([PAYMENT])]);
    const { payments, outcomes } = service(url, { lookupCacheTtlMs: 2_000 });
    const first = await payments.findPaymentsByOrder('o-1');
    expect(first.map((p) => [p.paymentId, p.status])).toEqual([['pay_1', 'succeeded']]);
    vi.advanceTimersByTime(1_999);
    expect(await payments.findPaymentsByOrder('o-1')).toBe(first);
    expect(seen).toHaveLength(1);
    expect(outcomes).toEqual([['lookup', 'success']]); // a cached answer is not a provider call
    await payments.findPaymentsByOrder('o-2'); // another order is another question
    expect(seen.map((s) => s.url)).toEqual(['/payments?order_id=o-1&limit=100', '/payments?order_id=o-2&limit=100']);
    vi.advanceTimersByTime(1);
    await payments.findPaymentsByOrder('o-1');
    expect(seen).toHaveLength(3);
  });

  it.each([
    ['no payment', []],
    ['only a failed payment', [{ ...PAYMENT, status: 'failed' }]],
  ])('when a look-up by order finds %s, then it is never served again: two look-ups make two requests', async (_what, data) => {
    const { url, seen } = await fakeProvider(() => [200, list(data)]);
    const { payments, outcomes } = service(url, { lookupCacheTtlMs: 60_000 });
    expect(await payments.findPaymentsByOrder('o-1')).toHaveLength(data.length);
    expect(await payments.findPaymentsByOrder('o-1')).toHaveLength(data.length);
    expect(seen).toHaveLength(2);
    expect(outcomes).toEqual([
      ['lookup', 'success'],
      ['lookup', 'success'],
    ]);
  });

  it('when a look-up by order joins one in flight whose answer holds no succeeded charge, then it asks again and gets the charge that landed meanwhile', async () => {
    const provider = await holdingProvider((_req, n) => [200, list(n === 1 ? [] : [PAYMENT])]);
    const { payments } = service(provider.url, { lookupCacheTtlMs: 60_000 });
    const first = payments.findPaymentsByOrder('o-1');
    await provider.arrived(1);
    const joined = payments.findPaymentsByOrder('o-1');
    provider.release();
    expect(await first).toEqual([]);
    expect((await joined).map((p) => p.paymentId)).toEqual(['pay_1']);
    expect(provider.seen).toHaveLength(2);
  });

  it('when a payment is looked up by id, then it is never cached: each look-up, even of a succeeded payment, reaches the provider', async () => {
    const { url, seen } = await fakeProvider(() => [200, PAYMENT]);
    const { payments } = service(url, { lookupCacheTtlMs: 60_000 });
    expect(await payments.getPayment('pay_1')).toMatchObject({ paymentId: 'pay_1', status: 'succeeded' });
    expect(await payments.getPayment('pay_1')).toMatchObject({ paymentId: 'pay_1', status: 'succeeded' });
    await Promise.all([payments.getPayment('pay_1'), payments.getPayment('pay_1')]);
    expect(seen.map((s) => s.url)).toEqual(['/payments/pay_1', '/payments/pay_1', '/payments/pay_1', '/payments/pay_1']);
  });
});
