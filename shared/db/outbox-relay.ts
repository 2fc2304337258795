import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { EventEnvelope } from '../contracts/envelope.js';
import type { Logger } from '../logging/logger.js';
import type { EventPublisher } from '../messaging/event-publisher.js';
import { isUnroutableEventError } from '../messaging/unroutable-event-error.js';
import { contextFrom, type TraceCarrier } from '../observability/trace-context.js';
import { withTransaction, type Pool } from './pool.js';

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: Pick<EventPublisher, 'publish'>;
  logger: Logger;
  /** Sweep period for rows the fast path did not publish (another instance's, or left by a crash). */
  sweepIntervalMs: number;
  /**
   * The sweep leaves rows younger than this to the fast path of the instance that wrote them, so
   * an event is not published twice in the common case (twice is still safe: consumers dedup).
   * @defaultValue 1 000
   */
  sweepGraceMs?: number;
  /** @defaultValue 200 */
  batchSize?: number;
}

/**
 * Confirmed ids wait this long for a transaction of the service to carry their mark (see
 * `takeConfirmed`) before the relay marks them with an UPDATE of its own.
 */
const MARK_DELAY_MS = 100;

/**
 * Publishes outbox rows, in two ways:
 *
 * - Fast path (`publishCommitted`): right after a unit of work commits, its events are published
 *   from memory, and once confirmed their rows are marked published. No read of the table and no
 *   transaction per event: the ids confirmed meanwhile ride along with the service's next unit of
 *   work (`takeConfirmed`: one more statement sent with its COMMIT), or, when none comes within
 *   MARK_DELAY_MS, are marked by one UPDATE of the relay's own. Under load the marks thus cost no
 *   commit at all, where a claim-publish-mark transaction costs four round trips per pass (README,
 *   Performance).
 * - Sweep: on a timer, rows still unpublished after the grace period are claimed with
 *   `FOR UPDATE SKIP LOCKED` (never by `id > last_seen`, which skips rows that commit late),
 *   published with confirms, and those confirmed are marked published in the same transaction. It
 *   catches what a crash, a broker outage or another instance left behind.
 *
 * Either way a row is marked only after the broker confirmed its event and routed it to at least
 * one queue (events are published mandatory): a crash re-sends, never drops, and an event nobody is
 * bound to yet is logged as an error and sent again by the next sweep. Several relays (one per
 * instance) share the table safely.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Fast-path publishes awaiting their confirm. */
  private readonly publishing = new Set<Promise<void>>();
  /** Ids confirmed and not yet marked; `marking` is the relay's own UPDATE in flight. */
  private confirmed: string[] = [];
  private marking: Promise<void> | undefined;
  private markTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.sweepIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Publishes events whose rows just committed; a failure leaves them to the sweep. `traces[i]` is
   * the trace context `events[i]` was emitted in (as written in its row), the parent of its publish.
   */
  publishCommitted(events: readonly EventEnvelope[], traces: ReadonlyArray<TraceCarrier | undefined> = []): void {
    if (this.stopped) return;
    for (const [i, event] of events.entries()) {
      const sent = this.options.publisher.publish(event, { traceContext: traces[i], outbox: 'after_commit' }).then(
        () => this.markPublished(event.id),
        (error: unknown) => this.publishFailed(event, error, traces[i]),
      );
      this.publishing.add(sent);
      void sent.finally(() => this.publishing.delete(sent));
    }
  }

  /** Asks for a sweep soon; calls while one is running coalesce into one more pass. */
  kick(): void {
    if (this.stopped) return;
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Stops the timer, waits for the publishes in flight and marks what they confirmed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.publishing]);
    await this.sweeping;
    this.markNow();
    await this.marking;
  }

  /**
   * Hands the ids confirmed and not yet marked to a transaction of the service about to commit,
   * which marks them (`markPublishedIn`); if that transaction fails, `restoreConfirmed` gives them back.
   */
  takeConfirmed(): string[] {
    const ids = this.confirmed;
    this.confirmed = [];
    return ids;
  }

  restoreConfirmed(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.confirmed.push(...ids);
    this.scheduleMark();
  }

  /**
   * The row stays unpublished for the sweep; an unroutable event is an error an operator must see.
   * Logged in the context the event was emitted in, so the line carries its trace's ids.
   */
  private publishFailed(event: EventEnvelope, error: unknown, trace: TraceCarrier | undefined): void {
    context.with(contextFrom(trace), () => this.logPublishFailure(event, error));
  }

  private logPublishFailure(event: EventEnvelope, error: unknown): void {
    if (isUnroutableEventError(error)) {
      this.options.logger.error('event returned by the broker: no queue is bound to its routing key; its outbox row stays unpublished', {
        routing_key: event.type,
        event_id: event.id,
      });
    } else {
      this.options.logger.warn('publish after commit failed; the sweep retries', { error, event_id: event.id });
    }
  }

  private markPublished(id: string): void {
    this.confirmed.push(id);
    this.scheduleMark();
  }

  private scheduleMark(): void {
    if (this.markTimer) return;
    // Marks the confirms of many traces: none of them is the context of this timer's work.
    this.markTimer = setTimeout(context.bind(ROOT_CONTEXT, () => this.markNow()), MARK_DELAY_MS);
    this.markTimer.unref();
  }

  private markNow(): void {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = undefined;
    if (this.confirmed.length > 0 && !this.marking) this.marking = this.markConfirmed();
  }

  /** Marks every confirmed id in one UPDATE per round, until none is left. */
  private async markConfirmed(): Promise<void> {
    try {
      while (this.confirmed.length > 0) {
        const ids = this.confirmed;
        this.confirmed = [];
        try {
          await markPublishedIn(this.options.pool, ids);
        } catch (error) {
          // Left unmarked: the sweep publishes these again (a duplicate the consumers' inbox drops).
          this.options.logger.warn('could not mark published outbox rows; the sweep re-sends them', { error, rows: ids.length });
        }
      }
    } finally {
      this.marking = undefined;
    }
  }

  private async sweep(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    try {
      for (;;) {
        const { claimed, failed } = await this.publishBatch(batchSize);
        // A failure ends the pass: the next one retries after the sweep interval, not in a tight loop.
        if (claimed < batchSize || failed > 0 || this.stopped) break;
      }
    } catch (error) {
      // The rows stay unpublished; the next sweep tries again.
      this.options.logger.warn('outbox sweep failed', { error });
    }
  }

  private async publishBatch(batchSize: number): Promise<{ claimed: number; failed: number }> {
    return withTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<{ id: string; envelope: EventEnvelope; trace_context: TraceCarrier | null }>(
        `SELECT id, envelope, trace_context FROM outbox
         WHERE published_at IS NULL AND created_at < clock_timestamp() - make_interval(secs => $2)
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize, (this.options.sweepGraceMs ?? 1_000) / 1000],
      );
      if (rows.length === 0) return { claimed: 0, failed: 0 };
      const results = await Promise.allSettled(
        rows.map((row) => this.options.publisher.publish(row.envelope, { traceContext: row.trace_context ?? undefined, outbox: 'sweep' })),
      );
      const published = rows.filter((_, i) => results[i]!.status === 'fulfilled').map((row) => row.id);
      results.forEach((result, i) => {
        if (result.status === 'rejected') this.publishFailed(rows[i]!.envelope, result.reason, rows[i]!.trace_context ?? undefined);
      });
      // Only what the broker confirmed and routed is marked; the rest stays for the next sweep.
      if (published.length > 0) {
        await client.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::uuid[])', [published]);
      }
      return { claimed: rows.length, failed: rows.length - published.length };
    });
  }
}

/** Marks the rows of confirmed events published (in the caller's transaction, or alone on a pool). */
export function markPublishedIn(client: Pick<Pool, 'query'>, ids: readonly string[]) {
  return client.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::uuid[]) AND published_at IS NULL', [ids]);
}
