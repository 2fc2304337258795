import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/contracts/envelope.js';
import { newEvent } from '../../shared/contracts/events.js';
import { ADDRESS, OrderApi, ProviderLedger, orderBody } from '../support/order-api.js';
import { TestStack } from '../support/test-stack.js';
import { authHeader } from '../support/tokens.js';
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
    const first = newEvent('inventory.reserved', data, { correlationId: orderId });
    const second = newEvent('inventory.reserved', data, { correlationId: orderId });
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
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await stack.broker.publish('order.cancel_requested', cancel, { messageId: cancel.id });
    await waitFor(() => stack.handled('inventory-service', cancel.id), { what: 'the cancellation to be handled' });
    const created = newEvent(
      'order.created', 
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
    await stack.broker.publish('order.created', Buffer.from('{not json'), { messageId: 'garbage-1' });
    const invalid = newEnvelope('order.created', 1, { order_id: randomUUID(), items: 'none' }, { correlationId: randomUUID() });
    await stack.broker.publish('order.created', invalid, { messageId: invalid.id });

    const letters = await waitFor(
      async () => {
        const found = await deadLetters('?service=inventory-service');
        return found.length === 2 ? found : undefined;
      },
      { what: 'two archived dead letters' },
    );
    expect(letters.map((l) => l.reason).sort()).toEqual(['schema_invalid', 'unparseable']);
    expect(letters.every((l) => l.error && l.queue === stack.broker.names.deadLetterQueue('inventory-service'))).toBe(true);
    expect(letters.find((l) => l.message_id === 'garbage-1')?.body).toBe('{not json');
    expect(await stack.broker.messageCount(stack.broker.names.deadLetterQueue('inventory-service'))).toBe(0);

    const placed = await api.place();
    expect((await api.settled(placed.id)).status).toBe('completed');
  });
});

interface LetterView {
  id: string;
  reason: string;
  error: string | null;
  queue: string;
  message_id: string | null;
  body: string | null;
  replay_count: number;
}

const run = promisify(execFile);

/** Runs the dead-letter CLI against this test's namespace and returns its output. */
async function dlq(...args: string[]): Promise<string> {
  const script = path.resolve(import.meta.dirname, '..', '..', 'infra', 'scripts', 'dlq.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, NAMESPACE: stack.namespace },
    timeout: 30_000,
  });
  return stdout;
}

async function deadLetters(query = ''): Promise<LetterView[]> {
  const response = await fetch(`${stack.orderApi}/admin/dead-letters${query}`, { headers: await authHeader('admin') });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: LetterView[] }).data;
}

describe('dead-letter tooling', () => {
  it('when a dead letter is replayed after its cause is gone, then its service applies it and the replay is recorded', async () => {
    const orderId = randomUUID();
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    // As if shipping had given up on it earlier: straight into its dead-letter queue.
    await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue('shipping-service'), cancel, {
      messageId: cancel.id,
      type: cancel.type,
      headers: { 'x-dead-letter-reason': 'retries_exhausted', 'x-dead-letter-error': 'database was down', 'x-dead-lettered-at': new Date().toISOString() },
    });
    const [letter] = await waitFor(async () => {
      const found = await deadLetters('?service=shipping-service&reason=retries_exhausted');
      return found.length === 1 ? found : undefined;
    });
    expect(await stack.handled('shipping-service', cancel.id)).toBe(false);

    // Sent twice with one Idempotency-Key (an operator's retry): replayed once, the first answer repeated.
    const replayOnce = async () =>
      fetch(`${stack.orderApi}/admin/dead-letters/${letter!.id}/replay`, {
        method: 'POST',
        headers: { ...(await authHeader('admin')), 'idempotency-key': `replay-${letter!.id}` },
      });
    const replay = await replayOnce();
    expect(replay.status).toBe(202);
    const first = await replay.text();
    expect(JSON.parse(first)).toMatchObject({ replay_count: 1 });
    const again = await replayOnce();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(first);
    await waitFor(() => stack.handled('shipping-service', cancel.id), { what: 'the replayed event to be applied' });
    const { rows } = await stack.db.query(`SELECT requested_by FROM ${stack.table('dead-letters', 'dead_letter_replays')} WHERE dead_letter_id = $1`, [letter!.id]);
    expect(rows).toEqual([{ requested_by: 'operator' }]);

    const purge = await fetch(`${stack.orderApi}/admin/dead-letters/${letter!.id}`, { method: 'DELETE', headers: await authHeader('admin') });
    expect(purge.status).toBe(204);
    expect(await deadLetters('?service=shipping-service')).toEqual([]);
  });

  it('when operators use the CLI, then it lists with filters, replays and purges', async () => {
    const orderId = randomUUID();
    const cancel = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue('inventory-service'), cancel, {
      messageId: cancel.id,
      type: cancel.type,
      headers: { 'x-dead-letter-reason': 'handler_rejected', 'x-dead-lettered-at': new Date().toISOString() },
    });
    await waitFor(async () => (await deadLetters('?reason=handler_rejected')).length === 1, { what: 'the archived letter' });

    const listed = JSON.parse(await dlq('list', '--reason', 'handler_rejected', '--type', 'order.cancel_requested', '--json')) as LetterView[];
    expect(listed.map((l) => l.message_id)).toEqual([cancel.id]);
    expect(JSON.parse(await dlq('list', '--reason', 'handler_rejected', '--older-than', '3600', '--json'))).toEqual([]);
    expect(await dlq('replay', '--all', '--reason', 'handler_rejected')).toContain('replayed 1');
    await waitFor(() => stack.handled('inventory-service', cancel.id), { what: 'the replayed event to be applied' });
    expect(await dlq('purge', listed[0]!.id)).toContain('purged 1');
    expect(await deadLetters('?reason=handler_rejected')).toEqual([]);
  });

  it('when the operations endpoints are called without a token, then 401; with a customer token, then 403', async () => {
    const anonymous = await fetch(`${stack.orderApi}/admin/dead-letters`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const customer = await fetch(`${stack.orderApi}/admin/dead-letters`, { headers: await authHeader('cus_nosy') });
    expect(customer.status).toBe(403);
    expect(((await customer.json()) as { type: string }).type).toMatch(/forbidden$/);
  });
});
