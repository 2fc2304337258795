import type { PoolClient } from '../../../shared/db/pool.js';

export type PaymentStatus = 'charging' | 'charged' | 'failed' | 'refunding' | 'refunded' | 'cancelled';

export interface PaymentRow {
  order_id: string;
  status: PaymentStatus;
  amount: string | null;
  currency: string | null;
  payment_id: string | null;
  refund_id: string | null;
  cancel_requested: boolean;
  /** Why the charge is (to be) refunded: fixed by the first compensation that asked. */
  refund_reason: string | null;
}

/** The order's payment row (callers hold the order lock); null if none yet. */
export async function findPayment(client: PoolClient, orderId: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<PaymentRow>(
    `SELECT order_id, status, amount::text AS amount, currency, payment_id, refund_id, cancel_requested, refund_reason
     FROM payments WHERE order_id = $1`,
    [orderId],
  );
  return rows[0] ?? null;
}

export async function insertPayment(
  client: PoolClient,
  row: { order_id: string; status: PaymentStatus; customer_id?: string; amount?: string; currency?: string; refund_reason?: string },
): Promise<void> {
  await client.query(
    `INSERT INTO payments (order_id, status, customer_id, amount, currency, refund_reason) VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.order_id, row.status, row.customer_id ?? null, row.amount ?? null, row.currency ?? null, row.refund_reason ?? null],
  );
}

/** Applies the given column changes to the order's row. */
export async function updatePayment(
  client: PoolClient,
  orderId: string,
  changes: Partial<{
    status: PaymentStatus;
    payment_id: string;
    refund_id: string;
    failure_reason: string;
    refund_reason: string;
    cancel_requested: boolean;
  }>,
): Promise<void> {
  const columns = Object.keys(changes);
  const assignments = columns.map((column, i) => `${column} = $${i + 2}`).join(', ');
  await client.query(`UPDATE payments SET ${assignments}, updated_at = now() WHERE order_id = $1`, [
    orderId,
    ...columns.map((column) => changes[column as keyof typeof changes]),
  ]);
}
