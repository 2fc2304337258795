import type { Pool } from '../../../../shared/db/pool.js';
import { findLinesOfOrders, type OrderRow } from '../../data-access/order-repository.js';
import { encodeCursor } from './order-cursor.js';
import { orderSummaryView } from './order-view.js';

/**
 * A page of orders as the lists answer it (the customer's and the admins'): `rows` were read with
 * `limit + 1`, so one more than the page says whether another follows. Every order's lines come in
 * one query, not one per order.
 */
export async function orderPage(pool: Pool, rows: OrderRow[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const lines = await findLinesOfOrders(pool, page.map((order) => order.id));
  return {
    data: page.map((order) => orderSummaryView(order, lines.get(order.id) ?? [])),
    next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}
