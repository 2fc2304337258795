import type { SagaService, SubscribedBy } from '../contracts/events.js';
import type { EventHandler } from './event-consumer.js';

/**
 * A saga service's handler map: exactly one handler for each event the saga declares it subscribes
 * to. A missing handler, or one for an event the service does not subscribe to, does not compile.
 */
export type ServiceHandlers<S extends SagaService> = { [K in SubscribedBy<S>]: EventHandler<K> };

/** The same handler for every event `service` subscribes to (a service that records them all). */
export function oneHandlerForAll<S extends SagaService>(
  subscriptions: readonly SubscribedBy<S>[],
  handler: EventHandler<SubscribedBy<S>>,
): ServiceHandlers<S> {
  return Object.fromEntries(subscriptions.map((type) => [type, handler])) as unknown as ServiceHandlers<S>;
}
