import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOrderService } from '../../services/order-service/app.js';
import { DeadlineSweeper } from '../../services/order-service/domain/deadline-sweeper.js';
import { OrderApi, ProviderLedger, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: TestStack;
let api: OrderApi;
let ledger: ProviderLedger;

beforeAll(async () => {
  // Deadlines short; the service's own sweeper effectively off, so the test runs the sweeps.
  stack = await TestStack.start({ SAGA_TIMEOUT_MS: '1000', DEADLINE_SWEEP_MS: '3600000' });
  api = new OrderApi(stack);
  ledger = new ProviderLedger(stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(EXTERNAL_STACK)('saga deadlines', () => {
  it('when orders stall past their deadline and three sweepers run at once, then each is cancelled once and compensated', async () => {
    const before = await stack.stockOf('LAMP-DESK');
    await stack.stopService('inventory-service');
    const ids: string[] = [];
    try {
      for (let i = 0; i < 10; i += 1) ids.push((await api.place(orderBody({ items: [{ sku: 'LAMP-DESK', quantity: 1 }] }))).id);
      await waitFor(
        async () => {
          const { rows } = await stack.db.query(
            `SELECT count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE id = ANY($1::uuid[]) AND deadline_at < now()`,
            [ids],
          );
          return rows[0].n === ids.length;
        },
        { what: 'the deadlines to pass' },
      );
      const { unitOfWork } = (stack.service('order-service') as RunningOrderService).runtime;
      const logger = stack.logs.loggerFor('sweeper');
      await Promise.all([1, 2, 3].map(() => new DeadlineSweeper(unitOfWork, 60_000, logger).sweep()));
    } finally {
      await stack.startService('inventory-service');
    }

    for (const id of ids) expect(await api.get(id)).toMatchObject({ status: 'cancelled', cancellation_reason: 'deadline_exceeded' });
    const { rows } = await stack.db.query(
      `SELECT envelope->'data'->>'order_id' AS order_id, count(*)::int AS n FROM ${stack.table('order-service', 'outbox')}
       WHERE routing_key = 'order.cancel_requested' AND envelope->'data'->>'order_id' = ANY($1) GROUP BY 1`,
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // inventory, back, sees order.created and order.cancel_requested: nothing stays reserved.
    await waitFor(async () => {
      const { rows: left } = await stack.db.query(
        `SELECT count(*)::int AS n FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'`,
        [ids],
      );
      const { rows: seen } = await stack.db.query(
        `SELECT count(*)::int AS n FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = ANY($1::uuid[])`,
        [ids],
      );
      return left[0].n === 0 && seen[0].n === ids.length;
    }, { what: 'inventory to settle every stalled order' });
    expect(await stack.stockOf('LAMP-DESK')).toBe(before);
    for (const id of ids) expect(await ledger.netChargeCents(id)).toBe(0);
  });
});
