/**
 * Provider idempotency keys derived from the order: every attempt to charge (or refund) one order,
 * on any instance, after any crash, sends the same key, so the provider performs it at most once.
 */
export const chargeKey = (orderId: string): string => `order-${orderId}-charge`;
export const refundKey = (orderId: string): string => `order-${orderId}-refund`;
