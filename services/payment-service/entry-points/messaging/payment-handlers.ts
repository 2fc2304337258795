import type { ServiceHandlers } from '../../../../shared/messaging/service-handlers.js';
import { chargePayment } from '../../domain/charge-payment.js';
import { refundPayment, type RefundDeps } from '../../domain/refund-payment.js';

/** The events payment-service reacts to. */
export function paymentHandlers(deps: RefundDeps): ServiceHandlers<'payment-service'> {
  return {
    'inventory.reserved': (event, { logger }) => chargePayment({ ...deps, logger }, event),
    'shipping.failed': (event, { logger }) =>
      refundPayment({ ...deps, logger }, event.data.order_id, 'shipping_failed', event),
    'order.cancel_requested': (event, { logger }) =>
      refundPayment({ ...deps, logger }, event.data.order_id, 'cancelled', event),
  };
}
