import type { Static, TSchema } from '@sinclair/typebox';
import { envelopeFor, newEnvelope, type NewEventOptions, type TypedEvent } from './envelope.js';
import { SAGA_SERVICES, saga, type HandlerRole, type Saga, type SagaService, type Subscription } from './saga.js';

export { SAGA_SERVICES, saga, type HandlerRole, type SagaService };

/** Every event of the saga, by routing key. */
export type EventType = keyof Saga;
export type EventData<T extends EventType> = Static<Saga[T]['data']>;
export type SagaEvent<T extends EventType = EventType> = { [K in T]: TypedEvent<K, EventData<K>> }[T];

/** The events `S` subscribes to (its queue's bindings, its handler map's keys). */
export type SubscribedBy<S extends SagaService> = {
  [K in EventType]: S extends keyof Saga[K]['subscribers'] ? K : never;
}[EventType];

/** The events `S` publishes. */
export type PublishedBy<S extends SagaService> = { [K in EventType]: Saga[K]['publisher'] extends S ? K : never }[EventType];

export const EVENT_TYPES = Object.keys(saga) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(saga, value);
}

/** The data schema of each event. */
export const eventSchemas = Object.fromEntries(EVENT_TYPES.map((type) => [type, saga[type].data])) as {
  [K in EventType]: Saga[K]['data'];
};

/** The current version of an event's contract. */
export function eventVersion(type: EventType): number {
  return saga[type].version;
}

/** The services an event is delivered to. */
export function subscribersOf(type: EventType): SagaService[] {
  return Object.keys(saga[type].subscribers) as SagaService[];
}

/** The role `service`'s handler of `type` plays, or undefined when `service` does not subscribe to it. */
export function roleOf(type: EventType, service: SagaService): HandlerRole | undefined {
  return (saga[type].subscribers as Partial<Record<SagaService, Subscription>>)[service]?.role;
}

/**
 * The events a service subscribes to (its handler map's keys), in declaration order; with `role`,
 * only those it handles in that role (the routing keys of that role's queue).
 */
export function subscriptionsOf<S extends SagaService>(service: S, role?: HandlerRole): SubscribedBy<S>[] {
  return EVENT_TYPES.filter((type) => {
    const played = roleOf(type, service);
    return played !== undefined && (role === undefined || played === role);
  }) as SubscribedBy<S>[];
}

/** The events a service publishes, in declaration order. */
export function publishedBy<S extends SagaService>(service: S): PublishedBy<S>[] {
  return EVENT_TYPES.filter((type) => saga[type].publisher === service) as PublishedBy<S>[];
}

/** Full envelope JSON Schemas, one per event, for outside (e.g. Python) consumers. */
export function eventJsonSchemas(): Record<EventType, TSchema> {
  const out = {} as Record<EventType, TSchema>;
  for (const type of EVENT_TYPES) out[type] = envelopeFor(type, eventVersion(type), eventSchemas[type]);
  return out;
}

/** A new envelope for `type`, at the version the saga declares for it; `data` is typed by the event. */
export function newEvent<T extends EventType>(type: T, data: EventData<T>, options: NewEventOptions): SagaEvent<T> {
  return newEnvelope(type, eventVersion(type), data, options) as SagaEvent<T>;
}
