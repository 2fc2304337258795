import amqplib from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { subscriptionsOf } from '../../shared/contracts/events.js';
import { assertSubscriberQueues } from '../../shared/messaging/service-topology.js';
import { OrderApi, orderBody } from '../support/order-api.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

const AMQP_URL = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').split(',')[0]!;

/**
 * No event is published into the void: whichever service starts first, the queues of its events'
 * subscribers exist before it publishes, and an event no queue is bound to stays in the outbox.
 */
let stack: TestStack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function outboxRow(stack: TestStack, orderId: string) {
  const { rows } = await stack.db.query<{ id: string; published: boolean }>(
    `SELECT id, published_at IS NOT NULL AS published FROM ${stack.table('order-service', 'outbox')}
     WHERE routing_key = 'order.created' AND envelope->'data'->>'order_id' = $1`,
    [orderId],
  );
  return rows;
}

async function historyTypes(stack: TestStack, orderId: string): Promise<string[]> {
  const { rows } = await stack.db.query<{ event_type: string }>(
    `SELECT event_type FROM ${stack.table('order-service', 'order_history')} WHERE order_id = $1`,
    [orderId],
  );
  return rows.map((r) => r.event_type);
}

describe.skipIf(EXTERNAL_STACK)('publish topology', () => {
  it('when order-service starts alone on a fresh namespace and takes an order, then the participants started later complete it', async () => {
    stack = await TestStack.start({}, { services: ['payment-provider', 'order-service'] });
    const api = new OrderApi(stack);
    const placed = await api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] }));
    expect(placed.status).toBe('pending');

    // order-service declared inventory's queue before publishing: the event waits there.
    const inventoryQueue = stack.broker.names.queue('inventory-service');
    await waitFor(async () => (await stack!.broker.messageCount(inventoryQueue)) === 1, { what: 'order.created in the queue' });
    // Marked once the confirm came, by the service's next transaction or within 100 ms.
    await waitFor(async () => (await outboxRow(stack!, placed.id))[0]?.published === true, { what: 'the outbox row marked published' });
    expect(await outboxRow(stack, placed.id)).toEqual([{ id: expect.any(String), published: true }]);

    for (const service of ['inventory-service', 'payment-service', 'shipping-service'] as const) await stack.startService(service);
    const order = await api.settled(placed.id);
    expect(order.status).toBe('completed');
  });

  it('when a subscriber\'s binding is removed, then its event stays unpublished with an error logged, and once the binding is back it is delivered once', async () => {
    // A slow sweep, so the returned event is seen unpublished before the sweep sends it again.
    stack = await TestStack.start({ OUTBOX_SWEEP_MS: '3000' });
    const api = new OrderApi(stack);
    const inventoryQueue = stack.broker.names.queue('inventory-service');
    await stack.broker.unbind(inventoryQueue, 'order.created');

    const placed = await api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] }));
    const returned = await waitFor(
      async () =>
        stack!.logs.lines.find((line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          return entry.level === 'error' && entry.service === 'order-service' && entry.routing_key === 'order.created';
        }),
      { what: 'the returned event logged as an error' },
    );
    expect(returned).toContain('no queue is bound');
    const [row] = await outboxRow(stack, placed.id);
    expect(row?.published).toBe(false);

    // The publisher declared its topology again after the return; the sweep sends the event.
    const order = await api.settled(placed.id);
    expect(order.status).toBe('completed');
    expect(await outboxRow(stack, placed.id)).toEqual([{ id: row!.id, published: true }]);
    expect(await stack.handled('inventory-service', row!.id)).toBe(true);
    const history = await historyTypes(stack, placed.id);
    expect(history.filter((type) => type === 'order.created')).toHaveLength(1);
    expect(history.filter((type) => type === 'inventory.reserved')).toHaveLength(1);
    const { rows: reservations } = await stack.db.query(
      `SELECT status FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = $1`,
      [placed.id],
    );
    expect(reservations).toEqual([{ status: 'reserved' }]);
  });

  it('when the broker holds a queue declared before compensations had a lane of their own, then a publisher moves the compensation keys to that lane and a cancellation reaches it alone', async () => {
    stack = await TestStack.start({}, { services: [] });
    // The previous version's topology: one queue per service, bound to every event it subscribes to.
    const connection = await amqplib.connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const oldBindings = { step: subscriptionsOf('inventory-service'), compensation: [] };
      await assertSubscriberQueues(channel, stack.broker.names, 'inventory-service', oldBindings);
      await channel.close();
    } finally {
      await connection.close();
    }
    await stack.startService('payment-provider');
    await stack.startService('order-service');

    const api = new OrderApi(stack);
    const placed = await api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] }));
    const cancelled = await api.request('POST', `/orders/${placed.id}/cancel`);
    expect(cancelled.status).toBe(202);
    const { names } = stack.broker;
    const steps = names.queue('inventory-service');
    const compensations = names.queue('inventory-service', 'compensation');
    await waitFor(async () => (await stack!.broker.messageCount(compensations)) === 1, { what: 'the cancellation in the compensation lane' });
    // order.created alone in the step lane: the cancellation was not routed there too.
    expect(await stack.broker.messageCount(steps)).toBe(1);

    for (const service of ['inventory-service', 'payment-service', 'shipping-service'] as const) await stack.startService(service);
    expect(await api.settled(placed.id)).toMatchObject({ status: 'cancelled' });
    const { rows } = await stack.db.query(`SELECT status FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = $1`, [placed.id]);
    expect(rows).toEqual([{ status: expect.stringMatching(/^(cancelled|released)$/) }]);
  });
});
