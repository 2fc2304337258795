import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvariantTarget } from '../faults/invariant-target.js';
import { checkInvariants } from '../faults/invariants.js';
import { emptyLoadResult, type LoadResult, type PlacedOrder } from '../faults/load-generator.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * order-service and inventory react to the same compensating event independently, so an order can
 * show `cancelled` while inventory has not released its stock yet. These tests hold inventory back
 * to open that window on purpose, and check that the stock comes back and that the invariant
 * checker judges stock only once the system is quiescent.
 */
const SKU = 'STICKER-PACK';

let stack: TestStack;
let api: OrderApi;
/** Every order this file placed: the checker's stock and money figures cover all of them. */
const placed: PlacedOrder[] = [];

beforeAll(async () => {
  stack = await TestStack.start();
  api = new OrderApi(stack);
});

afterAll(async () => {
  await stack?.stop();
});

const target = (): InvariantTarget => ({
  namespace: stack.namespace,
  db: stack.db,
  table: (owner, name) => stack.table(owner, name),
  logLines: () => stack.logs.lines,
});

const load = (): LoadResult => ({ ...emptyLoadResult(), sent: placed.length, accepted: [...placed] });

async function reservationStatus(orderId: string): Promise<string | undefined> {
  const { rows } = await stack.db.query<{ status: string }>(
    `SELECT status FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = $1`,
    [orderId],
  );
  return rows[0]?.status;
}

/**
 * Places an order, lets inventory reserve it, stops inventory, and cancels the order through the
 * API: order-service shows it cancelled while its order.cancel_requested waits in inventory's queue.
 * Payment is held back until then, so the order cannot complete first; it is started again at the
 * end (it charges and refunds, or leaves a tombstone). Inventory is left stopped.
 */
async function cancelWhileInventoryIsHeldBack(): Promise<string> {
  await stack.stopService('payment-service');
  let id: string;
  try {
    id = (await api.place(orderBody({ items: [{ sku: SKU, quantity: 1 }] }))).id;
    placed.push({ id, kind: 'success', sku: SKU, quantity: 1 });
    await waitFor(async () => (await reservationStatus(id)) === 'reserved' && (await api.get(id)).status === 'reserved', {
      what: 'inventory to reserve the order',
    });
    await stack.stopService('inventory-service');
    const cancelled = await api.request('POST', `/orders/${id}/cancel`);
    expect(cancelled.status).toBe(202);
  } finally {
    await stack.startService('payment-service');
  }
  return id;
}

async function letInventoryGo(orderId: string): Promise<void> {
  if (!stack.isRunning('inventory-service')) await stack.startService('inventory-service');
  await waitFor(async () => (await reservationStatus(orderId)) === 'released', { what: `inventory to release order ${orderId}` });
}

describe.skipIf(EXTERNAL_STACK)('stock while a compensation is on its way to inventory', () => {
  it('when order-service has cancelled an order while inventory is held back, then the reservation stays reserved until inventory applies the cancellation, and then ends released with the stock back', async () => {
    const before = await stack.stockOf(SKU);
    const id = await cancelWhileInventoryIsHeldBack();
    try {
      expect(await api.get(id)).toMatchObject({ status: 'cancelled', cancellation_reason: 'customer_request' });
      expect(await reservationStatus(id)).toBe('reserved');
      expect(await stack.stockOf(SKU)).toBe(before - 1);
    } finally {
      await letInventoryGo(id);
    }
    expect(await stack.stockOf(SKU)).toBe(before);
  });

  it('when the invariants are checked inside that window and inventory catches up within the bound, then the checker sees the lag and reports no violation', async () => {
    const id = await cancelWhileInventoryIsHeldBack();
    let reservationAtSettle: string | undefined;
    const report = await checkInvariants(target(), load(), {
      settleTimeoutMs: 10_000,
      quiescenceTimeoutMs: 30_000,
      // Every order has ended: inventory is let go only now, inside the check.
      onSettled: async () => {
        reservationAtSettle = await reservationStatus(id);
        await stack.startService('inventory-service');
      },
    });
    expect(reservationAtSettle).toBe('reserved');
    expect(report.stock_lagging_at_settle).toBe(1);
    expect(report.violations).toEqual([]);
    expect(await reservationStatus(id)).toBe('released');
  });

  it('when inventory never applies the cancellation within the bound, then the checker reports the order with its state on both sides', async () => {
    const id = await cancelWhileInventoryIsHeldBack();
    try {
      const report = await checkInvariants(target(), load(), { settleTimeoutMs: 10_000, quiescenceTimeoutMs: 2_000 });
      expect(report.violations).toContain('5: inventory-service did not apply every order.cancel_requested (1 not applied)');
      expect(report.violations).toContain(`4: ${SKU} has 1 reserved, completed orders took 0`);
      const line = report.violations.find((v) => v.startsWith(`4: order ${id}:`));
      expect(line).toMatch(/: cancelled \(customer_request\) since .+, reservation reserved since .+; history: .*order\.cancel_requested/);
      expect(line).toMatch(/inventory: order\.created applied [^,]+, order\.cancel_requested published [^,]+, not applied/);
    } finally {
      await letInventoryGo(id);
    }
  });
});
