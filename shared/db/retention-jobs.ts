import type { JobDefinition } from '../jobs/job-runner.js';
import type { Pool } from './pool.js';

/** Rows one DELETE removes: short transactions, so the hot path never waits long on a prune. */
const BATCH = 1_000;

export interface RetentionSettings {
  /** Published outbox rows are kept this many days (audits, invariant checks), then deleted. */
  outboxDays: number;
  /**
   * Inbox rows (ids of applied events) are kept this many days. A copy of an event that arrives
   * after its id was pruned would be applied again, so the window must be longer than any
   * redelivery can take: broker redeliveries and delay-queue retries take minutes.
   */
  inboxDays: number;
}

/**
 * The recurring jobs that keep the outbox and inbox from growing without end: hourly, each deletes
 * rows past their retention in batches of {@link BATCH}, until none is left. Neither table has an
 * index on its timestamp (each would cost every event a second index write); rows are appended in
 * time order, so each batch's scan finds the old ones at the start of the heap, and a prune costs
 * at most one full scan an hour.
 */
export function retentionJobs(pool: Pool, settings: RetentionSettings, minute: number): JobDefinition<object>[] {
  return [
    {
      name: 'outbox-prune',
      cron: `${minute} * * * *`,
      run: async (_data, { signal }) => ({
        deleted: await deleteInBatches(
          pool,
          `DELETE FROM outbox WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM outbox WHERE published_at < clock_timestamp() - make_interval(days => $1) LIMIT $2))`,
          settings.outboxDays,
          signal,
        ),
      }),
    },
    {
      name: 'inbox-prune',
      cron: `${(minute + 30) % 60} * * * *`,
      run: async (_data, { signal }) => ({
        deleted: await deleteInBatches(
          pool,
          `DELETE FROM inbox WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM inbox WHERE handled_at < clock_timestamp() - make_interval(days => $1) LIMIT $2))`,
          settings.inboxDays,
          signal,
        ),
      }),
    },
  ];
}

async function deleteInBatches(pool: Pool, sql: string, days: number, signal: AbortSignal): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [days, BATCH]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH || signal.aborted) return deleted;
  }
}
