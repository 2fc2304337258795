import type { Pool } from '../../../../shared/db/pool.js';
import { findHistory, findOrder, findOrderLines, type HistoryRow, type OrderLineRow, type OrderRow } from '../../data-access/order-repository.js';
import { OrderNotFoundError } from '../../domain/order-errors.js';
import { orderView } from './order-view.js';
import type { OrderResponse } from './schemas.js';

/** A path's order id: anything but a UUID is an order that does not exist (Postgres would refuse it). */
export const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order with its lines and history; `customerId` null: whoever's it is (admins). Another
 * customer's order answers exactly like a missing one (OrderNotFoundError): its existence is not
 * revealed.
 */
export async function loadOrder(
  pool: Pool,
  orderId: string,
  customerId: string | null,
): Promise<{ order: OrderRow; lines: OrderLineRow[]; history: HistoryRow[] }> {
  const order = ORDER_ID.test(orderId) ? await findOrder(pool, orderId) : null;
  if (!order || (customerId !== null && order.customer_id !== customerId)) throw new OrderNotFoundError(`order ${orderId} not found`);
  const [lines, history] = await Promise.all([findOrderLines(pool, orderId), findHistory(pool, orderId)]);
  return { order, lines, history };
}

/** The API's view of the order (see {@link loadOrder}). */
export async function loadOrderView(pool: Pool, orderId: string, customerId: string | null): Promise<OrderResponse> {
  const { order, lines, history } = await loadOrder(pool, orderId, customerId);
  return orderView(order, lines, history);
}
