import { subscriptionsOf } from '../../../../shared/contracts/events.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import { oneHandlerForAll, type ServiceHandlers } from '../../../../shared/messaging/service-handlers.js';
import { applySagaEvent } from '../../domain/apply-saga-event.js';
import { UNOBSERVED, type OrderObserver } from '../../domain/order-observer.js';

/**
 * order-service follows every participant event the saga sends it: each goes into the order's
 * history and through the order's state machine, once (inbox), in one transaction.
 */
export function orderHandlers(unitOfWork: UnitOfWork, observer: OrderObserver = UNOBSERVED): ServiceHandlers<'order-service'> {
  return oneHandlerForAll(subscriptionsOf('order-service'), async (event, { logger }) => {
    await unitOfWork.runOnce(event, (tx) => applySagaEvent(tx, event, logger, observer));
  });
}
