import type { SagaEvent } from '../../../shared/contracts/events.js';
import type { Transaction } from '../../../shared/db/unit-of-work.js';
import type { Logger } from '../../../shared/logging/logger.js';
import { stockMoves } from '../data-access/catalog-repository.js';
import { appendHistory, findOrder, setStatus } from '../data-access/order-repository.js';
import { UNOBSERVED, type OrderObserver } from './order-observer.js';
import { nextStatus } from './order-status.js';

/** What of an event's data goes into the order's history (no card tokens, no addresses). */
function historyDetail(event: SagaEvent): Record<string, unknown> {
  const data = event.data as Record<string, unknown>;
  const keep = ['reason', 'payment_id', 'refund_id', 'amount', 'currency', 'shipment_id', 'carrier', 'tracking_number', 'skus', 'message'];
  return Object.fromEntries(Object.entries(data).filter(([key]) => keep.includes(key)));
}

/**
 * Any saga event about an order: recorded in its history, and applied to its status through the
 * state machine. Inventory events also move the stock read model behind GET /products.
 */
export async function applySagaEvent(tx: Transaction, event: SagaEvent, logger: Logger, observer: OrderObserver = UNOBSERVED): Promise<void> {
  const orderId = event.data.order_id;
  const order = await findOrder(tx.client, orderId, true);
  if (!order) {
    // A hand-made or stray event: nothing to record it on, and no stock of ours moved.
    logger.warn('event for an unknown order ignored', { order_id: orderId });
    return;
  }
  const change = nextStatus(order.status, event.type, event.data as { reason?: string });
  // The stock read model moves at the end of the transaction, with every other unit's moves.
  if (event.type === 'inventory.reserved') tx.collect(stockMoves, { lines: event.data.items, sign: -1 });
  if (event.type === 'inventory.released') tx.collect(stockMoves, { lines: event.data.items, sign: 1 });
  // Independent writes, sent together (the pool pipelines them): one round trip, not two.
  await Promise.all([
    appendHistory(tx.client, {
      order_id: orderId,
      event_id: event.id,
      event_type: event.type,
      occurred_at: event.occurred_at,
      detail: historyDetail(event),
    }),
    change ? setStatus(tx.client, orderId, change) : undefined,
  ]);
  if (change) logger.info('order status changed', { from: order.status, to: change.status, reason: change.cancellation_reason });
  const status = change?.status;
  if (status === 'completed' || status === 'cancelled') {
    const ending = { status, cancellation_reason: change?.cancellation_reason ?? order.cancellation_reason, created_at: order.created_at };
    tx.afterCommit(() => observer.ended(ending));
  }
}
