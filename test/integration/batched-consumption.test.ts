import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../../shared/contracts/events.js';
import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { OutboxRelay } from '../../shared/db/outbox-relay.js';
import { UnitOfWork } from '../../shared/db/unit-of-work.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { TestBroker } from '../support/broker.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BATCH_PROBE_SERVICE = 'batch-probe';
const namespace = `b${randomBytes(4).toString('hex')}_`;
const schema = `${namespace}batch_probe`;
const names = topologyNames(namespace);
const logs = new LogCapture();
const logger = logs.loggerFor(BATCH_PROBE_SERVICE);
const RETRY_LEVELS = 2;

let db: pg.Client;
let pool: Pool;
let broker: TestBroker;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  await migrate({ connectionString: DATABASE_URL, schema, dir: migrationDirs('common'), logger });
  db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  await db.query(`CREATE TABLE ${schema}.effects (event_id uuid NOT NULL, order_id text NOT NULL)`);
  pool = createPool({ connectionString: DATABASE_URL, schema, logger, max: 8 });
  broker = await TestBroker.connect(AMQP_URL, namespace);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await pool?.end();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
  await broker?.deleteTopology([BATCH_PROBE_SERVICE], RETRY_LEVELS);
  await broker?.close();
});

/** Transaction ids of the rows: units committed together share one. */
async function effects(orderIds: readonly string[]) {
  const { rows } = await db.query<{ order_id: string; xid: string }>(
    `SELECT order_id, xmin::text AS xid FROM ${schema}.effects WHERE order_id = ANY($1)`,
    [orderIds],
  );
  return rows;
}

describe('group commit (units of work of message handlers)', () => {
  it('when units arrive together, then they commit in one transaction and each gets its own result', async () => {
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: () => undefined }, { batchMax: 64 });
    const orders = Array.from({ length: 10 }, () => randomUUID());
    const results = await Promise.all(
      orders.map((orderId, i) =>
        unitOfWork.run(async ({ client }) => {
          await client.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [randomUUID(), orderId]);
          return i;
        }),
      ),
    );
    expect(results).toEqual(orders.map((_, i) => i));
    const rows = await effects(orders);
    expect(rows).toHaveLength(10);
    // Called in one turn, they share one transaction (or two, were the batch split by a slow turn).
    expect(new Set(rows.map((r) => r.xid)).size).toBeLessThanOrEqual(2);
  });

  it('when one unit of a batch throws, then only that one fails: the others are committed, each on its own, with their events', async () => {
    const published: string[][] = [];
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: (events) => void published.push(events.map((e) => (e.data as { order_id: string }).order_id)) }, { batchMax: 64, logger });
    const orders = Array.from({ length: 8 }, () => randomUUID());
    const poison = orders[4]!;
    const settled = await Promise.allSettled(
      orders.map((orderId) =>
        unitOfWork.run(async (tx) => {
          await tx.client.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [randomUUID(), orderId]);
          tx.emit('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
          if (orderId === poison) throw new Error('poison');
        }),
      ),
    );
    expect(settled.map((s) => s.status)).toEqual(orders.map((o) => (o === poison ? 'rejected' : 'fulfilled')));
    expect((settled[4] as PromiseRejectedResult).reason).toMatchObject({ message: 'poison' });
    const rows = await effects(orders);
    expect(rows.map((r) => r.order_id).sort()).toEqual(orders.filter((o) => o !== poison).sort());
    const { rows: outbox } = await db.query<{ order_id: string }>(
      `SELECT envelope->'data'->>'order_id' AS order_id FROM ${schema}.outbox WHERE envelope->'data'->>'order_id' = ANY($1)`,
      [orders],
    );
    expect(outbox.map((r) => r.order_id).sort()).toEqual(orders.filter((o) => o !== poison).sort());
    expect(published.flat().sort()).toEqual(orders.filter((o) => o !== poison).sort());
  });

  it('when the same event is applied twice in one batch, then the second finds it in the inbox', async () => {
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: () => undefined }, { batchMax: 64 });
    const orderId = randomUUID();
    const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    const apply = () =>
      unitOfWork.runOnce(event, async ({ client }) => {
        await client.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [event.id, orderId]);
      });
    const outcomes = await Promise.all([apply(), apply(), apply()]);
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
    expect(await effects([orderId])).toHaveLength(1);
  });
  it.each([false, true])('when units of several orders arrive together (interleaved: %s), then each order\'s units run in the order they came', async (interleave) => {
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: () => undefined }, { batchMax: 64, lanes: 4, interleave });
    const orders = Array.from({ length: 6 }, () => randomUUID());
    await db.query(`CREATE TABLE IF NOT EXISTS ${schema}.steps (seq bigserial PRIMARY KEY, order_id text NOT NULL, step int NOT NULL)`);
    const units = [];
    for (let step = 0; step < 5; step += 1) {
      for (const orderId of orders) {
        units.push(
          unitOfWork.run(async ({ client }) => {
            // Uneven work: were one order's units not chained, their inserts would come out of order.
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
            await client.query('INSERT INTO steps (order_id, step) VALUES ($1, $2)', [orderId, step]);
          }, orderId),
        );
      }
    }
    await Promise.all(units);
    const { rows } = await db.query<{ order_id: string; step: number; xid: string }>(
      `SELECT order_id, step, xmin::text AS xid FROM ${schema}.steps WHERE order_id = ANY($1) ORDER BY seq`,
      [orders],
    );
    for (const orderId of orders) {
      expect(rows.filter((r) => r.order_id === orderId).map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    }
    // Four lanes at most, each one batch (or two, were a batch split by a slow turn).
    expect(new Set(rows.map((r) => r.xid)).size).toBeLessThanOrEqual(8);
  });

  it('when units hand items to a collector, then it is flushed once per transaction with all of them', async () => {
    const unitOfWork = new UnitOfWork(pool, { publishCommitted: () => undefined }, { batchMax: 64 });
    const flushed: number[][] = [];
    const counter = {
      name: 'counter',
      flush: async (_client: unknown, items: number[]) => void flushed.push([...items].sort((a, b) => a - b)),
    };
    await Promise.all([1, 2, 3, 4].map((n) => unitOfWork.run(async (tx) => tx.collect(counter, n))));
    // Called in one turn, the four share one transaction.
    expect(flushed).toEqual([[1, 2, 3, 4]]);
  });

  describe('outbox marks', () => {
    let relay: OutboxRelay;
    beforeAll(() => {
      // The broker confirms at once; the sweep never takes a row within a test.
      relay = new OutboxRelay({ pool, publisher: { publish: async () => undefined }, logger, sweepIntervalMs: 600_000, sweepGraceMs: 600_000 });
      relay.start();
    });
    afterAll(() => relay.stop());

    async function outboxRow(id: string) {
      const { rows } = await db.query<{ published: boolean; xid: string }>(`SELECT published_at IS NOT NULL AS published, xmin::text AS xid FROM ${schema}.outbox WHERE id = $1`, [id]);
      return rows[0]!;
    }

    it('when a transaction commits after an event was confirmed, then it marks that event\'s row itself', async () => {
      const unitOfWork = new UnitOfWork(pool, relay);
      const orderId = randomUUID();
      const event = await unitOfWork.run(async (tx) => tx.emit('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId }));
      // The confirm is recorded right after the publish resolves; the relay's own UPDATE would wait 100 ms.
      await new Promise((resolve) => setImmediate(resolve));
      await unitOfWork.run(async ({ client }) => client.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [randomUUID(), orderId]));
      const [effect] = await effects([orderId]);
      expect(await outboxRow(event.id)).toEqual({ published: true, xid: effect!.xid });
    });

    it('when the transaction carrying marks rolls back, then the relay marks them itself', async () => {
      const unitOfWork = new UnitOfWork(pool, relay);
      const orderId = randomUUID();
      const event = await unitOfWork.run(async (tx) => tx.emit('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId }));
      await new Promise((resolve) => setImmediate(resolve));
      await expect(
        unitOfWork.run(async ({ client }) => {
          await client.query('INSERT INTO effects (event_id, order_id) VALUES ($1, $2)', [randomUUID(), orderId]);
          await client.query('SELECT 1/0');
        }),
      ).rejects.toThrow(/division by zero/);
      expect(await effects([orderId])).toEqual([]);
      await waitFor(async () => (await outboxRow(event.id)).published, { what: 'the relay to mark the row' });
    });
  });
});

describe('a batching consumer in a child process', () => {
  function startConsumer(crash?: { at: 'in_batch' | 'after_commit'; orderId: string }, poisonOrderId?: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', repoPath('test/fixtures/batch-consumer.ts')], {
      env: {
        ...process.env,
        AMQP_URL,
        DATABASE_URL,
        NAMESPACE: namespace,
        SCHEMA: schema,
        SERVICE: BATCH_PROBE_SERVICE,
        ...(crash ? { CRASH_AT: crash.at, CRASH_ORDER_ID: crash.orderId } : {}),
        ...(poisonOrderId ? { POISON_ORDER_ID: poisonOrderId } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const ready = new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, exited, ready, stderr: () => stderr };
  }

  beforeAll(async () => {
    // The consumer declares its queues; once they exist, messages can wait there for it.
    const declaring = startConsumer();
    await Promise.race([declaring.ready, declaring.exited.then((end) => Promise.reject(new Error(`consumer ended: ${end}`)))]);
    declaring.child.kill('SIGTERM');
    expect(await declaring.exited, declaring.stderr()).toBe(0);
  }, 30_000);

  async function publishAll(orders: readonly string[]) {
    for (const orderId of orders) {
      await broker.publish('order.cancel_requested', newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId }));
    }
  }

  for (const at of ['in_batch', 'after_commit'] as const) {
    it(`when it is killed ${at === 'in_batch' ? 'before the batch commits' : 'after the batch committed, before its acks'}, then every message is redelivered and applied exactly once`, async () => {
      const orders = Array.from({ length: 60 }, () => randomUUID());
      await publishAll(orders);
      const first = startConsumer({ at, orderId: orders[30]! });
      expect(await first.exited).toBe('SIGKILL');
      const beforeRestart = (await effects(orders)).length;
      if (at === 'in_batch') {
        // The batch that held the crashing unit never committed.
        expect(beforeRestart).toBeLessThan(orders.length);
      } else {
        // Its batch committed, and messages of it came back unacked: the broker redelivers them.
        expect(beforeRestart).toBeGreaterThan(30);
        await waitFor(async () => (await broker.messageCount(names.queue(BATCH_PROBE_SERVICE))) > 0, { what: 'unacked messages back in the queue' });
      }

      const second = startConsumer();
      await waitFor(async () => (await effects(orders)).length >= orders.length, { what: 'every message applied', timeoutMs: 20_000 });
      await waitFor(async () => (await broker.messageCount(names.queue(BATCH_PROBE_SERVICE))) === 0, { what: 'queue drained' });
      await second.ready;
      second.child.kill('SIGTERM');
      expect(await second.exited, second.stderr()).toBe(0);

      const rows = await effects(orders);
      expect(rows).toHaveLength(orders.length);
      expect(new Set(rows.map((r) => r.order_id)).size).toBe(orders.length);
      expect(await broker.messageCount(names.deadLetterQueue(BATCH_PROBE_SERVICE))).toBe(0);
      // The redelivered messages were applied in batches, not one transaction each.
      expect(new Set(rows.map((r) => r.xid)).size).toBeLessThan(orders.length);
    }, 60_000);
  }

  it('when one message of a batch is poison, then it alone is dead-lettered and every other one is applied', async () => {
    const orders = Array.from({ length: 40 }, () => randomUUID());
    const poison = orders[20]!;
    await publishAll(orders);
    const consumer = startConsumer(undefined, poison);
    const healthy = orders.filter((o) => o !== poison);
    await waitFor(async () => (await effects(healthy)).length >= healthy.length, { what: 'every healthy message applied', timeoutMs: 20_000 });
    await waitFor(async () => (await broker.messageCount(names.deadLetterQueue(BATCH_PROBE_SERVICE))) === 1, { what: 'the poison message dead-lettered' });
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited, consumer.stderr()).toBe(0);

    const [dead] = await broker.drain(names.deadLetterQueue(BATCH_PROBE_SERVICE));
    expect(JSON.parse(dead!.content.toString()).data.order_id).toBe(poison);
    const rows = await effects(orders);
    expect(rows.map((r) => r.order_id).sort()).toEqual([...healthy].sort());
    expect(await broker.messageCount(names.queue(BATCH_PROBE_SERVICE))).toBe(0);
  }, 60_000);
});
