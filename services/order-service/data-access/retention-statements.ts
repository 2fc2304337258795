import type { PruneStatement } from '../../../shared/db/prune-job.js';

/**
 * Deletes, a batch at a time, the saga history of orders that ended (completed or cancelled) more
 * than `retentionMs` ago, oldest first (order_history_recorded_idx). The orders themselves and
 * their lines stay: they are the customer's record (their order list, GET /orders/:id) and what
 * payment-service's reconciliation asks about; an order's history is the saga's trace, wanted for
 * disputes and debugging for a while, then no more. A pruned order answers with an empty history.
 */
export function orderHistoryPrune(retentionMs: number): PruneStatement {
  return {
    sql: `DELETE FROM order_history WHERE ctid = ANY(ARRAY(
            SELECT h.ctid FROM order_history h JOIN orders o ON o.id = h.order_id
            WHERE h.recorded_at < now() - make_interval(secs => $1)
              AND o.status IN ('completed', 'cancelled') AND o.updated_at < now() - make_interval(secs => $1)
            ORDER BY h.recorded_at LIMIT $2))`,
    params: [retentionMs / 1000],
  };
}

/**
 * Clears, a batch at a time, the Idempotency-Key hashes of orders placed more than `retentionMs`
 * ago (orders_idempotency_key_age_idx): the key is then forgotten and may be used again, as the
 * API's records in Redis are after IDEMPOTENCY_TTL_S. The order keeps everything else; its
 * updated_at is left alone (it tells when an ended order ended). Orders locked at that moment are
 * skipped (SKIP LOCKED) and cleared by a later run.
 */
export function idempotencyKeyClear(retentionMs: number): PruneStatement {
  return {
    sql: `UPDATE orders SET idempotency_key_hash = NULL, request_hash = NULL WHERE id = ANY(ARRAY(
            SELECT id FROM orders
            WHERE idempotency_key_hash IS NOT NULL AND created_at < now() - make_interval(secs => $1)
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    params: [retentionMs / 1000],
  };
}
