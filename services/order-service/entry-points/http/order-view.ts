import { fromMinorUnits, toMinorUnits, type Currency } from '../../../../shared/contracts/money.js';
import type { HistoryRow, OrderLineRow, OrderRow } from '../../data-access/order-repository.js';
import type { OrderResponse } from './schemas.js';

/** The API's view of an order (no card token: it never leaves the saga's events). */
export function orderView(order: OrderRow, lines: OrderLineRow[], history: HistoryRow[]): OrderResponse {
  return {
    ...orderSummaryView(order, lines),
    history: history.map((entry) => ({
      event_id: entry.event_id,
      type: entry.event_type,
      occurred_at: entry.occurred_at.toISOString(),
      recorded_at: entry.recorded_at.toISOString(),
      detail: entry.detail,
    })),
  };
}

/** An order as a page of the list shows it: without its history (OrderList). */
export function orderSummaryView(order: OrderRow, lines: OrderLineRow[]): Omit<OrderResponse, 'history'> {
  const currency = order.currency as Currency;
  const amount = (value: string) => fromMinorUnits(toMinorUnits(value, currency), currency);
  return {
    id: order.id,
    customer_id: order.customer_id,
    status: order.status,
    cancellation_reason: order.cancellation_reason,
    items: lines.map((line) => ({
      sku: line.sku,
      quantity: line.quantity,
      unit_price: amount(line.unit_price),
      line_total: fromMinorUnits(toMinorUnits(line.unit_price, currency) * BigInt(line.quantity), currency),
    })),
    total: amount(order.total),
    currency,
    shipping_address: order.shipping_address,
    created_at: order.created_at.toISOString(),
    updated_at: order.updated_at.toISOString(),
  };
}

