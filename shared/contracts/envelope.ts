import { randomUUID } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The envelope every event travels in (docs/architecture.md, wire contract). `id` is the dedup key;
 * `correlation_id` is the order id; `causation_id` is the id of the event that caused this one.
 */
export const EventEnvelope = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ minLength: 1, maxLength: 100 }),
    version: Type.Integer({ minimum: 1 }),
    occurred_at: Type.String({ format: 'date-time' }),
    correlation_id: Type.String({ format: 'uuid' }),
    causation_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    data: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: false, $id: 'EventEnvelope' },
);

export type EventEnvelope = Static<typeof EventEnvelope>;

/** An envelope whose `data` has been checked against its event's schema. */
export interface TypedEvent<Type extends string, Data> extends Omit<EventEnvelope, 'type' | 'data'> {
  type: Type;
  data: Data;
}

/**
 * Builds an envelope schema for one event type, for the JSON Schema documentation; its description
 * tells a reader of the queue how to get from a message to the JSON (docs/architecture.md, wire contract).
 */
export function envelopeFor<S extends TSchema>(type: string, version: number, data: S) {
  return Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      type: Type.Literal(type),
      version: Type.Literal(version),
      occurred_at: Type.String({ format: 'date-time' }),
      correlation_id: Type.String({ format: 'uuid' }),
      causation_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
      data,
    },
    {
      additionalProperties: false,
      description:
        `Envelope of the event ${type}, version ${version}: the body of a message on the saga.events exchange with ` +
        `routing key ${type}, UTF-8 JSON. The body may arrive gzip'd: when the message's AMQP property ` +
        'content_encoding is gzip, gunzip it before parsing the JSON (otherwise content_encoding is utf-8).',
    },
  );
}

export interface NewEventOptions {
  correlationId: string;
  causationId?: string | null;
  /** @defaultValue a new random UUID */
  id?: string;
  /** @defaultValue now */
  occurredAt?: Date;
}

/** Creates a fresh envelope. */
export function newEnvelope<T extends string, D>(
  type: T,
  version: number,
  data: D,
  options: NewEventOptions,
): TypedEvent<T, D> {
  return {
    id: options.id ?? randomUUID(),
    type,
    version,
    occurred_at: (options.occurredAt ?? new Date()).toISOString(),
    correlation_id: options.correlationId,
    causation_id: options.causationId ?? null,
    data,
  };
}
