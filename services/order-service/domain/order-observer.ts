import type { OrderStatus } from './order-status.js';

/** An order that reached `completed` or `cancelled`, as committed. */
export interface OrderEnding {
  status: Extract<OrderStatus, 'completed' | 'cancelled'>;
  cancellation_reason: string | null;
  created_at: Date;
}

/** Told what became of orders, once it is committed (the saga's metrics). */
export interface OrderObserver {
  /** A new order was placed (not a replay). */
  placed(): void;
  ended(ending: OrderEnding): void;
}

export const UNOBSERVED: OrderObserver = { placed: () => undefined, ended: () => undefined };
