import type { DeadLetter } from '../../../../shared/dead-letters/dead-letter-store.js';
import type { HistoryRow, OrderLineRow, OrderRow } from '../../data-access/order-repository.js';
import type { RetryRow } from '../../data-access/retry-repository.js';
import { eventsAhead, publisherOf, sagaRoleOf } from '../../domain/saga-progress.js';
import { orderView } from './order-view.js';
import type { OrderResponse, OrderTimeline } from './schemas.js';

/**
 * An order's saga as the operations console shows it: each event of its history with who published
 * it, its part in the saga and how long after the previous one it happened; what the saga still
 * expects; the retries and dead letters of its events; and its payment (refunded or not) and shipment, read from the
 * details the history keeps (apply-saga-event.ts).
 */
export function orderTimelineView(order: OrderRow, lines: OrderLineRow[], history: HistoryRow[], letters: DeadLetter[], retries: RetryRow[]): OrderTimeline {
  const view = orderView(order, lines, history);
  return {
    order: view,
    entries: history.map((entry, i) => ({
      event_id: entry.event_id,
      event_type: entry.event_type,
      service: publisherOf(entry.event_type),
      role: sagaRoleOf(entry.event_type),
      occurred_at: entry.occurred_at.toISOString(),
      recorded_at: entry.recorded_at.toISOString(),
      // The history is ordered by occurred_at, so this is never negative.
      duration_ms: i === 0 ? 0 : entry.occurred_at.getTime() - history[i - 1]!.occurred_at.getTime(),
      detail: entry.detail,
    })),
    ahead: eventsAhead(order.status, history.map((entry) => entry.event_type)),
    retries: retries.map((retry) => ({
      service: retry.service,
      event_id: retry.event_id,
      event_type: retry.event_type,
      attempt: retry.attempt,
      error: retry.error,
      retried_at: retry.retried_at.toISOString(),
    })),
    dead_letters: letters.map((letter) => ({
      id: letter.id,
      service: letter.service,
      event_type: letter.event_type,
      reason: letter.reason,
      error: letter.error,
      dead_lettered_at: letter.dead_lettered_at.toISOString(),
      replay_count: letter.replay_count,
    })),
    payment: paymentOf(view, history),
    shipment: shipmentOf(history),
  };
}

const detailOf = (history: HistoryRow[], type: string) => history.find((entry) => entry.event_type === type)?.detail;
const textOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The charge (payment.succeeded) and its refund (payment.refunded), if any. */
function paymentOf(order: Pick<OrderResponse, 'total' | 'currency'>, history: HistoryRow[]): OrderTimeline['payment'] {
  const charged = detailOf(history, 'payment.succeeded');
  const refunded = detailOf(history, 'payment.refunded');
  const paymentId = textOf(charged?.payment_id) ?? textOf(refunded?.payment_id);
  if (paymentId === undefined) return null;
  return {
    payment_id: paymentId,
    amount: textOf(charged?.amount) ?? textOf(refunded?.amount) ?? order.total,
    // Charged in the order's currency (payment-service charges the order's total).
    currency: order.currency,
    refunded: refunded !== undefined,
    refund_id: textOf(refunded?.refund_id) ?? null,
  };
}

/** The shipment scheduled (shipping.scheduled), if any. */
function shipmentOf(history: HistoryRow[]): OrderTimeline['shipment'] {
  const scheduled = detailOf(history, 'shipping.scheduled');
  const trackingNumber = textOf(scheduled?.tracking_number);
  return trackingNumber === undefined ? null : { tracking_number: trackingNumber, carrier: textOf(scheduled?.carrier) ?? 'unknown' };
}
