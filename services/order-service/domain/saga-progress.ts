import { isEventType, saga, type EventType } from '../../../shared/contracts/events.js';
import type { Subscription } from '../../../shared/contracts/saga.js';
import { TERMINAL_STATUSES, type OrderStatus } from './order-status.js';

/**
 * The part an event plays in an order's saga, read from the saga declaration:
 * - `compensation` when any subscriber handles it as a compensation (it undoes, or reports an undo);
 * - otherwise `start` when order-service publishes it (the order is taken: order.created);
 * - otherwise `step` (a participant moved the order forward).
 */
export type SagaRole = 'start' | 'step' | 'compensation';

/** An event the order's saga still waits for, with who will publish it. */
export interface ExpectedEvent {
  event_type: EventType;
  service: string;
  role: SagaRole;
}

const subscriptions = (type: EventType): Subscription[] => Object.values(saga[type].subscribers);

/** The role of `type` (see {@link SagaRole}); an event the saga does not declare counts as a step. */
export function sagaRoleOf(type: string): SagaRole {
  if (!isEventType(type)) return 'step';
  if (subscriptions(type).some((subscription) => subscription.role === 'compensation')) return 'compensation';
  return saga[type].publisher === 'order-service' ? 'start' : 'step';
}

/** The service that publishes `type`; `unknown` for an event the saga does not declare. */
export function publisherOf(type: string): string {
  return isEventType(type) ? saga[type].publisher : 'unknown';
}

/**
 * The events the saga still expects for an order in `status` whose history holds `recorded`, in
 * the order they should come. Walks the declaration from what happened: each handler of a recorded
 * event leads to one of the events it `emits`; the one recorded if any, else the first (the one the
 * saga expects), which is then expected too, and followed in turn. A completed or cancelled order
 * expects nothing.
 */
export function eventsAhead(status: OrderStatus, recorded: readonly string[]): ExpectedEvent[] {
  if (TERMINAL_STATUSES.has(status)) return [];
  const happened = new Set(recorded);
  const followed = new Set<EventType>();
  const ahead: EventType[] = [];
  const follow = (type: EventType): void => {
    if (followed.has(type)) return;
    followed.add(type);
    for (const { emits = [] } of subscriptions(type)) {
      const outcome = emits.find((emitted) => happened.has(emitted)) ?? emits[0];
      if (outcome === undefined || !isEventType(outcome)) continue;
      if (!happened.has(outcome) && !ahead.includes(outcome)) ahead.push(outcome);
      follow(outcome);
    }
  };
  for (const type of recorded) if (isEventType(type)) follow(type);
  return ahead.map((type) => ({ event_type: type, service: publisherOf(type), role: sagaRoleOf(type) }));
}
