import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { EventEnvelope, NewEventOptions } from '../contracts/envelope.js';
import { newEvent, type EventData, type EventType, type SagaEvent } from '../contracts/events.js';
import type { Logger } from '../logging/logger.js';
import { captureTraceContext, type TraceCarrier } from '../observability/trace-context.js';
import { markPublishedIn, type OutboxRelay } from './outbox-relay.js';
import { withTransaction, type Pool, type PoolClient } from './pool.js';

/**
 * Writes to rows that many orders share (a counter per SKU), gathered from every unit of a
 * transaction and applied once, at its end, by `flush` in one statement that locks the rows in a
 * fixed order. A transaction thus takes those locks last, all at once, in the same order as every
 * other: two batches committing side by side cannot deadlock on them.
 */
export interface Collector<T> {
  readonly name: string;
  flush(client: PoolClient, items: T[]): Promise<unknown>;
}

/** What a unit of work gets: the transaction's client, and a way to emit events through the outbox. */
export interface Transaction {
  client: PoolClient;
  /**
   * Adds an event to the outbox in this transaction (it is published after the commit) and returns
   * its envelope. The data's type follows from the event type, the version from the saga declaration.
   */
  emit<T extends EventType>(type: T, data: EventData<T>, meta: NewEventOptions): SagaEvent<T>;
  /** Hands `item` to `collector`, flushed with every other unit's items just before COMMIT. */
  collect<T>(collector: Collector<T>, item: T): void;
  /**
   * Runs `callback` once the transaction has committed (never after a rollback; a unit run again
   * alone registers it again): for what must only count what is durable, such as metrics.
   */
  afterCommit(callback: () => void): void;
}

/**
 * Records an event as handled in the caller's transaction (for handlers that settle an event in
 * several steps and find, in a later step or a redelivery, that nothing is left to do).
 */
export async function recordHandled(client: PoolClient, event: Pick<EventEnvelope, 'id' | 'type'>): Promise<void> {
  await client.query('INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING', [
    event.id,
    event.type,
  ]);
}

/**
 * `traces[i]` is the trace context `events[i]` was emitted in. With tracing off none has one, and
 * the statement is the one it always was: the column stays NULL at no cost.
 */
function insertOutbox(client: PoolClient, events: EventEnvelope[], traces: ReadonlyArray<TraceCarrier | undefined>) {
  const columns = [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))];
  if (traces.every((carrier) => carrier === undefined)) {
    return client.query('INSERT INTO outbox (id, routing_key, envelope) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])', columns);
  }
  return client.query(
    'INSERT INTO outbox (id, routing_key, envelope, trace_context) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])',
    [...columns, traces.map((carrier) => (carrier ? JSON.stringify(carrier) : null))],
  );
}

export type OnceResult<T> = { duplicate: true } | { duplicate: false; result: T };

export interface UnitOfWorkOptions {
  /**
   * Units of work that wait while a transaction of their lane is in flight are committed together,
   * up to this many in one transaction (group commit); 1 runs each in its own. @defaultValue 1
   */
  batchMax?: number;
  /**
   * Batches in flight at once, each in a lane of its own: a unit's lane follows from its key (the
   * order id), so every unit of one order goes through one lane, in order, and two lanes never wait
   * for each other's order rows or locks. Only for services whose units touch no row shared between
   * orders, or touch such rows only through a {@link Collector}. @defaultValue 1
   */
  lanes?: number;
  /**
   * Units of different keys run side by side within a batch (see `runUnits`). Only for services
   * whose units of different orders never read a shared row and then write it from what they read:
   * within one transaction no lock separates them. @defaultValue false
   */
  interleave?: boolean;
  /** Told when a batch failed and its units run again one by one. */
  logger?: Pick<Logger, 'debug'>;
}

type Work<T> = (tx: Transaction) => Promise<T>;

/** What a unit of work needs of the outbox relay: publishing its events, and carrying marks. */
type Relay = Pick<OutboxRelay, 'publishCommitted'> & Partial<Pick<OutboxRelay, 'takeConfirmed' | 'restoreConfirmed'>>;

/** An event applied once: its id and type for the inbox, its order (data or correlation id) for its lane. */
type OnceEvent = Pick<EventEnvelope, 'id' | 'type'> & { correlation_id?: string; data?: { order_id?: unknown } };

interface Queued {
  work: Work<unknown>;
  /** Units with one key run one after another; without a key, a unit is on its own. */
  key: string | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Lane {
  queue: Queued[];
  running: boolean;
}

/** What one transaction gathered from its units: events for the outbox, items for collectors. */
class Gathered {
  readonly events: EventEnvelope[] = [];
  /** The trace context each event was emitted in (same index), kept in its outbox row for the publish. */
  readonly traces: Array<TraceCarrier | undefined> = [];
  private readonly committed: Array<() => void> = [];
  /** Outbox rows of earlier transactions whose events were confirmed since: marked in this one. */
  private marks: string[] = [];
  private readonly collected = new Map<Collector<unknown>, unknown[]>();

  transaction(client: PoolClient): Transaction {
    return {
      client,
      emit: (type, data, meta) => {
        const event = newEvent(type, data, meta);
        this.events.push(event);
        // The emitting unit's context (its request's or message's span): see `run` for batches.
        this.traces.push(captureTraceContext());
        return event;
      },
      collect: (collector, item) => {
        const items = this.collected.get(collector as Collector<unknown>) ?? [];
        items.push(item);
        this.collected.set(collector as Collector<unknown>, items);
      },
      afterCommit: (callback) => {
        // Run after the commit in the registering unit's own context, not the batch's (see `run`).
        this.committed.push(context.bind(context.active(), callback));
      },
    };
  }

  /** After the commit: publishes the events and runs the afterCommit callbacks. */
  commit(relay: Relay, logger: Pick<Logger, 'debug'> | undefined): void {
    if (this.events.length > 0) relay.publishCommitted(this.events, this.traces);
    for (const callback of this.committed) {
      try {
        callback();
      } catch (error) {
        logger?.debug('afterCommit callback failed', { error });
      }
    }
  }

  /** The transaction's last statements, sent together with COMMIT (one round trip). */
  beforeCommit(client: PoolClient, relay: Relay): Promise<unknown> | undefined {
    const statements: Promise<unknown>[] = [...this.collected].map(([collector, items]) => collector.flush(client, items));
    if (this.events.length > 0) statements.push(insertOutbox(client, this.events, this.traces));
    this.marks = relay.takeConfirmed?.() ?? [];
    if (this.marks.length > 0) statements.push(markPublishedIn(client, this.marks));
    return statements.length > 0 ? Promise.all(statements) : undefined;
  }

  /** After a rollback: the marks this transaction carried go back to the relay. */
  rolledBack(relay: Relay): void {
    relay.restoreConfirmed?.(this.marks);
    this.marks = [];
  }
}

/**
 * Runs state changes and the events they cause in one transaction, then hands the events to the
 * outbox relay to publish right away (its sweep catches anything a crash leaves behind).
 *
 * With `batchMax` > 1 (message handlers, orders being placed), units of work are group-committed:
 * the first runs at once, alone; those that arrive while a transaction of their lane is in flight
 * wait for it and then run together on one connection, in one transaction with one outbox INSERT
 * and one COMMIT. Nothing ever waits to fill a batch: at low load every batch is one unit and
 * latency is unchanged; at saturation a batch holds about what the consumers have in hand, and
 * Postgres commits once for all of them instead of once each (README, Performance). Each unit's
 * promise settles after the commit, so a consumer acks only what is durable.
 *
 * Units of one key (one order) run one after another, never interleaved, so the per-order advisory
 * locks keep serialising every handler of one order (a lock taken twice by one transaction is
 * granted at once, but the second unit starts only after the first finished). Without
 * `interleave` every unit of a batch waits for the one before; with it, units of different keys run
 * side by side (see `runUnits`). With `lanes` > 1, that many batches run side by side, a unit's lane
 * chosen by its key.
 *
 * When any unit throws, or the commit fails (a deadlock with another instance's batch, a broken
 * connection), the whole batch is rolled back and every unit runs again alone, in its own
 * transaction, in order: a poison message fails only itself and goes to its retries and dead-letter
 * queue as before. Units must therefore be safe to run twice when the first run was rolled back,
 * which a unit of work is by construction: everything it does goes through the transaction.
 */
export class UnitOfWork {
  private readonly batchMax: number;
  private readonly lanes: Lane[];

  constructor(
    private readonly pool: Pool,
    private readonly relay: Relay,
    private readonly options: UnitOfWorkOptions = {},
  ) {
    this.batchMax = Math.max(1, options.batchMax ?? 1);
    this.lanes = Array.from({ length: Math.max(1, options.lanes ?? 1) }, () => ({ queue: [], running: false }));
  }

  /** Runs `work` in a transaction; `key` (the order id) picks its lane when batches run side by side. */
  run<T>(work: Work<T>, key?: string): Promise<T> {
    if (this.batchMax === 1) return this.runAlone(work);
    const lane = this.lanes[key === undefined ? 0 : laneOf(key, this.lanes.length)]!;
    // A batch runs in the async context of whichever unit started its lane's drain, so each unit's
    // work is put back into its own caller's context (its message's or request's span): the events
    // it emits, and its log lines, belong to that trace. With tracing off this is a plain call.
    const caller = context.active();
    const own: Work<T> = (tx) => context.with(caller, work, undefined, tx);
    return new Promise<T>((resolve, reject) => {
      lane.queue.push({ work: own, key, resolve: resolve as (value: unknown) => void, reject });
      if (!lane.running) {
        lane.running = true;
        // Units queued in this same turn (the messages of one socket read) join the first batch.
        // The drain serves many units' traces, so it belongs to none: without the root context here
        // it, and every batch after this one, would run in this unit's, and so would what the relay
        // does after the commits (its log lines, its timers) and every unit's afterCommit.
        setImmediate(context.bind(ROOT_CONTEXT, () => void this.drain(lane)));
      }
    });
  }

  /**
   * Applies an incoming event at most once: its id goes into the inbox in the same transaction as
   * its effect. A second delivery finds the id (a concurrent one waits on the first's row lock, then
   * finds it; one in the same batch finds the row its predecessor inserted) and changes nothing.
   * The event's order is its key.
   */
  async runOnce<T>(event: OnceEvent, work: Work<T>): Promise<OnceResult<T>> {
    return this.run(async (tx) => {
      const inserted = await tx.client.query(
        'INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING',
        [event.id, event.type],
      );
      if (inserted.rowCount === 0) return { duplicate: true } as const;
      return { duplicate: false, result: await work(tx) } as const;
    }, (typeof event.data?.order_id === 'string' ? event.data.order_id : undefined) ?? event.correlation_id);
  }

  private async runAlone<T>(work: Work<T>): Promise<T> {
    const gathered = new Gathered();
    const result = await withTransaction(this.pool, (client) => work(gathered.transaction(client)), {
      beforeCommit: (client) => gathered.beforeCommit(client, this.relay),
    }).catch((error: unknown) => {
      gathered.rolledBack(this.relay);
      throw error;
    });
    gathered.commit(this.relay, this.options.logger);
    return result;
  }

  /** Runs the lane's batches until its queue is empty; one batch in flight per lane. */
  private async drain(lane: Lane): Promise<void> {
    try {
      while (lane.queue.length > 0) {
        const batch = lane.queue.splice(0, this.batchMax);
        if (batch.length === 1) {
          const [only] = batch as [Queued];
          await this.runAlone(only.work).then(only.resolve, only.reject);
        } else {
          await this.runBatch(batch);
        }
      }
    } finally {
      lane.running = false;
    }
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    const gathered = new Gathered();
    let results: unknown[];
    try {
      results = await withTransaction(
        this.pool,
        async (client) => this.runUnits(batch, gathered.transaction(client)),
        { beforeCommit: (client) => gathered.beforeCommit(client, this.relay) },
      );
    } catch (error) {
      gathered.rolledBack(this.relay);
      this.options.logger?.debug('batch rolled back; its units run one by one', { error, units: batch.length });
      // In the order they came, so that the units of one order still apply one after another.
      for (const unit of batch) await this.runAlone(unit.work).then(unit.resolve, unit.reject);
      return;
    }
    gathered.commit(this.relay, this.options.logger);
    batch.forEach((unit, i) => unit.resolve(results[i]));
  }

  /**
   * Runs a batch's units in its transaction. One after another, unless `interleave`: then the units
   * of one key (one order) still run one after another, in the order they came, but the chains of
   * different keys run side by side, their statements pipelined on the one connection, so a batch
   * takes about the round trips of its longest chain instead of those of all its units. Every chain
   * is waited for, even after one failed, before the transaction ends.
   */
  private async runUnits(batch: readonly Queued[], tx: Transaction): Promise<unknown[]> {
    const results: unknown[] = new Array(batch.length);
    if (!this.options.interleave) {
      for (const [i, unit] of batch.entries()) results[i] = await unit.work(tx);
      return results;
    }
    const chains = new Map<unknown, number[]>();
    batch.forEach((unit, i) => {
      const key = unit.key ?? Symbol('unkeyed');
      const chain = chains.get(key);
      if (chain) chain.push(i);
      else chains.set(key, [i]);
    });
    const settled = await Promise.allSettled(
      [...chains.values()].map(async (chain) => {
        for (const i of chain) results[i] = await batch[i]!.work(tx);
      }),
    );
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return results;
  }
}

/** A stable lane for a key (FNV-1a). */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
