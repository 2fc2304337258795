import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPClient } from '../../../../shared/http/http-client.js';
import { CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.js';
import { LogCapture } from '../../../../test/support/log-capture.js';
import {
  isInvalidPaymentRequestError,
  isPaymentDeclinedError,
  isPaymentOutcomeUnknownError,
  isPaymentProviderUnavailableError,
} from './payment-errors.js';
import { ProviderPaymentService } from './provider-payment-service.js';

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
