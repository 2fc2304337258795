import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../shared/contracts/envelope.js';
import { newEvent, type SagaEvent } from '../../shared/contracts/events.js';
import { migrate } from '../../shared/db/migrate.js';
import { OutboxRelay } from '../../shared/db/outbox-relay.js';
import type { PublishOptions } from '../../shared/messaging/event-publisher.js';
import { UnroutableEventError } from '../../shared/messaging/unroutable-event-error.js';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { UnitOfWork, type Transaction } from '../../shared/db/unit-of-work.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { LogCapture } from '../support/log-capture.js';
import { waitFor } from '../support/wait-for.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `h${randomBytes(4).toString('hex')}_outbox`;
const logs = new LogCapture();
const logger = logs.loggerFor('order-service');
/** Long enough that a relay's sweep never runs or never takes a row within a test. */
const NEVER_MS = 10 * 60_000;
const WAIT = { timeoutMs: 5_000 };

/**
 * A publisher for tests only: records every publish asked of it and every one it confirmed. It can
 * refuse publishes (a broker outage) or hold them unconfirmed until released.
 */
class FakePublisher {
  readonly attempts: EventEnvelope[] = [];
  readonly confirmed: EventEnvelope[] = [];
  /** What each event was last published with (its trace context, the relay's path), by id. */
  readonly options = new Map<string, PublishOptions | undefined>();
  /** While set, publishes are rejected. */
  failing = false;
  /** Ids the broker returns as unroutable (no queue bound), until removed. */
  readonly unroutable = new Set<string>();
  private held: Promise<void> | undefined;
  private releaseHeld: (() => void) | undefined;

  async publish(envelope: EventEnvelope, options?: PublishOptions): Promise<void> {
    this.attempts.push(envelope);
    this.options.set(envelope.id, options);
    if (this.failing) throw new Error('broker unavailable');
    if (this.unroutable.has(envelope.id)) {
      throw new UnroutableEventError('returned', { context: { routing_key: envelope.type, event_id: envelope.id } });
    }
    if (this.held) await this.held;
    this.confirmed.push(envelope);
  }

  /** Publishes from now on wait for `release()` before they are confirmed. */
  hold(): void {
    this.held = new Promise((resolve) => (this.releaseHeld = resolve));
  }

  release(): void {
    this.releaseHeld?.();
    this.held = undefined;
  }

  attemptsOf(id: string): number {
    return this.attempts.filter((e) => e.id === id).length;
  }

  confirmedIds(): string[] {
    return this.confirmed.map((e) => e.id);
  }
}

let pool: Pool;
let admin: pg.Client;
let publisher: FakePublisher;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  await migrate({ connectionString: DATABASE_URL, schema, dir: repoPath('infra/migrations/common'), logger });
  admin = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await admin.connect();
  // A state change of the test's own, written in the same transactions as the events.
  await admin.query('CREATE TABLE ledger (id uuid PRIMARY KEY, note text NOT NULL)');
  pool = createPool({ connectionString: DATABASE_URL, schema, max: 8, logger });
});

beforeEach(async () => {
  publisher = new FakePublisher();
  await admin.query('TRUNCATE outbox, ledger');
});

afterEach(async () => {
  publisher.release();
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
});

afterAll(async () => {
  await pool.end();
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
});

function startRelay(timing: { sweepIntervalMs?: number; sweepGraceMs?: number } = {}): OutboxRelay {
  const relay = new OutboxRelay({
    pool,
    publisher,
    logger,
    sweepIntervalMs: timing.sweepIntervalMs ?? NEVER_MS,
    sweepGraceMs: timing.sweepGraceMs ?? NEVER_MS,
  });
  relays.push(relay);
  relay.start();
  return relay;
}

/** A saga event; `step` names it in the test (it travels as the order id's namesake, unread). */
function event(_step: string): SagaEvent<'order.cancel_requested'> {
  const orderId = randomUUID();
  return newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
}

/** Emits `event` as built, keeping its id, so the test can follow it. */
function emit(tx: Transaction, event: SagaEvent<'order.cancel_requested'>): void {
  tx.emit(event.type, event.data, { id: event.id, correlationId: event.correlation_id, occurredAt: new Date(event.occurred_at) });
}

async function ledgerHas(id: string): Promise<boolean> {
  const { rows } = await admin.query('SELECT 1 FROM ledger WHERE id = $1', [id]);
  return rows.length > 0;
}

async function outboxRows(ids: string[]): Promise<{ id: string; envelope: EventEnvelope; published: boolean }[]> {
  const { rows } = await admin.query<{ id: string; envelope: EventEnvelope; published: boolean }>(
    'SELECT id, envelope, published_at IS NOT NULL AS published FROM outbox WHERE id = ANY($1::uuid[]) ORDER BY created_at',
    [ids],
  );
  return rows;
}

async function unpublishedCount(ids: string[]): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1::uuid[]) AND published_at IS NULL',
    [ids],
  );
  return rows[0]!.n;
}

/** An unpublished row written an hour ago, as a crash or another instance would leave it. */
async function insertStaleRow(envelope: EventEnvelope, traceContext?: Record<string, string>): Promise<void> {
  await admin.query(
    `INSERT INTO outbox (id, routing_key, envelope, trace_context, created_at) VALUES ($1, $2, $3, $4, clock_timestamp() - interval '1 hour')`,
    [envelope.id, envelope.type, envelope, traceContext ?? null],
  );
}

describe('unit of work and the fast path', () => {
  it('when a unit of work emits two events and commits, then both are published once, in emit order, and both rows are marked published', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const first = event('first');
    const second = event('second');
    const noteId = randomUUID();

    await unitOfWork.run(async (tx) => {
      await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [noteId, 'two events']);
      emit(tx, first);
      emit(tx, second);
    });

    await waitFor(async () => (await unpublishedCount([first.id, second.id])) === 0, { ...WAIT, what: 'both rows marked published' });
    expect(publisher.attempts.map((e) => e.id)).toEqual([first.id, second.id]);
    expect(publisher.confirmedIds()).toEqual([first.id, second.id]);
    expect(await outboxRows([first.id, second.id])).toEqual([
      { id: first.id, envelope: first, published: true },
      { id: second.id, envelope: second, published: true },
    ]);
    expect(await ledgerHas(noteId)).toBe(true);
  });

  it('when a statement in the unit of work fails after an emit, then the state change is rolled back, nothing reaches the outbox and nothing is published', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const emitted = event('doomed');
    const noteId = randomUUID();

    const run = unitOfWork.run(async (tx) => {
      await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [noteId, 'rolled back']);
      emit(tx, emitted);
      await tx.client.query('SELECT 1 / $1::int AS q', [0]);
    });

    await expect(run).rejects.toMatchObject({ code: '22012' });
    expect(await ledgerHas(noteId)).toBe(false);
    expect(await outboxRows([emitted.id])).toEqual([]);
    expect(publisher.attempts).toEqual([]);
  });

  it('when the work catches a failed statement and returns normally after an emit, then run rejects, nothing is committed and nothing is published', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const emitted = event('after a swallowed error');
    const noteId = randomUUID();

    const run = unitOfWork.run(async (tx) => {
      await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [noteId, 'aborted']);
      emit(tx, emitted);
      await tx.client.query('SELECT 1 / $1::int AS q', [0]).catch(() => undefined);
    });

    // The outbox insert sent with COMMIT meets the aborted transaction.
    await expect(run).rejects.toMatchObject({ code: '25P02' });
    expect(await ledgerHas(noteId)).toBe(false);
    expect(await outboxRows([emitted.id])).toEqual([]);
    expect(publisher.attempts).toEqual([]);
  });

  it('when the work catches a failed statement and emits nothing, then run rejects instead of reporting a commit the server rolled back', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const noteId = randomUUID();
    const run = unitOfWork.run(async (tx) => {
      await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [noteId, 'reported as done']);
      await tx.client.query('SELECT 1 / $1::int AS q', [0]).catch(() => undefined);
      return 'done';
    });
    await expect(run).rejects.toThrow(/rolled back/);
    expect(await ledgerHas(noteId)).toBe(false);
  });

  it('when the outbox insert fails at commit (an event id already in the outbox), then run rejects with that error, the other write is not committed and nothing is published', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const earlier = event('earlier');
    await admin.query('INSERT INTO outbox (id, routing_key, envelope, published_at) VALUES ($1, $2, $3, clock_timestamp())', [
      earlier.id,
      earlier.type,
      earlier,
    ]);
    const fresh = event('fresh');
    const noteId = randomUUID();

    const run = unitOfWork.run(async (tx) => {
      await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [noteId, 'never committed']);
      emit(tx, fresh);
      emit(tx, { ...earlier, data: { ...earlier.data, reason: 'deadline_exceeded' } });
    });

    await expect(run).rejects.toMatchObject({ code: '23505', constraint: 'outbox_pkey' });
    expect(await ledgerHas(noteId)).toBe(false);
    expect(await outboxRows([fresh.id, earlier.id])).toEqual([{ id: earlier.id, envelope: earlier, published: true }]);
    expect(publisher.attempts).toEqual([]);

    // The failed commit left every connection usable: the next unit of work commits and publishes.
    const next = event('next');
    await unitOfWork.run(async (tx) => emit(tx, next));
    await waitFor(async () => (await unpublishedCount([next.id])) === 0, { ...WAIT, what: 'the next event marked published' });
    expect(publisher.confirmedIds()).toEqual([next.id]);
  });
});

describe('the sweep', () => {
  it('when the publish after commit fails, then the row stays unpublished while the broker refuses, and the sweep publishes and marks it once it accepts', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay({ sweepIntervalMs: 50, sweepGraceMs: 100 }));
    const emitted = event('retried by the sweep');
    publisher.failing = true;

    await unitOfWork.run(async (tx) => emit(tx, emitted));

    // The fast path's attempt, then at least two of the sweep's, all refused.
    await waitFor(async () => publisher.attemptsOf(emitted.id) >= 3, { ...WAIT, what: 'the sweep to retry the event' });
    expect(await unpublishedCount([emitted.id])).toBe(1);

    publisher.failing = false;
    await waitFor(async () => (await unpublishedCount([emitted.id])) === 0, { ...WAIT, what: 'the sweep to mark the row' });
    expect(publisher.confirmedIds()).toEqual([emitted.id]);
  });

  it('when one event of a sweep\'s batch comes back unroutable, then only the others are marked, an error names its routing key, and a later pass sends it once it routes', async () => {
    startRelay({ sweepIntervalMs: 50, sweepGraceMs: 100 });
    const [routed, returned] = [event('routed'), event('returned')];
    publisher.unroutable.add(returned.id);
    await insertStaleRow(routed);
    await insertStaleRow(returned);

    await waitFor(async () => (await unpublishedCount([routed.id])) === 0, { ...WAIT, what: 'the routed event marked' });
    await waitFor(async () => publisher.attemptsOf(returned.id) >= 2, { ...WAIT, what: 'the returned event tried again' });
    expect(await unpublishedCount([returned.id])).toBe(1);
    const errors = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.level === 'error');
    expect(errors).toContainEqual(expect.objectContaining({ routing_key: 'order.cancel_requested', event_id: returned.id }));

    publisher.unroutable.delete(returned.id);
    await waitFor(async () => (await unpublishedCount([returned.id])) === 0, { ...WAIT, what: 'the returned event marked once it routes' });
    expect(publisher.confirmedIds().sort()).toEqual([routed.id, returned.id].sort());
  });

  it('when a row left unpublished carries a trace context, then the sweep publishes its event as its child; a row without one, as a root', async () => {
    startRelay({ sweepIntervalMs: 50, sweepGraceMs: 100 });
    const [traced, untraced] = [event('traced'), event('untraced')];
    const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' };
    await insertStaleRow(traced, carrier);
    await insertStaleRow(untraced);

    await waitFor(async () => (await unpublishedCount([traced.id, untraced.id])) === 0, { ...WAIT, what: 'the sweep to publish both' });
    expect(publisher.options.get(traced.id)).toEqual({ traceContext: carrier, outbox: 'sweep' });
    expect(publisher.options.get(untraced.id)).toEqual({ traceContext: undefined, outbox: 'sweep' });
  });

  it('when an unpublished row is younger than the grace period, then the sweep leaves it alone over several passes while it takes older rows', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay({ sweepIntervalMs: 50, sweepGraceMs: NEVER_MS }));
    const young = event('young');
    publisher.failing = true;
    await unitOfWork.run(async (tx) => emit(tx, young));
    expect(publisher.attemptsOf(young.id)).toBe(1);
    publisher.failing = false;

    // Each stale row is taken by a pass that started after it was written, and that pass saw the
    // young row too: three stale rows marked in turn are three passes that left the young row.
    for (const step of ['stale 1', 'stale 2', 'stale 3']) {
      const stale = event(step);
      await insertStaleRow(stale);
      await waitFor(async () => (await unpublishedCount([stale.id])) === 0, { ...WAIT, what: `the sweep to take ${step}` });
    }

    expect(await unpublishedCount([young.id])).toBe(1);
    expect(publisher.attemptsOf(young.id)).toBe(1);
    expect(publisher.confirmedIds()).not.toContain(young.id);
  });
});

describe('the fast path under load and at stop', () => {
  it('when 50 units of work commit concurrently, then every event is published exactly once by the fast path and the rows are marked in a few batched updates', async () => {
    const unitOfWork = new UnitOfWork(pool, startRelay());
    const events = Array.from({ length: 50 }, (_, i) => [event(`unit ${i} first`), event(`unit ${i} second`)] as const);
    const ids = events.flat().map((e) => e.id);
    publisher.hold();

    await Promise.all(
      events.map(([first, second]) =>
        unitOfWork.run(async (tx) => {
          await tx.client.query('INSERT INTO ledger (id, note) VALUES ($1, $2)', [randomUUID(), 'concurrent']);
          emit(tx, first);
          emit(tx, second);
        }),
      ),
    );

    // Every event is handed to the publisher once, and no row is marked before its confirm.
    expect(publisher.attempts.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(await unpublishedCount(ids)).toBe(ids.length);

    publisher.release();
    await waitFor(async () => (await unpublishedCount(ids)) === 0, { ...WAIT, what: 'all rows marked published' });
    expect(publisher.confirmedIds().sort()).toEqual([...ids].sort());
    // Rows updated by one statement share its transaction id: confirms that arrived together were
    // marked together, not one UPDATE per event.
    const { rows } = await admin.query<{ updates: number }>(
      'SELECT count(DISTINCT xmin::text)::int AS updates FROM outbox WHERE id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows[0]!.updates).toBeLessThanOrEqual(3);
  });

  it('when stop() is called with publishes in flight, then it resolves only after they are confirmed and their rows are marked', async () => {
    const relay = startRelay();
    const unitOfWork = new UnitOfWork(pool, relay);
    const events = Array.from({ length: 10 }, (_, i) => event(`in flight ${i}`));
    const ids = events.map((e) => e.id);
    publisher.hold();
    await Promise.all(events.map((e) => unitOfWork.run(async (tx) => emit(tx, e))));

    // A lock on one row holds the marking UPDATE back once the publishes are confirmed.
    const locker = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE', [ids[0]]);

      let stopped = false;
      const stopping = relay.stop().then(() => (stopped = true));
      await admin.query('SELECT 1');
      expect(stopped).toBe(false);

      publisher.release();
      await waitFor(
        async () => {
          const { rows } = await admin.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'UPDATE outbox%'`,
            [schema],
          );
          return rows.length > 0;
        },
        { ...WAIT, what: 'the marking UPDATE to wait on the locked row' },
      );
      expect(publisher.confirmedIds().sort()).toEqual([...ids].sort());
      await admin.query('SELECT 1');
      expect(stopped).toBe(false);

      await locker.query('COMMIT');
      await stopping;
      expect(await unpublishedCount(ids)).toBe(0);
    } finally {
      await locker.end();
    }
  });
});
