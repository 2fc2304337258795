import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/contracts/envelope.js';
import { newEvent } from '../../shared/contracts/events.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { LANES } from '../../shared/messaging/topology-names.js';
import { ADDRESS } from '../support/order-api.js';
import type { ProcessName } from '../support/process-stack.js';
import { waitForQueuesIdle } from '../support/servers.js';
import { authHeader } from '../support/tokens.js';
import { FaultRun } from './fault-run.js';
import { emptyLoadResult, LOAD_CUSTOMER, runLoad } from './load-generator.js';

const run = FaultRun.forFile();

/** Order-to-completed milliseconds of the completed orders among `ids`: p50 and p99. */
async function sagaLatency(ids: string[]): Promise<{ p50: number; p99: number; n: number }> {
  const { rows } = await run.stack.db.query<{ ms: number }>(
    `SELECT extract(epoch FROM updated_at - created_at) * 1000 AS ms FROM ${run.stack.table('order-service', 'orders')}
     WHERE id = ANY($1::uuid[]) AND status = 'completed' ORDER BY 1`,
    [ids],
  );
  const at = (q: number) => Math.round(Number(rows[Math.min(rows.length - 1, Math.floor(q * rows.length))]?.ms ?? NaN));
  return { p50: at(0.5), p99: at(0.99), n: rows.length };
}

/** The three kinds of poison: bytes that are not JSON, events that fail their schema, and events that crash their handler. */
const POISON = {
  unparseable: (i: number) => ({ queue: SAGA_SERVICES[i % SAGA_SERVICES.length], body: Buffer.from(`{"id": "poison-${i}", not json`) }),
  schema_invalid: (i: number) => ({
    queue: SAGA_SERVICES[i % SAGA_SERVICES.length],
    body: newEnvelope('order.cancel_requested', 1, { order_id: `not-a-uuid-${i}` }, { correlationId: `poison-${i}` }),
  }),
  // Valid by its schema, but its address holds a NUL character, which Postgres refuses in jsonb:
  // inventory-service's handler fails on every attempt, and the message is dead-lettered when they run out.
  handler_crash: (i: number) => {
    const orderId = crypto.randomUUID();
    return {
      queue: 'inventory-service' as const,
      body: newEvent(
        'order.created', 
        {
          order_id: orderId,
          customer_id: 'cus_poison',
          items: [{ sku: 'STICKER-PACK', quantity: 1, unit_price: '4.0000' }],
          total: '4.00',
          currency: 'USD',
          payment_source: 'tok_visa',
          shipping_address: { ...ADDRESS, name: `Poison\u0000${i}` },
        },
        { correlationId: orderId },
      ),
    };
  },
};

describe('scenario 10: poison messages', () => {
  it('when 100 unparseable, 100 schema-invalid and 100 handler-crashing messages arrive amid good traffic, then exactly those 300 are dead-lettered with their reasons and good orders stay fast', async () => {
    const baselineFrom = run.placed.length;
    const baseline = await run.scenario('poison-baseline', { durationMs: 10_000, warmup: 1 }, async () => undefined);
    expect(baseline.violations).toEqual([]);
    const before = await sagaLatency(run.placed.slice(baselineFrom).map((o) => o.id));

    const poisonedFrom = run.placed.length;
    const figures = await run.scenario('poison-messages', { durationMs: 10_000, warmup: 1 }, async () => {
      // 300 messages over ~7.5 s, 4 every 100 ms, the three kinds interleaved.
      const kinds = Object.keys(POISON) as (keyof typeof POISON)[];
      for (let i = 0; i < 300; i += 1) {
        const { queue, body } = POISON[kinds[i % 3] as keyof typeof POISON](Math.floor(i / 3));
        await run.stack.broker.sendToQueue(run.stack.broker.names.queue(queue as string), Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)));
        run.poisoned += 1;
        if (i % 4 === 3) await sleep(100);
      }
    });
    const after = await sagaLatency(run.placed.slice(poisonedFrom).map((o) => o.id));
    const { rows: reasons } = await run.stack.db.query<{ reason: string; n: number }>(
      `SELECT reason, count(*)::int AS n FROM ${run.stack.table('dead-letters', 'dead_letters')} GROUP BY 1 ORDER BY 1`,
    );
    const ratio = after.p50 / before.p50;
    console.log(`[poison-messages] saga latency without poison p50 ${before.p50} ms p99 ${before.p99} ms; with: p50 ${after.p50} ms p99 ${after.p99} ms; p50 ratio ${ratio.toFixed(2)}`);
    expect(figures.violations).toEqual([]);
    expect(Object.fromEntries(reasons.map((r) => [r.reason, r.n]))).toEqual({ unparseable: 100, schema_invalid: 100, retries_exhausted: 100 });
    expect(ratio).toBeLessThanOrEqual(2);
  }, 180_000);
});

describe('scenario 11: duplicated and reordered events', () => {
  const PARTICIPANTS: ProcessName[] = ['inventory-service', 'payment-service', 'shipping-service'];

  it('when compensations arrive before the steps they undo and every event arrives ten times, then each order ends right, once', async () => {
    // Orders placed, and half of them cancelled, while the participants are down: each queue holds
    // an order's step and then its compensation.
    for (const name of PARTICIPANTS) await run.stack.kill(name, 'SIGTERM');
    const load = await runLoad(run.stack.orderApi, { rate: 10, durationMs: 2_000, progress: emptyLoadResult() });
    const cancelled = load.accepted.filter((_, i) => i % 2 === 0);
    for (const order of cancelled) {
      const response = await fetch(`${run.stack.orderApi}/orders/${order.id}/cancel`, { method: 'POST', headers: await authHeader(LOAD_CUSTOMER) });
      expect(response.status).toBeLessThan(300);
    }
    // Every queue, both lanes, replayed backwards, each message ten times (the compensations, in
    // their own lane, are taken beside the steps and so mostly ahead of them).
    let copies = 0;
    for (const service of PARTICIPANTS) {
      for (const lane of LANES) {
        const queue = run.stack.broker.names.queue(service, lane);
        const messages = await run.stack.broker.drain(queue);
        for (const message of messages.reverse()) {
          for (let copy = 0; copy < 10; copy += 1) {
            await run.stack.broker.sendToQueue(queue, message.content, { ...message.properties, headers: {} });
            copies += 1;
          }
        }
      }
    }
    for (const name of PARTICIPANTS) await run.stack.launch(name);
    run.placed.push(...load.accepted);
    const reordered = await run.check('reordered-and-duplicated', load, { extra: { cancelled_by_customer: cancelled.length, copies_delivered: copies } });
    expect(reordered.violations).toEqual([]);
    expect(reordered.cancelled).toBeGreaterThanOrEqual(cancelled.length);
    expect(copies).toBeGreaterThan(0);

    // Then every event of these orders, from every service's outbox, published ten times more.
    const ids = load.accepted.map((o) => o.id);
    let republished = 0;
    for (const service of SAGA_SERVICES) {
      const { rows } = await run.stack.db.query<{ routing_key: string; envelope: object }>(
        `SELECT routing_key, envelope FROM ${run.stack.table(service, 'outbox')} WHERE envelope->'data'->>'order_id' = ANY($1)`,
        [ids],
      );
      for (let copy = 0; copy < 10; copy += 1) {
        for (const row of rows) {
          await run.stack.broker.publish(row.routing_key, row.envelope);
          republished += 1;
        }
      }
    }
    await waitForQueuesIdle(run.stack.namespace);
    const duplicated = await run.check('duplicated-ten-times', { ...emptyLoadResult(), accepted: load.accepted }, { extra: { events_republished: republished } });
    expect(duplicated.violations).toEqual([]);
    expect(republished).toBeGreaterThan(0);
  }, 180_000);
});
