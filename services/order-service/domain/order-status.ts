import type { EventType } from '../../../shared/contracts/events.js';

export type OrderStatus = 'pending' | 'reserved' | 'paid' | 'compensating' | 'completed' | 'cancelled';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['completed', 'cancelled']);

export interface StatusChange {
  status: OrderStatus;
  cancellation_reason?: string;
}

/**
 * The order's state machine: where an event moves an order in `current`, or null when it does not
 * move it (a late or repeated event; the event is still recorded in the history). A terminal
 * order never moves again, so events that arrive after a cancellation cannot revive it.
 */
export function nextStatus(current: OrderStatus, type: EventType, data: { reason?: string }): StatusChange | null {
  if (TERMINAL_STATUSES.has(current)) return null;
  switch (type) {
    case 'inventory.reserved':
      return current === 'pending' ? { status: 'reserved' } : null;
    case 'inventory.rejected':
      return { status: 'cancelled', cancellation_reason: data.reason ?? 'out_of_stock' };
    case 'payment.succeeded':
      return current === 'pending' || current === 'reserved' ? { status: 'paid' } : null;
    case 'payment.failed':
      return { status: 'cancelled', cancellation_reason: data.reason === 'cancelled' ? 'cancelled' : 'payment_declined' };
    case 'shipping.scheduled':
      return current === 'compensating' ? null : { status: 'completed' };
    case 'shipping.failed':
      return { status: 'compensating', cancellation_reason: 'shipping_failed' };
    case 'payment.refunded':
      return { status: 'cancelled', cancellation_reason: data.reason === 'shipping_failed' ? 'shipping_failed' : 'cancelled' };
    default:
      return null;
  }
}
