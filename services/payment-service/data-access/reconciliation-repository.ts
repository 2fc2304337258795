import { randomUUID } from 'node:crypto';
import type { Pool } from '../../../shared/db/pool.js';
import type { DiscrepancyKind, PaymentRecord } from '../domain/reconciliation/classify.js';

type Queryable = Pick<Pool, 'query'>;

const RECORD_COLUMNS = `order_id AS "orderId", status, amount::text AS amount, currency, payment_id AS "paymentId",
  refund_reason AS "refundReason", updated_at AS "updatedAt"`;

/** Rows created in [since, until). */
export async function recordsCreatedBetween(db: Queryable, since: Date, until: Date): Promise<PaymentRecord[]> {
  const { rows } = await db.query<PaymentRecord>(`SELECT ${RECORD_COLUMNS} FROM payments WHERE created_at >= $1 AND created_at < $2`, [since, until]);
  return rows;
}

export async function recordsOf(db: Queryable, orderIds: readonly string[]): Promise<PaymentRecord[]> {
  if (orderIds.length === 0) return [];
  const { rows } = await db.query<PaymentRecord>(`SELECT ${RECORD_COLUMNS} FROM payments WHERE order_id = ANY($1::uuid[])`, [orderIds]);
  return rows;
}

/** Where the last complete run's window ended, if one did. */
export async function lastCompleteWindowEnd(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ window_end: Date }>(
    `SELECT window_end FROM reconciliation_runs WHERE status = 'complete' ORDER BY window_end DESC LIMIT 1`,
  );
  return rows[0]?.window_end ?? null;
}

export async function startRun(db: Queryable, id: string, since: Date, until: Date): Promise<void> {
  await db.query(`INSERT INTO reconciliation_runs (id, window_start, window_end, status) VALUES ($1, $2, $3, 'running')`, [id, since, until]);
}

export async function finishRun(db: Queryable, id: string, status: 'complete' | 'partial', report: object): Promise<void> {
  await db.query(`UPDATE reconciliation_runs SET status = $2, report = $3, finished_at = clock_timestamp() WHERE id = $1`, [id, status, report]);
}

export type DiscrepancyStatus = 'pending' | 'open' | 'healed' | 'resolved';

export interface DiscrepancyRow {
  id: string;
  kind: DiscrepancyKind;
  order_id: string | null;
  payment_id: string | null;
  status: DiscrepancyStatus;
  evidence: Record<string, unknown>;
  action: Record<string, unknown> | null;
  first_seen_at: Date;
  last_seen_at: Date;
  closed_at: Date | null;
}

/** Discrepancies still to look at: pending (in their grace period) and open (for a person). */
export async function unsettledDiscrepancies(db: Queryable): Promise<DiscrepancyRow[]> {
  const { rows } = await db.query<DiscrepancyRow>(
    `SELECT * FROM payment_discrepancies WHERE status IN ('pending', 'open') ORDER BY first_seen_at`,
  );
  return rows;
}

export async function listDiscrepancies(db: Queryable, filter: { status?: DiscrepancyStatus; limit: number }): Promise<DiscrepancyRow[]> {
  const { rows } = await db.query<DiscrepancyRow>(
    `SELECT * FROM payment_discrepancies WHERE ($1::text IS NULL OR status = $1) ORDER BY last_seen_at DESC LIMIT $2`,
    [filter.status ?? null, filter.limit],
  );
  return rows;
}

/** Counts of pending and open discrepancies by kind (the metric). */
export async function countUnsettled(db: Queryable): Promise<{ kind: string; status: string; count: number }[]> {
  const { rows } = await db.query<{ kind: string; status: string; count: number }>(
    `SELECT kind, status, count(*)::int AS count FROM payment_discrepancies WHERE status IN ('pending', 'open') GROUP BY kind, status`,
  );
  return rows;
}

/**
 * Records what a run found, under its identity (kind, order, payment): a new row, or the same one
 * seen again with fresh evidence. Returns whether it was new (or newly open: worth an error line).
 */
export async function saveDiscrepancy(
  db: Queryable,
  found: { kind: DiscrepancyKind; orderId: string | null; paymentId: string | null; status: DiscrepancyStatus; evidence: object; action: object | null },
): Promise<{ id: string; previous: DiscrepancyStatus | null }> {
  const { rows } = await db.query<{ id: string; previous: DiscrepancyStatus | null }>(
    `WITH previous AS (
       SELECT id, status FROM payment_discrepancies
       WHERE kind = $2 AND COALESCE(order_id::text, '') = COALESCE($3::uuid::text, '') AND COALESCE(payment_id, '') = COALESCE($4, '')
     )
     INSERT INTO payment_discrepancies (id, kind, order_id, payment_id, status, evidence, action, closed_at)
     VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, CASE WHEN $5 IN ('healed', 'resolved') THEN clock_timestamp() END)
     ON CONFLICT (kind, COALESCE(order_id::text, ''), COALESCE(payment_id, '')) DO UPDATE SET
       status = EXCLUDED.status, evidence = EXCLUDED.evidence, action = COALESCE(EXCLUDED.action, payment_discrepancies.action),
       last_seen_at = clock_timestamp(),
       closed_at = CASE WHEN EXCLUDED.status IN ('healed', 'resolved') THEN clock_timestamp() END
     RETURNING id, (SELECT status FROM previous) AS previous`,
    [randomUUID(), found.kind, found.orderId, found.paymentId, found.status, found.evidence, found.action],
  );
  return rows[0]!;
}

/** Closes a pending or open discrepancy that a run no longer finds. */
export async function resolveDiscrepancy(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE payment_discrepancies SET status = 'resolved', closed_at = clock_timestamp(), last_seen_at = clock_timestamp()
     WHERE id = $1 AND status IN ('pending', 'open')`,
    [id],
  );
}

/** Writes a charge the provider holds into the order's row (a completed order whose charge went unrecorded). */
export async function recordCharge(
  db: Queryable,
  row: { orderId: string; paymentId: string; amount: string; currency: string },
): Promise<void> {
  await db.query(
    `INSERT INTO payments (order_id, status, amount, currency, payment_id) VALUES ($1, 'charged', $3, $4, $2)
     ON CONFLICT (order_id) DO UPDATE SET status = 'charged', payment_id = $2, amount = $3, currency = $4, updated_at = now()`,
    [row.orderId, row.paymentId, row.amount, row.currency],
  );
}
