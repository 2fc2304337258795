import type { JobDefinition } from '../jobs/job-runner.js';
import { pruneCron } from '../jobs/prune-schedule.js';
import { queueName } from '../jobs/job-names.js';
import type { Pool } from './pool.js';
import { pruneJob } from './prune-job.js';

/** How long the outbox and inbox keep their rows, and how often they are pruned (from OUTBOX_RETENTION, INBOX_RETENTION, RETENTION_INTERVAL). */
export interface RetentionSettings {
  /** Published outbox rows are kept this long (audits, invariant checks), then deleted. */
  outboxMs: number;
  /**
   * Inbox rows (ids of applied events) are kept this long. A copy of an event that arrives after
   * its id was pruned would be applied again, so the window must be longer than any redelivery or
   * replay can take: broker redeliveries and delay-queue retries take minutes, a replay of a dead
   * letter as long as it takes someone to look at it.
   */
  inboxMs: number;
  /** How often the prunes run (whole minutes dividing an hour, or hours dividing a day). */
  intervalMs: number;
}

/**
 * The recurring jobs that keep the outbox and inbox from growing without end: every
 * `intervalMs`, at a minute of its own, each deletes the rows past their retention in batches
 * until none is left. Neither table has an index on its timestamp (each would cost every event a
 * second index write); rows are appended in time order, so each batch's scan finds the old ones
 * near the start of the heap.
 */
export function retentionJobs(pool: Pool, service: string, settings: RetentionSettings): JobDefinition<object>[] {
  return [
    tablePrune(pool, service, 'outbox-prune', 'outbox', 'published_at', settings.outboxMs, settings.intervalMs),
    tablePrune(pool, service, 'inbox-prune', 'inbox', 'handled_at', settings.inboxMs, settings.intervalMs),
  ];
}

/** Deletes the rows of `table` whose `column` is older than `retentionMs` (table and column are the code's own names). */
function tablePrune(pool: Pool, service: string, name: string, table: string, column: string, retentionMs: number, intervalMs: number): JobDefinition<object> {
  return pruneJob({
    name,
    cron: pruneCron(intervalMs, queueName(service, name)),
    pool,
    statement: {
      sql: `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
              SELECT ctid FROM ${table} WHERE ${column} < now() - make_interval(secs => $1) LIMIT $2))`,
      params: [retentionMs / 1000],
    },
  });
}
