import type { PoolClient } from '../../../shared/db/pool.js';

type Queryable = Pick<PoolClient, 'query'>;

export interface PaymentRow {
  id: string;
  customer: string;
  order_id: string | null;
  amount: string;
  currency: string;
  status: 'succeeded' | 'failed';
  failure_code: string | null;
  description: string | null;
  source_brand: string;
  amount_refunded: string;
  created_at: Date;
}

export interface RefundRow {
  id: string;
  payment_id: string;
  amount: string;
  currency: string;
  reason: string | null;
  created_at: Date;
}

const PAYMENT_COLUMNS = `id, customer, order_id, amount::text AS amount, currency, status, failure_code, description,
  source_brand, amount_refunded::text AS amount_refunded, created_at`;
const REFUND_COLUMNS = 'id, payment_id, amount::text AS amount, currency, reason, created_at';

export async function insertPayment(client: Queryable, row: Omit<PaymentRow, 'created_at' | 'amount_refunded'>): Promise<PaymentRow> {
  const { rows } = await client.query<PaymentRow>(
    `INSERT INTO payments (id, customer, order_id, amount, currency, status, failure_code, description, source_brand)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PAYMENT_COLUMNS}`,
    [row.id, row.customer, row.order_id, row.amount, row.currency, row.status, row.failure_code, row.description, row.source_brand],
  );
  return rows[0] as PaymentRow;
}

export async function findPayment(client: Queryable, id: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/**
 * Reads a payment and locks its row until the caller's transaction ends, so that concurrent
 * refunds of one payment run one after another and each sees what the previous one refunded.
 */
export async function lockPayment(client: PoolClient, id: string): Promise<PaymentRow | null> {
  const { rows } = await client.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

export interface PaymentFilter {
  customer?: string;
  orderId?: string;
  limit: number;
  /** Id of the last payment of the previous page (it must exist). */
  startingAfter?: string;
}

/**
 * Newest first, by keyset on (created_at, id). The cursor row is compared inside SQL: read back
 * into a JS Date it would lose created_at's microseconds, and a payment from the same
 * millisecond as the cursor would be skipped.
 */
export async function listPayments(client: Queryable, filter: PaymentFilter): Promise<PaymentRow[]> {
  const params: unknown[] = [filter.limit];
  const where: string[] = [];
  if (filter.customer !== undefined) where.push(`customer = $${params.push(filter.customer)}`);
  if (filter.orderId !== undefined) where.push(`order_id = $${params.push(filter.orderId)}`);
  if (filter.startingAfter !== undefined) {
    where.push(`(created_at, id) < (SELECT created_at, id FROM payments WHERE id = $${params.push(filter.startingAfter)})`);
  }
  const { rows } = await client.query<PaymentRow>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    params,
  );
  return rows;
}

/** Records a refund and adds it to the payment's amount_refunded (the caller holds the payment's lock). */
export async function insertRefund(client: PoolClient, row: Omit<RefundRow, 'created_at'>): Promise<RefundRow> {
  const { rows } = await client.query<RefundRow>(
    `INSERT INTO refunds (id, payment_id, amount, currency, reason) VALUES ($1, $2, $3, $4, $5) RETURNING ${REFUND_COLUMNS}`,
    [row.id, row.payment_id, row.amount, row.currency, row.reason],
  );
  await client.query('UPDATE payments SET amount_refunded = amount_refunded + $2 WHERE id = $1', [row.payment_id, row.amount]);
  return rows[0] as RefundRow;
}

export async function findRefund(client: Queryable, id: string): Promise<RefundRow | null> {
  const { rows } = await client.query<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export interface RefundFilter {
  payment?: string;
  limit: number;
  /** Id of the last refund of the previous page (it must exist). */
  startingAfter?: string;
}

/** Newest first, by keyset on (created_at, id), like {@link listPayments}. */
export async function listRefunds(client: Queryable, filter: RefundFilter): Promise<RefundRow[]> {
  const params: unknown[] = [filter.limit];
  const where: string[] = [];
  if (filter.payment !== undefined) where.push(`payment_id = $${params.push(filter.payment)}`);
  if (filter.startingAfter !== undefined) {
    where.push(`(created_at, id) < (SELECT created_at, id FROM refunds WHERE id = $${params.push(filter.startingAfter)})`);
  }
  const { rows } = await client.query<RefundRow>(
    `SELECT ${REFUND_COLUMNS} FROM refunds ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    params,
  );
  return rows;
}
