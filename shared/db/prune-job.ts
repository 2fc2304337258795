import type { JobDefinition } from '../jobs/job-runner.js';
import type { Pool } from './pool.js';

/** Rows one statement of a prune changes at most: short transactions, so the hot path never waits long on a prune. */
export const PRUNE_BATCH = 1_000;

/** A statement that deletes (or clears) at most a batch of rows; the batch size is bound to its last parameter. */
export interface PruneStatement {
  sql: string;
  /** The statement's parameters before the batch size. */
  params: unknown[];
}

/** What {@link pruneJob} prunes, where, and when. */
export interface PruneJobOptions {
  /** The job's name within its service (`outbox-prune`). */
  name: string;
  /** Five-field cron expression, UTC (see pruneCron). */
  cron: string;
  pool: Pick<Pool, 'query'>;
  statement: PruneStatement;
  /** The word the job's output counts under. @defaultValue 'deleted' */
  counted?: string;
  /** @defaultValue {@link PRUNE_BATCH} */
  batch?: number;
}

/**
 * A recurring prune: on its schedule, runs its statement again and again, each run its own short
 * transaction changing at most a batch of rows, until one changes fewer (nothing old is left) or
 * the service stops (the job's signal); its output is how many rows it changed (`{ deleted: n }`).
 */
export function pruneJob(options: PruneJobOptions): JobDefinition<object> {
  const counted = options.counted ?? 'deleted';
  return {
    name: options.name,
    cron: options.cron,
    run: async (_data, { signal }) => ({ [counted]: await pruneInBatches(options.pool, options.statement, signal, options.batch ?? PRUNE_BATCH) }),
  };
}

/** Runs `statement` in batches (see {@link pruneJob}); returns the rows changed. */
export async function pruneInBatches(pool: Pick<Pool, 'query'>, statement: PruneStatement, signal: AbortSignal, batch = PRUNE_BATCH): Promise<number> {
  let changed = 0;
  for (;;) {
    const { rowCount } = await pool.query(statement.sql, [...statement.params, batch]);
    changed += rowCount ?? 0;
    if ((rowCount ?? 0) < batch || signal.aborted) return changed;
  }
}
