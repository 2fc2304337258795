import type { EventEnvelope } from '../contracts/envelope.js';
import type { Logger } from '../logging/logger.js';
import type { EventPublisher } from '../messaging/event-publisher.js';
import { withTransaction, type Pool } from './pool.js';

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: Pick<EventPublisher, 'publish'>;
  logger: Logger;
  /** Sweep period for rows nobody kicked for (another instance's, or left by a crash). */
  sweepIntervalMs: number;
  /** @defaultValue 200 */
  batchSize?: number;
  /** Published rows are kept this long (invariant checks, audits), then deleted. @defaultValue 7 days */
  retentionMs?: number;
}

const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Publishes outbox rows. Rows are claimed with `FOR UPDATE SKIP LOCKED` (never by `id > last_seen`,
 * which skips rows that commit late), published with confirms, and marked published in the same
 * transaction only after every confirm arrived: a crash re-sends, never drops. Several relays (one
 * per instance) share the table safely. It runs right after each commit (`kick`) and on a sweep timer.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPrune = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.sweepIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a drain soon; calls while one is running coalesce into one more pass. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Stops the timer and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    try {
      for (;;) {
        const published = await this.publishBatch(batchSize);
        if (published < batchSize || this.stopped) break;
      }
      await this.pruneIfDue();
    } catch (error) {
      // The rows stay unpublished; the next kick or sweep tries again.
      this.options.logger.warn('outbox relay pass failed', { error });
    }
  }

  private async publishBatch(batchSize: number): Promise<number> {
    return withTransaction(this.options.pool, async (client) => {
      const { rows } = await client.query<{ id: string; envelope: EventEnvelope }>(
        `SELECT id, envelope FROM outbox WHERE published_at IS NULL
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      await Promise.all(rows.map((row) => this.options.publisher.publish(row.envelope)));
      await client.query('UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::uuid[])', [
        rows.map((row) => row.id),
      ]);
      return rows.length;
    });
  }

  private async pruneIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const retentionMs = this.options.retentionMs ?? 7 * 24 * 3_600_000;
    await this.options.pool.query(
      `DELETE FROM outbox WHERE published_at < clock_timestamp() - make_interval(secs => $1)`,
      [retentionMs / 1000],
    );
  }
}
