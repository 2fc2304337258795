import type { EventType } from '../../../../shared/contracts/events.js';
import type { UnitOfWork } from '../../../../shared/db/unit-of-work.js';
import type { EventHandler, HandlerMap } from '../../../../shared/messaging/event-consumer.js';
import { applySagaEvent } from '../../domain/apply-saga-event.js';

/** The participants' events order-service follows: every one goes into the order's history. */
const FOLLOWED: EventType[] = [
  'inventory.reserved',
  'inventory.rejected',
  'payment.succeeded',
  'payment.failed',
  'shipping.scheduled',
  'shipping.failed',
  'payment.refunded',
  'inventory.released',
];

export function orderHandlers(unitOfWork: UnitOfWork): HandlerMap {
  const handler: EventHandler<EventType> = async (event, { logger }) => {
    await unitOfWork.runOnce(event, (tx) => applySagaEvent(tx, event, logger));
  };
  return Object.fromEntries(FOLLOWED.map((type) => [type, handler])) as HandlerMap;
}
