import type { Pool } from '../../../shared/db/pool.js';
import type { PruneStatement } from '../../../shared/db/prune-job.js';
import type { RetryNote } from '../../../shared/messaging/event-consumer.js';

export interface RetryRow {
  service: string;
  event_id: string;
  event_type: string;
  attempt: number;
  error: string;
  retried_at: Date;
}

/** Keeps a retry a service reported (each order-service instance hears it: the first copy wins). */
export async function recordRetry(pool: Pool, retry: RetryNote): Promise<void> {
  await pool.query(
    `INSERT INTO order_retries (event_id, service, attempt, order_id, event_type, error, retried_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [retry.event_id, retry.service, retry.attempt, retry.order_id, retry.event_type, retry.error, retry.retried_at],
  );
}

/** An order's retries, oldest first (at most 100). */
export async function retriesOf(pool: Pool, orderId: string): Promise<RetryRow[]> {
  const { rows } = await pool.query<RetryRow>(
    `SELECT service, event_id, event_type, attempt, error, retried_at FROM order_retries
     WHERE order_id = $1 ORDER BY retried_at, attempt LIMIT 100`,
    [orderId],
  );
  return rows;
}

/** Deletes, a batch at a time, the retries older than the order history's retention (order_retries_retried_idx). */
export function orderRetryPrune(retentionMs: number): PruneStatement {
  return {
    sql: `DELETE FROM order_retries WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM order_retries WHERE retried_at < now() - make_interval(secs => $1)
            ORDER BY retried_at LIMIT $2))`,
    params: [retentionMs / 1000],
  };
}
