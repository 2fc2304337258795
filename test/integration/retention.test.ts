import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../services/order-service/entry-points/http/idempotency.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { ADDRESS, OrderApi, orderBody } from '../support/order-api.js';
import { TestStack } from '../support/test-stack.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger({ service: 'retention-test', level: 'error' });
/** More rows than one batch (1 000) of a prune deletes, so every prune here takes several. */
const MANY = 1_050;

describe('retention prunes', () => {
  let stack: TestStack;
  let store: JobStore;

  beforeAll(async () => {
    stack = await TestStack.start({ JOBS_POLL_MS: '500', RETENTION_INTERVAL: '15m' });
    store = await JobStore.open({ connectionString: DATABASE_URL, namespace: stack.namespace, logger });
  });

  afterAll(async () => {
    await store?.close();
    await stack?.stop();
  });

  /** Runs one job now, through pg-boss as its schedule would, and returns its output. */
  async function run(queue: string): Promise<unknown> {
    const { id } = await store.run(queue);
    const ended = await store.waitFor(id, 30_000);
    expect(ended?.state).toBe('completed');
    return ended!.output;
  }

  /** Inserts orders (and, per order, `history` history rows recorded `historyAge` ago); returns their ids. */
  async function insertOrders(count: number, row: { status: string; age: string; ended?: string; history?: number; historyAge?: string; keyed?: boolean; customer?: string }): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    await stack.db.query(
      `INSERT INTO ${stack.table('order-service', 'orders')}
         (id, customer_id, status, currency, total, shipping_address, deadline_at, created_at, updated_at, idempotency_key_hash, request_hash)
       SELECT id, $6, $2, 'USD', 10, $3, now() + interval '1 day', now() - $4::interval, now() - $5::interval,
              CASE WHEN $7 THEN encode(sha256(id::text::bytea), 'hex') END, CASE WHEN $7 THEN 'request' END
       FROM unnest($1::uuid[]) id`,
      [ids, row.status, JSON.stringify(ADDRESS), row.age, row.ended ?? row.age, row.customer ?? 'cus_retention', row.keyed ?? false],
    );
    if (row.history) {
      await stack.db.query(
        `INSERT INTO ${stack.table('order-service', 'order_history')} (order_id, event_id, event_type, occurred_at, recorded_at)
         SELECT id, gen_random_uuid(), 'test.event', now() - $2::interval, now() - $2::interval FROM unnest($1::uuid[]) id, generate_series(1, $3)`,
        [ids, row.historyAge ?? row.age, row.history],
      );
    }
    return ids;
  }

  it('when the services start, then each table has its prune, scheduled at RETENTION_INTERVAL, in the service that owns the table and nowhere else', async () => {
    const stats = await store.stats();
    const cronOf = new Map(stats.map((queue) => [queue.name, queue.cron]));
    const prunes = [
      ...SAGA_SERVICES.flatMap((service) => [`${service}.outbox-prune`, `${service}.inbox-prune`]),
      'order-service.order-history-prune',
      'order-service.order-retry-prune',
      'order-service.idempotency-key-prune',
      'order-service.dead-letter-prune',
      'payment-provider.idempotency-key-prune',
    ];
    for (const queue of prunes) expect([queue, cronOf.get(queue)]).toEqual([queue, expect.stringMatching(/^\d{1,2}-59\/15 \* \* \* \*$/)]);
    expect(stats.filter((queue) => queue.name.endsWith('-prune')).map((queue) => queue.name).sort()).toEqual(prunes.sort());
  });

  it('when retries were reported longer ago than the history is kept, then they are deleted and recent ones stay', async () => {
    const table = stack.table('order-service', 'order_retries');
    const insert = (count: number, age: string) =>
      stack.db.query(
        `INSERT INTO ${table} (event_id, service, attempt, order_id, event_type, error, retried_at)
         SELECT gen_random_uuid(), 'payment-service', 1, gen_random_uuid(), 'inventory.reserved', 'provider answered 500', now() - $2::interval
         FROM generate_series(1, $1)`,
        [count, age],
      );
    await insert(MANY, '400 days');
    await insert(3, '10 days');
    expect(await run('order-service.order-retry-prune')).toEqual({ deleted: MANY });
    const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0].n).toBe(3);
  });

  it('when orders ended long ago, then their history is deleted, and the orders, recent history and history of orders not ended stay', async () => {
    const old = await insertOrders(MANY, { status: 'completed', age: '400 days', history: 2 });
    const [recent] = await insertOrders(1, { status: 'cancelled', age: '10 days', history: 3 });
    const [open] = await insertOrders(1, { status: 'pending', age: '400 days', history: 1 });
    // Ended yesterday, though its history is old: kept until a year after it ended.
    const [endedLately] = await insertOrders(1, { status: 'completed', age: '400 days', ended: '1 day', history: 1 });

    expect(await run('order-service.order-history-prune')).toEqual({ deleted: 2 * MANY });

    const everyone = [...old, recent!, open!, endedLately!];
    const { rows: history } = await stack.db.query<{ order_id: string; n: number }>(
      `SELECT order_id, count(*)::int AS n FROM ${stack.table('order-service', 'order_history')} WHERE order_id = ANY($1::uuid[]) GROUP BY order_id ORDER BY n`,
      [everyone],
    );
    expect(new Map(history.map((row) => [row.order_id, row.n]))).toEqual(new Map([[open, 1], [endedLately, 1], [recent, 3]]));
    const { rows: orders } = await stack.db.query(`SELECT count(*)::int AS n FROM ${stack.table('order-service', 'orders')} WHERE id = ANY($1::uuid[])`, [everyone]);
    expect(orders[0].n).toBe(everyone.length);
  });

  it('when an order was placed more than twice the key TTL ago, then its Idempotency-Key is forgotten and may place a new order; a younger key still holds', async () => {
    const customer = `cus_${randomUUID().slice(0, 8)}`;
    const api = new OrderApi(stack, customer);
    const [keyed] = await insertOrders(1, { status: 'completed', age: '3 days', keyed: true, customer });
    const old = await insertOrders(MANY, { status: 'completed', age: '3 days', keyed: true });
    const [young] = await insertOrders(1, { status: 'completed', age: '1 hour', keyed: true, customer });
    // The keys the rows hold are the hashes of these values (insertOrders: sha256 of the order id).
    const oldKey = { 'idempotency-key': keyed! };
    const youngKey = { 'idempotency-key': young! };
    // Before the prune, the orders table alone refuses the key with another request (Redis has no record).
    expect((await api.request('POST', '/orders', orderBody(), oldKey)).status).toBe(422);

    expect(await run('order-service.idempotency-key-prune')).toEqual({ cleared: MANY + 1 });

    const { rows } = await stack.db.query<{ id: string; idempotency_key_hash: string | null; request_hash: string | null }>(
      `SELECT id, idempotency_key_hash, request_hash FROM ${stack.table('order-service', 'orders')} WHERE id = ANY($1::uuid[])`,
      [[keyed, ...old, young]],
    );
    expect(rows).toHaveLength(MANY + 2);
    expect(rows.filter((row) => row.idempotency_key_hash !== null).map((row) => [row.id, row.idempotency_key_hash, row.request_hash])).toEqual([
      [young, sha256(young!), 'request'],
    ]);
    const placed = await api.request('POST', '/orders', orderBody(), oldKey);
    expect(placed.status).toBe(202);
    expect(((await placed.json()) as { id: string }).id).not.toBe(keyed);
    expect((await api.request('POST', '/orders', orderBody(), youngKey)).status).toBe(422);
  });

  it('when dead letters were purged or replayed long ago, then they go with their replays; open and lately handled ones stay', async () => {
    const letters = stack.table('dead-letters', 'dead_letters');
    const replays = stack.table('dead-letters', 'dead_letter_replays');
    const insert = async (count: number, row: { age: string; purged?: string; replayed?: string }) => {
      const ids = Array.from({ length: count }, () => randomUUID());
      await stack.db.query(
        `INSERT INTO ${letters} (id, archive_key, service, queue, reason, properties, body, dead_lettered_at, replay_count, last_replayed_at, purged_at)
         SELECT id, id::text, 'shipping-service', 'q', 'rejected', '{}', '\\x7b7d', now() - $2::interval,
                CASE WHEN $3::interval IS NULL THEN 0 ELSE 1 END, now() - $3::interval, now() - $4::interval
         FROM unnest($1::uuid[]) id`,
        [ids, row.age, row.replayed ?? null, row.purged ?? null],
      );
      if (row.replayed) {
        await stack.db.query(`INSERT INTO ${replays} (dead_letter_id, requested_by, replayed_at) SELECT id, 'operator', now() - $2::interval FROM unnest($1::uuid[]) id`, [ids, row.replayed]);
      }
      return ids;
    };
    const purgedLongAgo = await insert(MANY, { age: '60 days', purged: '40 days' });
    const [replayedLongAgo] = await insert(1, { age: '60 days', replayed: '40 days' });
    // Never handled: kept however old, a message the system could not apply.
    const [open] = await insert(1, { age: '400 days' });
    const [purgedLately] = await insert(1, { age: '60 days', purged: '1 day' });
    const [replayedLately] = await insert(1, { age: '60 days', replayed: '1 day' });

    expect(await run('order-service.dead-letter-prune')).toEqual({ deleted: MANY + 1 });

    const left = await stack.db.query<{ id: string }>(`SELECT id FROM ${letters} WHERE id = ANY($1::uuid[]) ORDER BY id`, [
      [...purgedLongAgo, replayedLongAgo, open, purgedLately, replayedLately],
    ]);
    expect(left.rows.map((row) => row.id)).toEqual([open, purgedLately, replayedLately].sort());
    const replayed = await stack.db.query<{ dead_letter_id: string }>(`SELECT dead_letter_id FROM ${replays} WHERE dead_letter_id = ANY($1::uuid[])`, [
      [replayedLongAgo, replayedLately],
    ]);
    expect(replayed.rows.map((row) => row.dead_letter_id)).toEqual([replayedLately]);
  });

  it("when the provider's Idempotency-Keys are past their TTL, then its job deletes them and keeps the younger ones", async () => {
    const keys = stack.table('payment-provider', 'idempotency_keys');
    const fingerprint = `fp_${randomUUID()}`;
    await stack.db.query(
      `INSERT INTO ${keys} (api_key_fingerprint, key, request_hash, response_status, response_body, created_at)
       SELECT $1, 'old-' || n, 'h', 200, '{}', now() - interval '2 days' FROM generate_series(1, 2500) n`,
      [fingerprint],
    );
    await stack.db.query(
      `INSERT INTO ${keys} (api_key_fingerprint, key, request_hash, response_status, response_body, created_at) VALUES ($1, 'young', 'h', 200, '{}', now() - interval '1 hour')`,
      [fingerprint],
    );

    expect(await run('payment-provider.idempotency-key-prune')).toEqual({ deleted: 2_500 });

    const { rows } = await stack.db.query<{ key: string }>(`SELECT key FROM ${keys} WHERE api_key_fingerprint = $1`, [fingerprint]);
    expect(rows.map((row) => row.key)).toEqual(['young']);
  });
});
