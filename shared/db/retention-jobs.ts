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
    pruneJob(pool, 'outbox-prune', `${minute} * * * *`, 'outbox', 'published_at', settings.outboxDays),
    pruneJob(pool, 'inbox-prune', `${(minute + 30) % 60} * * * *`, 'inbox', 'handled_at', settings.inboxDays),
  ];
}

/** A job deleting the rows of `table` whose `column` is older than `days` (table and column are the code's own names). */
function pruneJob(pool: Pool, name: string, cron: string, table: string, column: string, days: number): JobDefinition<object> {
  const sql = `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
     SELECT ctid FROM ${table} WHERE ${column} < clock_timestamp() - make_interval(days => $1) LIMIT $2))`;
  return { name, cron, run: async (_data, { signal }) => ({ deleted: await deleteInBatches(pool, sql, days, signal) }) };
}

async function deleteInBatches(pool: Pool, sql: string, days: number, signal: AbortSignal): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [days, BATCH]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < BATCH || signal.aborted) return deleted;
  }
}
