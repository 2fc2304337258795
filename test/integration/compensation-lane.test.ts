import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../shared/contracts/events.js';
import { OrderApi, ProviderLedger, orderBody, ADDRESS } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack, type ServiceName } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Compensations are consumed from a lane of their own, beside each service's steps: a cancellation
 * or a refund that arrives behind a backlog of forward steps is applied before that backlog drains.
 * Each test holds a participant back while a backlog of steps builds up in its queue, puts one
 * compensation behind it, lets the participant go, and judges by what was written: the order of the
 * participant's inbox rows, and the end state a compensation leaves only when it overtook its step.
 */
const BACKLOG = 40;
/** Small, so that the step at the back of a backlog is taken only after most of the others are done. */
const PREFETCH = 4;

let stack: TestStack;
let api: OrderApi;
let ledger: ProviderLedger;

beforeAll(async () => {
  // Admission control would refuse part of a backlog built on purpose while a participant is held back.
  // Admission control would refuse part of a backlog built on purpose while a participant is held
  // back. The breaker opens soon and stays open long enough to look at the paused lanes.
  stack = await TestStack.start({
    AMQP_PREFETCH: String(PREFETCH),
    ADMISSION_MAX_BACKLOG: 'off',
    PAYMENT_PROVIDER_TIMEOUT_MS: '1000',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_RESET_TIMEOUT_MS: '3000',
  });
  api = new OrderApi(stack);
  ledger = new ProviderLedger(stack);
});

afterEach(async () => {
  if (!EXTERNAL_STACK) await stack.setProviderFaults({});
});

afterAll(async () => {
  await stack?.stop();
});

/** Places `count` one-sticker orders, one after another; returns their ids in order. */
async function placeOrders(count: number, body = orderBody({ items: [{ sku: 'STICKER-PACK', quantity: 1 }] })): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push((await api.place(body)).id);
  return ids;
}

async function cancel(orderId: string): Promise<void> {
  const response = await api.request('POST', `/orders/${orderId}/cancel`);
  expect(response.status).toBe(202);
}

/** The id of the event `publisher` emitted about each order, as written in its outbox. */
async function eventIds(publisher: ServiceName, type: EventType, orderIds: string[]): Promise<Map<string, string>> {
  const { rows } = await stack.db.query<{ id: string; order_id: string }>(
    `SELECT id, envelope->'data'->>'order_id' AS order_id FROM ${stack.table(publisher, 'outbox')}
     WHERE routing_key = $1 AND envelope->'data'->>'order_id' = ANY($2)`,
    [type, orderIds],
  );
  return new Map(rows.map((row) => [row.order_id, row.id]));
}

/** How many of `eventIds` `service` applied before it applied `eventId` (its inbox's order). */
async function appliedBefore(service: ServiceName, eventId: string, ids: Iterable<string>): Promise<number> {
  const { rows } = await stack.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${stack.table(service, 'inbox')}
     WHERE event_id = ANY($2::uuid[]) AND handled_at < (SELECT handled_at FROM ${stack.table(service, 'inbox')} WHERE event_id = $1)`,
    [eventId, [...ids]],
  );
  return rows[0]?.n ?? Number.NaN;
}

async function statusesOf(orderIds: string[]): Promise<Record<string, number>> {
  const { rows } = await stack.db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE id = ANY($1::uuid[]) GROUP BY 1`,
    [orderIds],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

async function waitForStatus(orderIds: string[], status: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await statusesOf(orderIds))[status] === orderIds.length, {
    timeoutMs,
    intervalMs: 200,
    what: `${orderIds.length} orders to be ${status}`,
  });
}

/** Runs `build` with `service` stopped (its queue fills meanwhile), and starts it again whatever happens. */
async function whileStopped<T>(service: 'inventory-service' | 'payment-service', build: () => Promise<T>): Promise<T> {
  await stack.stopService(service);
  try {
    return await build();
  } finally {
    await stack.startService(service);
  }
}

async function rowStatus(service: 'inventory-service' | 'payment-service', table: string, orderId: string): Promise<string | undefined> {
  const { rows } = await stack.db.query<{ status: string }>(`SELECT status FROM ${stack.table(service, table)} WHERE order_id = $1`, [orderId]);
  return rows[0]?.status;
}

describe.skipIf(EXTERNAL_STACK)('the compensation lane', () => {
  it('when a cancellation waits behind a backlog of new orders at inventory, then inventory applies it before the backlog drains, ahead of the order it cancels', async () => {
    const stockBefore = await stack.stockOf('STICKER-PACK');
    const { backlog, cancelled } = await whileStopped('inventory-service', async () => {
      const backlog = await placeOrders(BACKLOG);
      // The last order placed: its order.created is at the back of inventory's steps queue.
      const cancelled = (await placeOrders(1))[0]!;
      await cancel(cancelled);
      return { backlog, cancelled };
    });

    const cancelEvent = (await eventIds('order-service', 'order.cancel_requested', [cancelled])).get(cancelled)!;
    const created = await eventIds('order-service', 'order.created', [...backlog, cancelled]);
    await waitFor(async () => (await stack.handled('inventory-service', created.get(cancelled)!)) && (await stack.handled('inventory-service', cancelEvent)), {
      what: 'inventory to apply the cancellation and the order it cancels',
    });
    // Applied ahead of the order it cancels, which was at the back of the backlog: a tombstone, and
    // the late order.created reserved nothing (through a single FIFO queue it would read 'released').
    expect(await rowStatus('inventory-service', 'reservations', cancelled)).toBe('cancelled');
    const backlogCreated = backlog.map((id) => created.get(id)!);
    expect(await appliedBefore('inventory-service', cancelEvent, backlogCreated)).toBeLessThan(BACKLOG / 2);

    await waitForStatus(backlog, 'completed');
    expect(await api.settled(cancelled)).toMatchObject({ status: 'cancelled', cancellation_reason: 'customer_request' });
    expect(await ledger.paymentsFor(cancelled)).toEqual([]);
    expect(await stack.stockOf('STICKER-PACK')).toBe(stockBefore - BACKLOG);
  }, 120_000);

  it('when a cancellation waits behind a backlog of charges at a slow provider, then payment applies it first and never charges the order', async () => {
    const { backlog, cancelled } = await whileStopped('payment-service', async () => {
      const backlog = await placeOrders(BACKLOG);
      const cancelled = (await placeOrders(1))[0]!;
      await waitForStatus([...backlog, cancelled], 'reserved');
      await cancel(cancelled);
      await waitFor(async () => (await rowStatus('inventory-service', 'reservations', cancelled)) === 'released', { what: 'inventory to release the cancelled order' });
      await stack.setProviderFaults({ latency_ms: 100, match: 'payments' });
      return { backlog, cancelled };
    });

    const cancelEvent = (await eventIds('order-service', 'order.cancel_requested', [cancelled])).get(cancelled)!;
    const reserved = await eventIds('inventory-service', 'inventory.reserved', [...backlog, cancelled]);
    await waitFor(() => stack.handled('payment-service', cancelEvent), { what: 'payment to apply the cancellation' });
    const backlogReserved = backlog.map((id) => reserved.get(id)!);
    expect(await appliedBefore('payment-service', cancelEvent, backlogReserved)).toBeLessThan(BACKLOG / 2);
    await stack.setProviderFaults({});

    await waitForStatus(backlog, 'completed');
    await waitFor(() => stack.handled('payment-service', reserved.get(cancelled)!), { what: 'the late inventory.reserved to be applied' });
    // The cancellation came first: a tombstone, and the charge that followed never happened.
    expect(await rowStatus('payment-service', 'payments', cancelled)).toBe('cancelled');
    expect(await ledger.paymentsFor(cancelled)).toEqual([]);
  }, 120_000);

  it('when a refund after a shipping failure waits behind a backlog of charges, then payment refunds before the backlog drains', async () => {
    // An order to a destination the carrier does not serve, charged while shipping is held back;
    // then a backlog of charges held back in payment's queue; then shipping fails the order, and its
    // shipping.failed waits in payment's compensation lane.
    await stack.stopService('shipping-service');
    let failed: string;
    let backlog: string[];
    try {
      failed = (await placeOrders(1, orderBody({ shipping_address: { ...ADDRESS, country: 'AQ' } })))[0]!;
      await waitForStatus([failed], 'paid');
      await stack.stopService('payment-service');
      backlog = await placeOrders(BACKLOG);
      await waitForStatus(backlog, 'reserved');
      await stack.startService('shipping-service');
      await waitFor(async () => (await eventIds('shipping-service', 'shipping.failed', [failed])).size === 1, { what: 'shipping to fail the order' });
      await stack.setProviderFaults({ latency_ms: 100, match: 'payments' });
    } finally {
      if (!stack.isRunning('shipping-service')) await stack.startService('shipping-service');
      if (!stack.isRunning('payment-service')) await stack.startService('payment-service');
    }

    const shippingFailed = (await eventIds('shipping-service', 'shipping.failed', [failed])).get(failed)!;
    const reserved = await eventIds('inventory-service', 'inventory.reserved', backlog);
    await waitFor(() => stack.handled('payment-service', shippingFailed), { what: 'payment to refund the order' });
    expect(await rowStatus('payment-service', 'payments', failed)).toBe('refunded');
    expect(await appliedBefore('payment-service', shippingFailed, reserved.values())).toBeLessThan(BACKLOG / 2);
    await stack.setProviderFaults({});

    expect(await api.settled(failed)).toMatchObject({ status: 'cancelled', cancellation_reason: 'shipping_failed' });
    expect(await ledger.netChargeCents(failed)).toBe(0);
    await waitForStatus(backlog, 'completed');
  }, 120_000);

  it('when the provider is down and the breaker opens, then payment pauses both lanes, and takes both up again once the provider heals', async () => {
    const lanes = [stack.broker.names.queue('payment-service'), stack.broker.names.queue('payment-service', 'compensation')];
    const consumers = async () => Promise.all(lanes.map((queue) => stack.broker.consumerCount(queue)));
    expect(await consumers()).toEqual([1, 1]);

    // Every call, look-ups included, outlasts the client's timeout: counted failures open the breaker.
    await stack.setProviderFaults({ latency_ms: 5_000, match: 'all' });
    const order = (await placeOrders(1))[0]!;
    await waitFor(async () => (await consumers()).every((n) => n === 0), { what: 'payment to pause both lanes' });
    // Paused: the cancellation waits in the compensation lane, none of its attempts spent.
    await cancel(order);
    const cancelEvent = (await eventIds('order-service', 'order.cancel_requested', [order])).get(order)!;
    await waitFor(async () => (await stack.broker.messageCount(lanes[1]!)) === 1, { what: 'the cancellation to wait in the compensation lane' });
    expect(await stack.handled('payment-service', cancelEvent)).toBe(false);

    await stack.setProviderFaults({});
    await waitFor(() => stack.handled('payment-service', cancelEvent), { what: 'payment to apply the cancellation once healed' });
    await waitFor(async () => (await consumers()).every((n) => n === 1), { what: 'payment to consume both lanes again' });
    expect(await api.settled(order)).toMatchObject({ status: 'cancelled' });
    await waitFor(async () => (await ledger.netChargeCents(order)) === 0, { what: 'no money kept' });
  }, 60_000);
});
