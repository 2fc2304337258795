import type { EventEnvelope, NewEventOptions } from '../contracts/envelope.js';
import { newEvent, type EventData, type EventType, type SagaEvent } from '../contracts/events.js';
import type { Logger } from '../logging/logger.js';
import type { OutboxRelay } from './outbox-relay.js';
import { withTransaction, type Pool, type PoolClient } from './pool.js';

/** What a unit of work gets: the transaction's client, and a way to emit events through the outbox. */
export interface Transaction {
  client: PoolClient;
  /**
   * Adds an event to the outbox in this transaction (it is published after the commit) and returns
   * its envelope. The data's type follows from the event type, the version from the saga declaration.
   */
  emit<T extends EventType>(type: T, data: EventData<T>, meta: NewEventOptions): SagaEvent<T>;
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

function insertOutbox(client: PoolClient, events: EventEnvelope[]) {
  return client.query(
    'INSERT INTO outbox (id, routing_key, envelope) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])',
    [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
  );
}

export type OnceResult<T> = { duplicate: true } | { duplicate: false; result: T };

export interface UnitOfWorkOptions {
  /**
   * Units of work that wait while a transaction is in flight are committed together, up to this
   * many in one transaction (group commit); 1 runs each in its own. @defaultValue 1
   */
  batchMax?: number;
  /** Told when a batch failed and its units run again one by one. */
  logger?: Pick<Logger, 'debug'>;
}

type Work<T> = (tx: Transaction) => Promise<T>;

interface Queued {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Runs state changes and the events they cause in one transaction, then hands the events to the
 * outbox relay to publish right away (its sweep catches anything a crash leaves behind).
 *
 * With `batchMax` > 1 (message handlers), units of work are group-committed: the first runs at
 * once, alone; those that arrive while a transaction is in flight wait for it and then run together,
 * one after another on one connection, in one transaction with one outbox INSERT and one COMMIT.
 * Nothing ever waits to fill a batch: at low load every batch is one unit and latency is unchanged;
 * at saturation a batch holds about what the consumers have in hand, and Postgres commits once for
 * all of them instead of once each (README, Performance). Each unit's promise settles after the
 * commit, so a consumer acks only what is durable. Units run one after another, never interleaved,
 * so the per-order advisory locks keep serialising every handler of one order (a lock taken twice by
 * one transaction is granted at once, but the second unit starts only after the first finished).
 * When any unit throws, or the commit fails (a deadlock with another instance's batch, a broken
 * connection), the whole batch is rolled back and every unit runs again alone, in its own
 * transaction: a poison message fails only itself and goes to its retries and dead-letter queue as
 * before. Units must therefore be safe to run twice when the first run was rolled back, which a
 * unit of work is by construction: everything it does goes through the transaction.
 */
export class UnitOfWork {
  private readonly batchMax: number;
  private readonly queue: Queued[] = [];
  private running = false;

  constructor(
    private readonly pool: Pool,
    private readonly relay: Pick<OutboxRelay, 'publishCommitted'>,
    private readonly options: UnitOfWorkOptions = {},
  ) {
    this.batchMax = Math.max(1, options.batchMax ?? 1);
  }

  run<T>(work: Work<T>): Promise<T> {
    if (this.batchMax === 1) return this.runAlone(work);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        // Units queued in this same turn (the messages of one socket read) join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Applies an incoming event at most once: its id goes into the inbox in the same transaction as
   * its effect. A second delivery finds the id (a concurrent one waits on the first's row lock, then
   * finds it; one in the same batch finds the row its predecessor inserted) and changes nothing.
   */
  async runOnce<T>(event: Pick<EventEnvelope, 'id' | 'type'>, work: Work<T>): Promise<OnceResult<T>> {
    return this.run(async (tx) => {
      const inserted = await tx.client.query(
        'INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING',
        [event.id, event.type],
      );
      if (inserted.rowCount === 0) return { duplicate: true } as const;
      return { duplicate: false, result: await work(tx) } as const;
    });
  }

  private async runAlone<T>(work: Work<T>): Promise<T> {
    const emitted: EventEnvelope[] = [];
    const result = await withTransaction(this.pool, (client) => work(transaction(client, emitted)), {
      // The transaction's events, in emit order, in one statement sent with COMMIT.
      beforeCommit: (client) => (emitted.length > 0 ? insertOutbox(client, emitted) : undefined),
    });
    if (emitted.length > 0) this.relay.publishCommitted(emitted);
    return result;
  }

  /** Runs batches until the queue is empty; one batch in flight at a time. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchMax);
        if (batch.length === 1) {
          const [only] = batch as [Queued];
          await this.runAlone(only.work).then(only.resolve, only.reject);
        } else {
          await this.runBatch(batch);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    const emitted: EventEnvelope[] = [];
    let results: unknown[];
    try {
      results = await withTransaction(
        this.pool,
        async (client) => {
          const done: unknown[] = [];
          for (const unit of batch) done.push(await unit.work(transaction(client, emitted)));
          return done;
        },
        { beforeCommit: (client) => (emitted.length > 0 ? insertOutbox(client, emitted) : undefined) },
      );
    } catch (error) {
      this.options.logger?.debug('batch rolled back; its units run one by one', { error, units: batch.length });
      await Promise.all(batch.map((unit) => this.runAlone(unit.work).then(unit.resolve, unit.reject)));
      return;
    }
    if (emitted.length > 0) this.relay.publishCommitted(emitted);
    batch.forEach((unit, i) => unit.resolve(results[i]));
  }
}

function transaction(client: PoolClient, emitted: EventEnvelope[]): Transaction {
  return {
    client,
    emit: (type, data, meta) => {
      const event = newEvent(type, data, meta);
      emitted.push(event);
      return event;
    },
  };
}
