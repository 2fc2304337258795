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

export async function insertPayment(client: Queryable, row: Omit<PaymentRow, 'created_at' | 'amount_refunded'>): Promise<PaymentRow> {
  const { rows } = await client.query<PaymentRow>(
    `INSERT INTO payments (id, customer, order_id, amount, currency, status, failure_code, description, source_brand)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PAYMENT_COLUMNS}`,
    [row.id, row.customer, row.order_id, row.amount, row.currency, row.status, row.failure_code, row.description, row.source_brand],
  );
  return rows[0] as PaymentRow;
}

export async function findPayment(client: Queryable, id: string, forUpdate = false): Promise<PaymentRow | null> {
  const { rows } = await client.query<PaymentRow>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

export interface PaymentFilter {
  customer?: string;
  orderId?: string;
  limit: number;
  startingAfter?: PaymentRow;
}

/** Newest first, by keyset. */
export async function listPayments(client: Queryable, filter: PaymentFilter): Promise<PaymentRow[]> {
  const params: unknown[] = [filter.limit];
  const where: string[] = [];
  if (filter.customer !== undefined) where.push(`customer = $${params.push(filter.customer)}`);
  if (filter.orderId !== undefined) where.push(`order_id = $${params.push(filter.orderId)}`);
  if (filter.startingAfter) {
    params.push(filter.startingAfter.created_at, filter.startingAfter.id);
    where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
  }
  const { rows } = await client.query<PaymentRow>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    params,
  );
  return rows;
}

export async function insertRefund(client: Queryable, row: Omit<RefundRow, 'created_at'>): Promise<RefundRow> {
  const { rows } = await client.query<RefundRow>(
    `INSERT INTO refunds (id, payment_id, amount, currency, reason) VALUES ($1, $2, $3, $4, $5)
     RETURNING id, payment_id, amount::text AS amount, currency, reason, created_at`,
    [row.id, row.payment_id, row.amount, row.currency, row.reason],
  );
  await client.query('UPDATE payments SET amount_refunded = amount_refunded + $2 WHERE id = $1', [row.payment_id, row.amount]);
  return rows[0] as RefundRow;
}

export async function listRefunds(client: Queryable, paymentId: string | undefined, limit: number): Promise<RefundRow[]> {
  const { rows } = await client.query<RefundRow>(
    `SELECT id, payment_id, amount::text AS amount, currency, reason, created_at FROM refunds
     ${paymentId === undefined ? '' : 'WHERE payment_id = $2'} ORDER BY created_at DESC LIMIT $1`,
    paymentId === undefined ? [limit] : [limit, paymentId],
  );
  return rows;
}
