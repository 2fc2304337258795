import type { PoolClient } from '../../../shared/db/pool.js';
import type { ShippingAddress } from '../../../shared/contracts/common-schemas.js';
import type { OrderStatus, StatusChange } from '../domain/order-status.js';

export interface OrderLineRow {
  sku: string;
  quantity: number;
  unit_price: string;
}

export interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  cancellation_reason: string | null;
  currency: string;
  total: string;
  shipping_address: ShippingAddress;
  created_at: Date;
  updated_at: Date;
}

export interface HistoryRow {
  event_id: string;
  event_type: string;
  detail: Record<string, unknown>;
  occurred_at: Date;
  recorded_at: Date;
}

type Queryable = Pick<PoolClient, 'query'>;

const ORDER_COLUMNS = `id, customer_id, status, cancellation_reason, currency, total::text AS total,
  shipping_address, created_at, updated_at`;

/**
 * Inserts the order and its lines. With an idempotency key, an order this customer already placed
 * under the same key wins: nothing is inserted and that order's id and request hash are returned.
 */
export async function insertOrder(
  client: Queryable,
  order: Omit<OrderRow, 'created_at' | 'updated_at' | 'cancellation_reason' | 'status'> & {
    lines: OrderLineRow[];
    deadline_ms: number;
    idempotency?: { keyHash: string; requestHash: string };
  },
): Promise<{ inserted: true; created_at: Date; updated_at: Date } | { inserted: false; existingId: string; requestHash: string | null }> {
  const { rows: inserted } = await client.query<{ created_at: Date; updated_at: Date }>(
    `INSERT INTO orders (id, customer_id, status, currency, total, shipping_address, deadline_at, idempotency_key_hash, request_hash)
     VALUES ($1, $2, 'pending', $3, $4, $5, clock_timestamp() + make_interval(secs => $6), $7, $8)
     ON CONFLICT (customer_id, idempotency_key_hash) WHERE idempotency_key_hash IS NOT NULL DO NOTHING
     RETURNING created_at, updated_at`,
    [
      order.id,
      order.customer_id,
      order.currency,
      order.total,
      JSON.stringify(order.shipping_address),
      order.deadline_ms / 1000,
      order.idempotency?.keyHash ?? null,
      order.idempotency?.requestHash ?? null,
    ],
  );
  if (inserted.length === 0) {
    const { rows } = await client.query<{ id: string; request_hash: string | null }>(
      'SELECT id, request_hash FROM orders WHERE customer_id = $1 AND idempotency_key_hash = $2',
      [order.customer_id, order.idempotency?.keyHash],
    );
    return { inserted: false, existingId: rows[0]!.id, requestHash: rows[0]!.request_hash };
  }
  await client.query(
    `INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price)
     SELECT $1, n, sku, quantity, unit_price FROM unnest($2::text[], $3::int[], $4::numeric[]) WITH ORDINALITY AS l(sku, quantity, unit_price, n)`,
    [order.id, order.lines.map((l) => l.sku), order.lines.map((l) => l.quantity), order.lines.map((l) => l.unit_price)],
  );
  return { inserted: true, ...inserted[0]! };
}

/** The order, locked for update when `forUpdate`; null if unknown. */
export async function findOrder(client: Queryable, id: string, forUpdate = false): Promise<OrderRow | null> {
  const { rows } = await client.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

export async function findOrderLines(client: Queryable, id: string): Promise<OrderLineRow[]> {
  const { rows } = await client.query<OrderLineRow>(
    'SELECT sku, quantity, unit_price::text AS unit_price FROM order_items WHERE order_id = $1 ORDER BY line_no',
    [id],
  );
  return rows;
}

/** The lines of several orders in one query, by order id. */
export async function findLinesOfOrders(client: Queryable, ids: string[]): Promise<Map<string, OrderLineRow[]>> {
  const { rows } = await client.query<OrderLineRow & { order_id: string }>(
    `SELECT order_id, sku, quantity, unit_price::text AS unit_price FROM order_items
     WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line_no`,
    [ids],
  );
  const byOrder = new Map<string, OrderLineRow[]>();
  for (const { order_id, ...line } of rows) byOrder.set(order_id, [...(byOrder.get(order_id) ?? []), line]);
  return byOrder;
}

export async function findHistory(client: Queryable, id: string): Promise<HistoryRow[]> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT event_id, event_type, detail, occurred_at, recorded_at FROM order_history
     WHERE order_id = $1 ORDER BY occurred_at, recorded_at`,
    [id],
  );
  return rows;
}

export async function setStatus(client: Queryable, id: string, change: StatusChange): Promise<void> {
  await client.query(
    `UPDATE orders SET status = $2, cancellation_reason = COALESCE($3, cancellation_reason), updated_at = clock_timestamp()
     WHERE id = $1`,
    [id, change.status, change.cancellation_reason ?? null],
  );
}

/** Adds an entry to the order's history; returns when it was recorded (null: it was there already). */
export async function appendHistory(
  client: Queryable,
  entry: { order_id: string; event_id: string; event_type: string; occurred_at: string; detail: Record<string, unknown> },
): Promise<Date | null> {
  const { rows } = await client.query<{ recorded_at: Date }>(
    `INSERT INTO order_history (order_id, event_id, event_type, occurred_at, detail) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING recorded_at`,
    [entry.order_id, entry.event_id, entry.event_type, entry.occurred_at, JSON.stringify(entry.detail)],
  );
  return rows[0]?.recorded_at ?? null;
}

export interface OrderPageQuery {
  /** Only this customer's orders. */
  customerId?: string;
  /** The order with this id, and the orders of a customer whose id it is (an admin's search box). */
  orderOrCustomerId?: string;
  status?: OrderStatus;
  cancellationReason?: string;
  /** Placed at or after this instant (ISO 8601). */
  createdFrom?: string;
  /** Placed before this instant (ISO 8601). */
  createdBefore?: string;
  limit: number;
  /** Keyset cursor: the last order of the previous page. */
  after?: { created_at: string; id: string };
}

/**
 * A page of orders matching every filter given, newest first, by keyset (stable under inserts, no
 * OFFSET scans). Each filter has an index to start from: the customer's (orders_customer_idx), the
 * status's (orders_status_created_idx), the primary key; with none, orders_created_idx.
 */
export async function listOrders(client: Queryable, query: OrderPageQuery): Promise<OrderRow[]> {
  const params: unknown[] = [query.limit];
  const where: string[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (query.customerId !== undefined) where.push(`customer_id = ${param(query.customerId)}`);
  if (query.orderOrCustomerId !== undefined) {
    where.push(`(id = ${param(query.orderOrCustomerId)}::uuid OR customer_id = ${param(query.orderOrCustomerId)})`);
  }
  if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
  if (query.cancellationReason !== undefined) where.push(`cancellation_reason = ${param(query.cancellationReason)}`);
  if (query.createdFrom !== undefined) where.push(`created_at >= ${param(query.createdFrom)}::timestamptz`);
  if (query.createdBefore !== undefined) where.push(`created_at < ${param(query.createdBefore)}::timestamptz`);
  if (query.after) where.push(`(created_at, id) < (${param(query.after.created_at)}::timestamptz, ${param(query.after.id)}::uuid)`);
  const { rows } = await client.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    params,
  );
  return rows;
}

/**
 * Claims up to `limit` open orders past their deadline (SKIP LOCKED: two sweepers never take the
 * same order) and cancels them in the caller's transaction. Returns their ids and when they were placed.
 */
export async function cancelOverdueOrders(client: Queryable, limit: number): Promise<Array<{ id: string; created_at: Date }>> {
  const { rows } = await client.query<{ id: string; created_at: Date }>(
    `UPDATE orders SET status = 'cancelled', cancellation_reason = 'deadline_exceeded', updated_at = clock_timestamp()
     WHERE id IN (
       SELECT id FROM orders WHERE status NOT IN ('completed', 'cancelled') AND deadline_at < clock_timestamp()
       ORDER BY deadline_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, created_at`,
    [limit],
  );
  return rows;
}
