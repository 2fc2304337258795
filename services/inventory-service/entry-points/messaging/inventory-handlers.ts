import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import type { ServiceHandlers } from '../../../../shared/messaging/service-handlers.js';
import { releaseStock } from '../../domain/release-stock.js';
import { reserveStock } from '../../domain/reserve-stock.js';

/** The events inventory-service reacts to; each is applied once (inbox) in one transaction. */
export function inventoryHandlers(unitOfWork: UnitOfWork): ServiceHandlers<'inventory-service'> {
  return {
    'order.created': async (event) => {
      await unitOfWork.runOnce(event, (tx) => reserveStock(tx, event));
    },
    'payment.failed': async (event) => {
      await unitOfWork.runOnce(event, (tx) => releaseStock(tx, event, 'payment_failed'));
    },
    'payment.refunded': async (event) => {
      await unitOfWork.runOnce(event, (tx) => releaseStock(tx, event, 'payment_refunded'));
    },
    'order.cancel_requested': async (event) => {
      await unitOfWork.runOnce(event, (tx) => releaseStock(tx, event, 'cancelled'));
    },
  };
}
