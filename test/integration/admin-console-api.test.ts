import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../../shared/contracts/events.js';
import { ADDRESS, OrderApi, orderBody } from '../support/order-api.js';
import { expectProblem } from '../support/problem-assert.js';
import { EXTERNAL_STACK, TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The operations endpoints the console works from: order search, an order's saga timeline, an
 * admin's cancel, and dead letters by group (replay, purge).
 */
let stack: TestStack;
let admin: OrderApi;

beforeAll(async () => {
  stack = await TestStack.start();
  admin = new OrderApi(stack, 'admin');
});

afterAll(async () => {
  if (!EXTERNAL_STACK) await stack?.setProviderFaults({});
  await stack?.stop();
});

interface Summary {
  id: string;
  customer_id: string;
  status: string;
  cancellation_reason: string | null;
  created_at: string;
}
interface Timeline {
  order: Summary & { history: { event_id: string; type: string; detail: Record<string, unknown> }[] };
  entries: { event_id: string; event_type: string; service: string; role: string; occurred_at: string; recorded_at: string; duration_ms: number; detail: Record<string, unknown> }[];
  ahead: { event_type: string; service: string; role: string }[];
  dead_letters: { id: string; service: string; event_type: string | null; reason: string; error: string | null; replay_count: number }[];
  payment: { payment_id: string; amount: string; currency: string; refunded: boolean; refund_id: string | null } | null;
  shipment: { tracking_number: string; carrier: string } | null;
}
interface Group {
  service: string;
  event_type: string | null;
  reason: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

const newCustomer = (name: string) => new OrderApi(stack, `cus_${name}_${randomUUID().slice(0, 8)}`);

async function adminGet<T>(path: string): Promise<T> {
  const response = await admin.request('GET', path);
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const search = async (query: string) => (await adminGet<{ data: Summary[]; next_cursor: string | null }>(`/admin/orders?${query}`));
const ids = async (query: string) => (await search(query)).data.map((order) => order.id);
const timeline = (id: string) => adminGet<Timeline>(`/admin/orders/${id}/timeline`);
const groups = async () => (await adminGet<{ data: Group[] }>('/admin/dead-letters/groups')).data;
const letters = (column: string) => stack.table('dead-letters', column);

/** Puts a message into a service's dead-letter queue, as its consumer would, and waits until it is archived; returns its id. */
async function deadLetter(service: string, body: object, options: { reason: string; type?: string; at?: Date }): Promise<string> {
  const messageId = randomUUID();
  await stack.broker.sendToQueue(stack.broker.names.deadLetterQueue(service), body, {
    messageId,
    ...(options.type ? { type: options.type } : {}),
    headers: { 'x-dead-letter-reason': options.reason, 'x-dead-letter-error': 'database was down', 'x-dead-lettered-at': (options.at ?? new Date()).toISOString() },
  });
  return waitFor(
    async () => {
      const { rows } = await stack.db.query(`SELECT id FROM ${letters('dead_letters')} WHERE message_id = $1`, [messageId]);
      return rows[0]?.id as string | undefined;
    },
    { what: `dead letter ${messageId} to be archived` },
  );
}

/** A saga event some service gave up on, about `orderId`. */
const cancelEvent = (orderId: string = randomUUID()) => newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });

describe('order search', () => {
  it('when orders are searched by id, customer, status, reason and time, then exactly the matching ones come, newest first, page by page', async () => {
    const customer = newCustomer('search');
    const first = await customer.place();
    const declined = await customer.place(orderBody({ payment_source: 'tok_chargeDeclined' }));
    const last = await customer.place();
    for (const order of [first, declined, last]) await customer.settled(order.id);
    const createdAt = (order: { id: string }) => search(`q=${order.id}`).then((page) => page.data[0]!.created_at);

    expect(await ids(`q=${declined.id}`)).toEqual([declined.id]);
    expect(await search(`q=${customer.customerId}`)).toMatchObject({
      data: [{ id: last.id, customer_id: customer.customerId }, { id: declined.id }, { id: first.id }],
      next_cursor: null,
    });
    expect(await ids(`q=${customer.customerId}&status=cancelled`)).toEqual([declined.id]);
    expect(await ids(`q=${customer.customerId}&status=completed`)).toEqual([last.id, first.id]);
    expect(await ids(`q=${customer.customerId}&cancellation_reason=payment_declined`)).toEqual([declined.id]);
    expect(await ids(`q=${customer.customerId}&created_after=${await createdAt(declined)}`)).toEqual([last.id, declined.id]);
    expect(await ids(`q=${customer.customerId}&created_before=${await createdAt(declined)}`)).toEqual([first.id]);
    // Without a customer: every order in the status, here within this test's own time window.
    const window = `created_after=${await createdAt(first)}&created_before=${encodeURIComponent(new Date(Date.parse(await createdAt(last)) + 1).toISOString())}`;
    expect(await ids(`status=cancelled&${window}`)).toEqual([declined.id]);
    expect(await ids(`q=${randomUUID()}`)).toEqual([]);

    const pageOne = await search(`q=${customer.customerId}&limit=2`);
    expect(pageOne.data.map((order) => order.id)).toEqual([last.id, declined.id]);
    const pageTwo = await search(`q=${customer.customerId}&limit=2&cursor=${pageOne.next_cursor}`);
    expect(pageTwo).toMatchObject({ data: [{ id: first.id }], next_cursor: null });
  });

  it.each([
    ['the limit is 0', 'limit=0'],
    ['the limit is above 100', 'limit=101'],
    ['the status is not one', 'status=lost'],
    ['a date is not a date-time', 'created_after=yesterday'],
    ['a date is in year 0', 'created_before=0000-01-01T00:00:00Z'],
    ['the cursor is not one', 'cursor=%25%25%25'],
    ['a parameter is unknown', 'colour=red'],
  ])('when %s, then 400 validation_error', async (_when, query) => {
    await expectProblem(await admin.request('GET', `/admin/orders?${query}`), 400, 'validation_error');
  });
});

describe('order timeline', () => {
  it('when an order completed, then its timeline has each step in order with its publisher and duration, nothing ahead, its payment and tracking number', async () => {
    const customer = newCustomer('timeline');
    const placed = await customer.place();
    await customer.settled(placed.id);
    // order-service may record inventory.reserved after the order completed (two queues).
    const view = await waitFor(async () => {
      const current = await timeline(placed.id);
      return current.entries.length === 4 ? current : undefined;
    }, { what: 'the four steps to be recorded' });

    expect(view.order).toMatchObject({ id: placed.id, status: 'completed', customer_id: customer.customerId });
    expect(view.entries.map(({ event_type, service, role }) => [event_type, service, role])).toEqual([
      ['order.created', 'order-service', 'start'],
      ['inventory.reserved', 'inventory-service', 'step'],
      ['payment.succeeded', 'payment-service', 'step'],
      ['shipping.scheduled', 'shipping-service', 'step'],
    ]);
    expect(view.entries.map((entry) => entry.event_id)).toEqual(view.order.history.map((entry) => entry.event_id));
    expect(view.entries[0]!.duration_ms).toBe(0);
    for (let i = 1; i < view.entries.length; i += 1) {
      expect(view.entries[i]!.duration_ms).toBe(Date.parse(view.entries[i]!.occurred_at) - Date.parse(view.entries[i - 1]!.occurred_at));
      expect(view.entries[i]!.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect(view.ahead).toEqual([]);
    const charged = view.entries.find((entry) => entry.event_type === 'payment.succeeded')!;
    const scheduled = view.entries.find((entry) => entry.event_type === 'shipping.scheduled')!;
    expect(view.payment).toEqual({ payment_id: charged.detail.payment_id, amount: placed.total, currency: 'USD', refunded: false, refund_id: null });
    expect(view.payment!.payment_id).toMatch(/\S/);
    expect(view.shipment).toEqual({ tracking_number: scheduled.detail.tracking_number, carrier: scheduled.detail.carrier });
    expect(view.shipment!.tracking_number).toMatch(/\S/);
    expect(view.dead_letters).toEqual([]);
  });

  it('when shipping fails, then the refund and the stock release come after the failure as compensations, and the payment shows refunded', async () => {
    const customer = newCustomer('aq');
    const placed = await customer.place(orderBody({ shipping_address: { ...ADDRESS, country: 'AQ' } }));
    const view = await waitFor(async () => {
      const current = await timeline(placed.id);
      return current.order.status === 'cancelled' && current.entries.some((entry) => entry.event_type === 'inventory.released') ? current : undefined;
    }, { timeoutMs: 30_000, what: 'the compensations to be recorded' });

    const types = view.entries.map((entry) => entry.event_type);
    const at = (type: string) => types.indexOf(type);
    expect(at('payment.succeeded')).toBeLessThan(at('shipping.failed'));
    expect(at('payment.refunded')).toBeGreaterThan(at('shipping.failed'));
    expect(at('inventory.released')).toBeGreaterThan(at('shipping.failed'));
    expect(view.entries.slice(at('shipping.failed')).map(({ service, role }) => [service, role])).toEqual(
      expect.arrayContaining([['shipping-service', 'compensation'], ['payment-service', 'compensation'], ['inventory-service', 'compensation']]),
    );
    expect(view.order).toMatchObject({ status: 'cancelled', cancellation_reason: 'shipping_failed' });
    const refund = view.entries[at('payment.refunded')]!.detail;
    expect(view.payment).toEqual({ payment_id: refund.payment_id, amount: placed.total, currency: 'USD', refunded: true, refund_id: refund.refund_id });
    expect(view.payment!.refund_id).toMatch(/\S/);
    expect(view.shipment).toBeNull();
    expect(view.ahead).toEqual([]);
  });

  it("when one of the order's events is dead-lettered, then its timeline lists the letter; another order's does not", async () => {
    const customer = newCustomer('letters');
    const placed = await customer.place();
    const id = await deadLetter('shipping-service', cancelEvent(placed.id), { reason: 'handler_rejected', type: 'order.cancel_requested' });
    await deadLetter('shipping-service', cancelEvent(), { reason: 'handler_rejected', type: 'order.cancel_requested' });

    expect((await timeline(placed.id)).dead_letters).toEqual([
      expect.objectContaining({ id, service: 'shipping-service', event_type: 'order.cancel_requested', reason: 'handler_rejected', error: 'database was down', replay_count: 0 }),
    ]);
  });

  it('when the order does not exist, then 404 not_found', async () => {
    await expectProblem(await admin.request('GET', `/admin/orders/${randomUUID()}/timeline`), 404, 'not_found');
    await expectProblem(await admin.request('GET', '/admin/orders/not-an-id/timeline'), 404, 'not_found');
  });
});

describe.skipIf(EXTERNAL_STACK)('admin cancel', () => {
  it("when an admin cancels a customer's order, then it is cancelled at once, the compensations follow, and the admin is logged and in its history", async () => {
    const customer = newCustomer('cancel');
    const stockBefore = await stack.stockOf('MUG-LOGO');
    // A slow provider keeps the charge in progress: the order cannot complete before the cancel.
    await stack.setProviderFaults({ latency_ms: 2_000, match: 'payments' });
    const placed = await customer.place();
    const response = await admin.request('POST', `/admin/orders/${placed.id}/cancel`);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id: placed.id, customer_id: customer.customerId, status: 'cancelled', cancellation_reason: 'customer_request' });
    await stack.setProviderFaults({});

    const view = await waitFor(async () => {
      const current = await timeline(placed.id);
      return current.entries.some((entry) => entry.event_type === 'inventory.released') ? current : undefined;
    }, { timeoutMs: 30_000, what: 'the stock to be released' });
    expect(view.entries.find((entry) => entry.event_type === 'order.cancel_requested')).toMatchObject({
      service: 'order-service',
      role: 'compensation',
      detail: { reason: 'customer_request', requested_by: 'operator' },
    });
    expect(await stack.stockOf('MUG-LOGO')).toBe(stockBefore);
    expect(stack.logs.lines.some((line) => line.includes('order cancelled by an admin') && line.includes(placed.id) && line.includes('"admin":"operator"'))).toBe(true);

    // Again: nothing changes.
    expect((await admin.request('POST', `/admin/orders/${placed.id}/cancel`)).status).toBe(202);
  });

  it('when the order has shipped, then 409 order_not_cancellable; when it does not exist, 404', async () => {
    const customer = newCustomer('shipped');
    const placed = await customer.place();
    await customer.settled(placed.id);
    await expectProblem(await admin.request('POST', `/admin/orders/${placed.id}/cancel`), 409, 'order_not_cancellable');
    await expectProblem(await admin.request('POST', `/admin/orders/${randomUUID()}/cancel`), 404, 'not_found');
  });
});

describe('dead letters by group', () => {
  it('when letters of a kind pile up, then their group counts them, largest first, with when the first and the last came', async () => {
    const type = `console-test.${randomUUID().slice(0, 8)}`;
    const start = Date.now() - 60_000;
    for (let i = 0; i < 3; i += 1) await deadLetter('payment-service', { n: i }, { reason: 'schema_invalid', type, at: new Date(start + i * 1000) });
    await deadLetter('payment-service', { n: 3 }, { reason: 'unparseable', type, at: new Date(start + 5000) });

    const all = await groups();
    const mine = all.filter((group) => group.event_type === type);
    expect(mine).toEqual([
      { service: 'payment-service', event_type: type, reason: 'schema_invalid', count: 3, first_seen: new Date(start).toISOString(), last_seen: new Date(start + 2000).toISOString() },
      { service: 'payment-service', event_type: type, reason: 'unparseable', count: 1, first_seen: new Date(start + 5000).toISOString(), last_seen: new Date(start + 5000).toISOString() },
    ]);
    const counts = all.map((group) => group.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('when a group is replayed, then each of its letters goes back once, oldest first, recorded with the admin, and the group is gone', async () => {
    const events = [cancelEvent(), cancelEvent(), cancelEvent()];
    const start = Date.now() - 60_000;
    const letterIds: string[] = [];
    for (const [i, event] of events.entries()) {
      letterIds.push(await deadLetter('shipping-service', event, { reason: 'retries_exhausted', type: event.type, at: new Date(start + i * 1000) }));
    }
    const group = { service: 'shipping-service', event_type: 'order.cancel_requested', reason: 'retries_exhausted' };
    expect(await groups()).toContainEqual(expect.objectContaining({ ...group, count: 3 }));

    const response = await admin.request('POST', '/admin/dead-letters/replay', { group });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replayed: 3, ids: letterIds, more: false });
    for (const event of events) await waitFor(() => stack.handled('shipping-service', event.id), { what: `replayed ${event.id} to be applied` });
    const { rows } = await stack.db.query(
      `SELECT d.id, d.replay_count, array_agg(r.requested_by) AS requested_by FROM ${letters('dead_letters')} d
       JOIN ${letters('dead_letter_replays')} r ON r.dead_letter_id = d.id WHERE d.id = ANY($1::uuid[]) GROUP BY d.id, d.replay_count`,
      [letterIds],
    );
    expect(rows.map(({ id, replay_count, requested_by }) => ({ id, replay_count, requested_by })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [...letterIds].sort().map((id) => ({ id, replay_count: 1, requested_by: ['operator'] })),
    );
    expect((await groups()).filter((g) => g.service === group.service && g.event_type === group.event_type && g.reason === group.reason)).toEqual([]);

    // Asked again: the group has nothing waiting, so nothing goes twice.
    expect(await (await admin.request('POST', '/admin/dead-letters/replay', { group })).json()).toEqual({ replayed: 0, ids: [], more: false });
  });

  it('when letters are replayed by id, then each goes back once even if named twice', async () => {
    const event = cancelEvent();
    const id = await deadLetter('shipping-service', event, { reason: 'handler_timeout', type: event.type });
    const response = await admin.request('POST', '/admin/dead-letters/replay', { ids: [id, id.toUpperCase(), randomUUID()] });
    expect(await response.json()).toEqual({ replayed: 1, ids: [id], more: false });
    await waitFor(() => stack.handled('shipping-service', event.id), { what: 'the replayed event to be applied' });
    const { rows } = await stack.db.query(`SELECT requested_by FROM ${letters('dead_letter_replays')} WHERE dead_letter_id = $1`, [id]);
    expect(rows).toEqual([{ requested_by: 'operator' }]);
  });

  it('when a group is purged, then at most 1000 go per call, `more` says the rest wait, each purge records the admin, and the group is gone', async () => {
    const reason = 'bulk_purge_test';
    // Archived rows straight into the table: 1001 letters of one group, as if a consumer had failed on each.
    await stack.db.query(
      `INSERT INTO ${letters('dead_letters')} (id, archive_key, service, queue, event_type, reason, properties, body, dead_lettered_at)
       SELECT gen_random_uuid(), 'bulk-' || n, 'inventory-service', 'dlq', 'order.created', $1, '{}', '\\x7b7d', now() - make_interval(secs => 2000 - n)
       FROM generate_series(1, 1001) AS n`,
      [reason],
    );
    const group = { service: 'inventory-service', event_type: 'order.created', reason };
    expect(await groups()).toContainEqual(expect.objectContaining({ ...group, count: 1001 }));

    const first = (await (await admin.request('POST', '/admin/dead-letters/purge', { group })).json()) as { purged: number; ids: string[]; more: boolean };
    expect({ purged: first.purged, ids: first.ids.length, more: first.more }).toEqual({ purged: 1000, ids: 1000, more: true });
    expect(await groups()).toContainEqual(expect.objectContaining({ ...group, count: 1 }));
    const second = await (await admin.request('POST', '/admin/dead-letters/purge', { group })).json();
    expect(second).toMatchObject({ purged: 1, more: false });
    expect((await groups()).some((g) => g.reason === reason)).toBe(false);

    const { rows } = await stack.db.query(
      `SELECT count(*)::int AS purged, array_agg(DISTINCT purged_by) AS by FROM ${letters('dead_letters')} WHERE reason = $1 AND purged_at IS NOT NULL`,
      [reason],
    );
    expect(rows).toEqual([{ purged: 1001, by: ['operator'] }]);
  });

  it('when letters are purged by id, then they leave the list; an unknown or purged id is skipped', async () => {
    const id = await deadLetter('inventory-service', { not: 'an event' }, { reason: 'unparseable' });
    expect(await (await admin.request('POST', '/admin/dead-letters/purge', { ids: [id, randomUUID()] })).json()).toEqual({ purged: 1, ids: [id], more: false });
    expect(await (await admin.request('POST', '/admin/dead-letters/purge', { ids: [id] })).json()).toEqual({ purged: 0, ids: [], more: false });
    expect((await admin.request('GET', `/admin/dead-letters/${id}`)).status).toBe(404);
  });

  it('when a group\'s letters are listed, then exactly those it counts come (an unknown event type included), each with its secrets masked', async () => {
    const reason = `list_test_${randomUUID().slice(0, 8)}`;
    const withType = await deadLetter('inventory-service', { payment_source: 'tok_visa_secret', n: 1 }, { reason, type: 'order.created' });
    const untyped = [
      await deadLetter('inventory-service', { n: 2, authorization: 'Bearer eyJ.secret' }, { reason }),
      await deadLetter('inventory-service', { n: 3 }, { reason }),
    ];
    // One of the untyped letters is replayed: the group no longer counts it.
    await admin.request('POST', '/admin/dead-letters/replay', { ids: [untyped[0]] });
    type Listed = { id: string; body: string };
    const list = (query: string) => adminGet<{ data: Listed[] }>(`/admin/dead-letters?service=inventory-service&reason=${reason}&${query}`);

    expect((await list('event_type=')).data.map((letter) => letter.id)).toEqual(untyped);
    expect((await list('event_type=&waiting=true')).data.map((letter) => letter.id)).toEqual([untyped[1]]);
    // Equal counts: the group last seen first.
    expect((await groups()).filter((group) => group.reason === reason).map(({ event_type, count }) => ({ event_type, count }))).toEqual([
      { event_type: null, count: 1 },
      { event_type: 'order.created', count: 1 },
    ]);

    const [typed] = (await list('event_type=order.created&waiting=true')).data;
    expect(typed!.id).toBe(withType);
    expect(JSON.parse(typed!.body)).toEqual({ payment_source: '[REDACTED]', n: 1 });
    const one = await adminGet<Listed>(`/admin/dead-letters/${untyped[0]}`);
    expect(JSON.parse(one.body)).toEqual({ n: 2, authorization: '[REDACTED]' });
    await expectProblem(await admin.request('GET', '/admin/dead-letters?waiting=yes'), 400, 'validation_error');
  });

  it.each([
    ['the body is empty', {}],
    ['both ids and a group are given', { ids: [randomUUID()], group: { service: 's', event_type: null, reason: 'r' } }],
    ['an id is not a UUID', { ids: ['urn:uuid:0b6f3a52-6d3e-4c55-9d0e-3f1f4c0a9b21'] }],
    ['no id is given', { ids: [] }],
    ['more than 1000 ids are given', { ids: Array.from({ length: 1001 }, () => randomUUID()) }],
    ['the group lacks its reason', { group: { service: 's', event_type: null } }],
  ])('when %s, then replay and purge answer 400 validation_error', async (_when, body) => {
    await expectProblem(await admin.request('POST', '/admin/dead-letters/replay', body), 400, 'validation_error');
    await expectProblem(await admin.request('POST', '/admin/dead-letters/purge', body), 400, 'validation_error');
  });
});

describe('who may call', () => {
  it('when a customer calls any of these endpoints, then 403 forbidden', async () => {
    const customer = newCustomer('nosy');
    const placed = await customer.place();
    const calls: [string, string, unknown?][] = [
      ['GET', `/admin/orders?q=${customer.customerId}`],
      ['GET', `/admin/orders/${placed.id}/timeline`],
      ['POST', `/admin/orders/${placed.id}/cancel`],
      ['GET', '/admin/dead-letters/groups'],
      ['POST', '/admin/dead-letters/replay', { ids: [randomUUID()] }],
      ['POST', '/admin/dead-letters/purge', { ids: [randomUUID()] }],
    ];
    for (const [method, path, body] of calls) await expectProblem(await customer.request(method, path, body), 403, 'forbidden');
    expect((await customer.get(placed.id)).status).not.toBe('cancelled');
  });
});
