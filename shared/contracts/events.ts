import type { Static, TSchema } from '@sinclair/typebox';
import { envelopeFor, newEnvelope, type NewEventOptions, type TypedEvent } from './envelope.js';
import { SAGA_SERVICES, saga, type Saga, type SagaService } from './saga.js';

export { SAGA_SERVICES, saga, type SagaService };

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

/** The events a service's queue is bound to, in declaration order. */
export function subscriptionsOf<S extends SagaService>(service: S): SubscribedBy<S>[] {
  return EVENT_TYPES.filter((type) => subscribersOf(type).includes(service)) as SubscribedBy<S>[];
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
