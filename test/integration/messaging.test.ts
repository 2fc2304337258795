import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/contracts/envelope.js';
import { EVENT_VERSION } from '../../shared/contracts/events.js';
import { DEAD_LETTER_HEADERS } from '../../shared/messaging/dead-letter-headers.js';
import { ADDRESS, OrderApi, ProviderLedger, orderBody } from '../support/order-api.js';
import { TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: TestStack;
let api: OrderApi;
let ledger: ProviderLedger;

beforeAll(async () => {
  stack = await TestStack.start();
  api = new OrderApi(stack);
  ledger = new ProviderLedger(stack);
});

afterAll(async () => {
  await stack?.stop();
});



describe('at-least-once delivery, exactly-once effects', () => {
  it('when order.created is delivered again, then stock is reserved once and the card charged once', async () => {
    const placed = await api.place(orderBody({ items: [{ sku: 'STICKER-PACK', quantity: 5 }] }));
    expect((await api.settled(placed.id)).status).toBe('completed');
    const stockAfter = await stack.stockOf('STICKER-PACK');
    const { rows } = await stack.db.query(
      `SELECT envelope FROM ${stack.table('order-service', 'outbox')} WHERE routing_key = 'order.created' AND envelope->'data'->>'order_id' = $1`,
      [placed.id],
    );
    const original = rows[0].envelope as { id: string; data: Record<string, unknown> };

    // The same message again (same event id), and the same order under a new event id.
    await stack.broker.publish('order.created', original, { messageId: original.id, type: 'order.created' });
    const semanticDuplicate = { ...original, id: randomUUID() };
    await stack.broker.publish('order.created', semanticDuplicate, { messageId: semanticDuplicate.id, type: 'order.created' });
    await waitFor(() => stack.handled('inventory-service', semanticDuplicate.id), { what: 'the duplicate to be handled' });

    expect(await stack.stockOf('STICKER-PACK')).toBe(stockAfter);
    const { rows: reservations } = await stack.db.query(
      `SELECT status FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = $1`,
      [placed.id],
    );
    expect(reservations).toEqual([{ status: 'reserved' }]);
    expect(await ledger.paymentsFor(placed.id)).toHaveLength(1);
  });

  it('when inventory.reserved arrives twice for one order, then the provider charges once', async () => {
    const orderId = randomUUID();
    const data = {
      order_id: orderId,
      customer_id: 'cus_dup',
      items: [{ sku: 'MUG-LOGO', quantity: 1 }],
      total: '9.50',
      currency: 'USD' as const,
      payment_source: 'tok_visa',
      shipping_address: ADDRESS,
    };
    const first = newEnvelope('inventory.reserved', EVENT_VERSION, data, { correlationId: orderId });
    const second = newEnvelope('inventory.reserved', EVENT_VERSION, data, { correlationId: orderId });
    await Promise.all([
      stack.broker.publish('inventory.reserved', first, { messageId: first.id }),
      stack.broker.publish('inventory.reserved', first, { messageId: first.id }),
      stack.broker.publish('inventory.reserved', second, { messageId: second.id }),
    ]);
    await waitFor(async () => (await stack.handled('payment-service', first.id)) && (await stack.handled('payment-service', second.id)), {
      what: 'all three deliveries to be handled',
    });
    const payments = await ledger.paymentsFor(orderId);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ status: 'succeeded', amount: '9.50' });
  });
});

describe('reordering', () => {
  it('when a cancellation overtakes order.created, then nothing is reserved and stock is untouched', async () => {
    const orderId = randomUUID();
    const before = await stack.stockOf('TSHIRT-BLUE-M');
    const cancel = newEnvelope('order.cancel_requested', EVENT_VERSION, { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await stack.broker.publish('order.cancel_requested', cancel, { messageId: cancel.id });
    await waitFor(() => stack.handled('inventory-service', cancel.id), { what: 'the cancellation to be handled' });
    const created = newEnvelope(
      'order.created',
      EVENT_VERSION,
      {
        order_id: orderId,
        customer_id: 'cus_reorder',
        items: [{ sku: 'TSHIRT-BLUE-M', quantity: 2, unit_price: '19.99' }],
        total: '39.98',
        currency: 'USD' as const,
        payment_source: 'tok_visa',
        shipping_address: ADDRESS,
      },
      { correlationId: orderId },
    );
    await stack.broker.publish('order.created', created, { messageId: created.id });
    await waitFor(() => stack.handled('inventory-service', created.id), { what: 'the late order.created to be handled' });
    expect(await stack.stockOf('TSHIRT-BLUE-M')).toBe(before);
    const { rows } = await stack.db.query(
      `SELECT status FROM ${stack.table('inventory-service', 'reservations')} WHERE order_id = $1`,
      [orderId],
    );
    expect(rows).toEqual([{ status: 'cancelled' }]);
    expect(await ledger.paymentsFor(orderId)).toEqual([]);
  });
});

describe('poison messages', () => {
  it('when unparseable and schema-invalid messages arrive, then they are dead-lettered with a reason and good orders still complete', async () => {
    const dlq = stack.broker.names.deadLetterQueue('inventory-service');
    await stack.broker.publish('order.created', Buffer.from('{not json'), { messageId: 'garbage-1' });
    const invalid = newEnvelope('order.created', EVENT_VERSION, { order_id: randomUUID(), items: 'none' }, { correlationId: randomUUID() });
    await stack.broker.publish('order.created', invalid, { messageId: invalid.id });

    await waitFor(async () => (await stack.broker.messageCount(dlq)) === 2, { what: 'two dead letters' });
    const letters = await stack.broker.drain(dlq);
    const reasons = letters.map((m) => m.properties.headers?.[DEAD_LETTER_HEADERS.reason]).sort();
    expect(reasons).toEqual(['schema_invalid', 'unparseable']);
    for (const letter of letters) {
      expect(letter.properties.headers?.[DEAD_LETTER_HEADERS.queue]).toBe(stack.broker.names.queue('inventory-service'));
      expect(String(letter.properties.headers?.[DEAD_LETTER_HEADERS.error])).not.toBe('');
    }
    expect(letters.find((m) => m.properties.messageId === 'garbage-1')?.content.toString()).toBe('{not json');

    const placed = await api.place();
    expect((await api.settled(placed.id)).status).toBe('completed');
  });
});
