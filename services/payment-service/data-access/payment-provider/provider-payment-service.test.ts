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
const breakers: CircuitBreaker[] = [];

const PAYMENT = {
  id: 'pay_1',
  object: 'payment',
  status: 'succeeded',
  amount: '12.30',
  currency: 'USD',
  created: '2026-11-23T01:02:03.456Z',
  order_id: 'o-1',
  amount_refunded: '0.00',
};

/** A fake of the provider's HTTP contract: `respond` decides each answer. */
async function fakeProvider(respond: (req: http.IncomingMessage, body: string) => [number, unknown] | 'hang') {
  const seen: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const answer = respond(req, body);
      if (answer === 'hang') return;
      res.writeHead(answer[0], { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer[1]));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen };
}

function adapter(url: string, threshold = 5) {
  const breaker = new CircuitBreaker({ name: 'provider', failureThreshold: threshold, resetTimeoutMs: 60_000 });
  breakers.push(breaker);
  const client = new HTTPClient({ baseUrl: url, apiKey: 'sk_test_k', timeoutMs: 300, retry: { maxAttempts: 2, baseDelayMs: 5 }, logger });
  return new ProviderPaymentService(client, breaker);
}

const request = { amount: '12.30', currency: 'USD' as const, cardToken: 'tok_visa', customerId: 'cus_1', orderId: 'o-1' };
const key = { idempotencyKey: 'order-o-1-charge' };

afterEach(async () => {
  for (const b of breakers.splice(0)) b.shutdown();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe('ProviderPaymentService', () => {
  it('when the charge succeeds, then the response maps to a PaymentResponse and the key reaches the provider', async () => {
    const { url, seen } = await fakeProvider(() => [200, PAYMENT]);
    const payment = await adapter(url).processPayment(request, key);
    expect(payment).toMatchObject({ paymentId: 'pay_1', status: 'succeeded', amount: '12.30', currency: 'USD', orderId: 'o-1' });
    expect(payment.createdAt.toISOString()).toBe(PAYMENT.created);
    expect(seen[0]?.url).toBe('/payments/create');
    expect(seen[0]?.headers['idempotency-key']).toBe('order-o-1-charge');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      amount: '12.30',
      currency: 'USD',
      source: 'tok_visa',
      customer: 'cus_1',
      description: null,
      order_id: 'o-1',
    });
  });

  it('when the card is declined, then PaymentDeclinedError carries the decline code', async () => {
    const { url } = await fakeProvider(() => [402, { error: { type: 'card_error', code: 'insufficient_funds', message: 'no', payment_id: 'pay_9' } }]);
    const error = await adapter(url).processPayment(request, key).catch((e: unknown) => e);
    expect(isPaymentDeclinedError(error) && [error.declineCode, error.paymentId]).toEqual(['insufficient_funds', 'pay_9']);
  });

  it('when the request is invalid, then InvalidPaymentRequestError', async () => {
    const { url } = await fakeProvider(() => [400, { error: { type: 'invalid_request_error', code: 'parameter_invalid' } }]);
    expect(isInvalidPaymentRequestError(await adapter(url).processPayment(request, key).catch((e: unknown) => e))).toBe(true);
  });

  it('when a charge gets 500 or no answer, then its outcome is unknown, not a failure', async () => {
    const failing = await fakeProvider(() => [500, { error: { type: 'api_error' } }]);
    expect(isPaymentOutcomeUnknownError(await adapter(failing.url).processPayment(request, key).catch((e: unknown) => e))).toBe(true);
    expect(failing.seen).toHaveLength(2); // retried once with the same key
    expect(failing.seen.map((s) => s.headers['idempotency-key'])).toEqual(['order-o-1-charge', 'order-o-1-charge']);
    const hanging = await fakeProvider(() => 'hang');
    expect(isPaymentOutcomeUnknownError(await adapter(hanging.url).processPayment(request, key).catch((e: unknown) => e))).toBe(true);
  });

  it('when the provider refuses connections, then it is unavailable (nothing was sent)', async () => {
    const { url } = await fakeProvider(() => [200, {}]);
    const server = servers.pop() as http.Server;
    await new Promise((resolve) => server.close(resolve));
    expect(isPaymentProviderUnavailableError(await adapter(url).processPayment(request, key).catch((e: unknown) => e))).toBe(true);
  });

  it('when failures reach the threshold, then the breaker opens and calls fail without reaching the provider', async () => {
    const { url, seen } = await fakeProvider(() => [503, {}]);
    const payments = adapter(url, 2);
    await payments.getPayment('pay_1').catch(() => undefined);
    await payments.getPayment('pay_1').catch(() => undefined);
    const before = seen.length;
    expect(isPaymentProviderUnavailableError(await payments.processPayment(request, key).catch((e: unknown) => e))).toBe(true);
    expect(seen.length).toBe(before);
  });

  it('when a payment is looked up, then 404 is null and a list by order maps every payment', async () => {
    const { url, seen } = await fakeProvider((req) =>
      req.url?.startsWith('/payments/') ? [404, { error: { code: 'resource_missing' } }] : [200, { object: 'list', data: [PAYMENT], has_more: false }],
    );
    const payments = adapter(url);
    expect(await payments.getPayment('pay_x')).toBeNull();
    expect((await payments.findPaymentsByOrder('o-1')).map((p) => p.paymentId)).toEqual(['pay_1']);
    expect(seen[1]?.url).toBe('/payments?order_id=o-1&limit=100');
  });

  it('when a refund is made, then the key reaches the provider and the refund maps', async () => {
    const { url, seen } = await fakeProvider(() => [
      200,
      { id: 're_1', object: 'refund', payment: 'pay_1', amount: '12.30', currency: 'USD', status: 'succeeded', created: PAYMENT.created },
    ]);
    const refund = await adapter(url).refundPayment({ paymentId: 'pay_1' }, { idempotencyKey: 'order-o-1-refund' });
    expect(refund).toMatchObject({ refundId: 're_1', paymentId: 'pay_1', amount: '12.30' });
    expect(seen[0]?.headers['idempotency-key']).toBe('order-o-1-refund');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ payment: 'pay_1' });
  });
});
