import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import type { ServiceHandlers } from '../../../../shared/messaging/service-handlers.js';
import { cancelShipment } from '../../domain/cancel-shipment.js';
import { scheduleShipment, type ShippingPolicy } from '../../domain/schedule-shipment.js';

/** The events shipping-service reacts to; each is applied once (inbox) in one transaction. */
export function shippingHandlers(unitOfWork: UnitOfWork, policy: ShippingPolicy): ServiceHandlers<'shipping-service'> {
  return {
    'payment.succeeded': async (event) => {
      await unitOfWork.runOnce(event, (tx) => scheduleShipment(tx, event, policy));
    },
    'order.cancel_requested': async (event) => {
      await unitOfWork.runOnce(event, (tx) => cancelShipment(tx, event));
    },
  };
}
