import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderApi, ProviderLedger, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: TestStack;
let api: OrderApi;
let ledger: ProviderLedger;

beforeAll(async () => {
  stack = await TestStack.start({
    PAYMENT_PROVIDER_TIMEOUT_MS: '500',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_RESET_TIMEOUT_MS: '1000',
    SAGA_TIMEOUT_MS: '60000',
  });
  api = new OrderApi(stack, 'cus_isolation');
  ledger = new ProviderLedger(stack);
});

afterAll(async () => {
  await stack?.setProviderFaults({}).catch(() => undefined);
  await stack?.stop();
});

/** The charge breaker's transitions so far, from payment-service's log lines. */
const chargeCircuit = () =>
  stack.logs.lines
    .map((line) => JSON.parse(line) as { message?: string; breaker?: string; state?: string })
    .filter((entry) => entry.message === 'payment provider circuit changed state' && entry.breaker === 'payment-provider-charge')
    .map((entry) => entry.state);

// Fault injection is enabled on the in-process provider only.
describe.skipIf(EXTERNAL_STACK)('charges and refunds do not share one fate', () => {
  it('when every charge fails and its circuit is open, then a cancelled order is still refunded, and the charges go through once the provider is back', async () => {
    // An order charged and held before shipping (shipping-service is down), to be cancelled later.
    await stack.stopService('shipping-service');
    const paid = await api.place();
    await waitFor(async () => (await api.get(paid.id)).status === 'paid', { what: 'the first order to be charged' });

    // Now every charge fails at the provider (500, nothing committed); refunds are untouched.
    await stack.setProviderFaults({ error_rate: 1, match: 'payments' });
    const waiting = await Promise.all([api.place(orderBody()), api.place(orderBody())]);
    await waitFor(async () => chargeCircuit().includes('OPEN'), { timeoutMs: 20_000, what: 'the charge circuit to open' });

    const cancel = await api.request('POST', `/orders/${paid.id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(await api.settled(paid.id, 20_000)).toMatchObject({ status: 'cancelled', cancellation_reason: 'customer_request' });
    await waitFor(async () => (await ledger.netChargeCents(paid.id)) === 0, { what: 'the cancelled order to be refunded' });
    // The refund went through while charges were still failing: none of the new orders is charged.
    for (const order of waiting) expect(await ledger.netChargeCents(order.id)).toBe(0);
    expect(chargeCircuit().at(-1)).not.toBe('CLOSED');

    // The provider is back: the charge circuit's trial succeeds, the step lane resumes, and the
    // orders held meanwhile complete.
    await stack.setProviderFaults({});
    await stack.startService('shipping-service');
    for (const order of waiting) expect((await api.settled(order.id, 30_000)).status).toBe('completed');
    expect(chargeCircuit().at(-1)).toBe('CLOSED');
  });
});
