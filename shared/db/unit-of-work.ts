import type { EventEnvelope, NewEventOptions } from '../contracts/envelope.js';
import { newEvent, type EventData, type EventType, type SagaEvent } from '../contracts/events.js';
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

/**
 * Runs state changes and the events they cause in one transaction, then hands the events to the
 * outbox relay to publish right away (its sweep catches anything a crash leaves behind).
 */
export class UnitOfWork {
  constructor(
    private readonly pool: Pool,
    private readonly relay: Pick<OutboxRelay, 'publishCommitted'>,
  ) {}

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const emitted: EventEnvelope[] = [];
    const result = await withTransaction(
      this.pool,
      (client) =>
        work({
          client,
          emit: (type, data, meta) => {
            const event = newEvent(type, data, meta);
            emitted.push(event);
            return event;
          },
        }),
      // The transaction's events, in emit order, in one statement sent with COMMIT.
      { beforeCommit: (client) => (emitted.length > 0 ? insertOutbox(client, emitted) : undefined) },
    );
    if (emitted.length > 0) this.relay.publishCommitted(emitted);
    return result;
  }

  /**
   * Applies an incoming event at most once: its id goes into the inbox in the same transaction as
   * its effect. A second delivery finds the id (a concurrent one waits on the first's row lock, then
   * finds it) and changes nothing.
   */
  async runOnce<T>(event: Pick<EventEnvelope, 'id' | 'type'>, work: (tx: Transaction) => Promise<T>): Promise<OnceResult<T>> {
    return this.run(async (tx) => {
      const inserted = await tx.client.query(
        'INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING',
        [event.id, event.type],
      );
      if (inserted.rowCount === 0) return { duplicate: true } as const;
      return { duplicate: false, result: await work(tx) } as const;
    });
  }
}
