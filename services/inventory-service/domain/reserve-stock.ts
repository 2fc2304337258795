import { type SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import type { Transaction } from '../../../shared/db/unit-of-work.js';
import { findReservation, insertReservation } from '../data-access/reservation-repository.js';
import { adjustStock, lockStock, type StockLine } from '../data-access/stock-repository.js';

/** Sums the quantities of lines that name the same SKU. */
export function mergeLines(lines: ReadonlyArray<StockLine>): StockLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku));
}

/**
 * order.created → reserve every line or none. Emits inventory.reserved (carrying what payment and
 * shipping need) or inventory.rejected. An order already seen (a reservation, or a cancellation
 * tombstone) is left as it is.
 */
export async function reserveStock(tx: Transaction, event: SagaEvent<'order.created'>): Promise<void> {
  const order = event.data;
  if (await findLocked(tx.client, order.order_id, findReservation)) return;

  const lines = mergeLines(order.items);
  const available = await lockStock(tx.client, lines.map((l) => l.sku));
  const unknown = lines.filter((l) => !available.has(l.sku)).map((l) => l.sku);
  const short = lines.filter((l) => (available.get(l.sku) ?? 0) < l.quantity).map((l) => l.sku);
  const meta = { correlationId: order.order_id, causationId: event.id };

  if (short.length > 0) {
    const reason = unknown.length > 0 ? 'unknown_sku' : 'out_of_stock';
    await insertReservation(tx.client, { order_id: order.order_id, status: 'rejected', items: [], reason });
    tx.emit('inventory.rejected', { order_id: order.order_id, reason, skus: unknown.length ? unknown : short }, meta);
    return;
  }
  await Promise.all([
    adjustStock(tx.client, lines, -1),
    insertReservation(tx.client, { order_id: order.order_id, status: 'reserved', items: lines }),
  ]);
  tx.emit('inventory.reserved', {
    order_id: order.order_id,
    customer_id: order.customer_id,
    items: lines,
    total: order.total,
    currency: order.currency,
    payment_source: order.payment_source,
    shipping_address: order.shipping_address,
  }, meta);
}
