import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CurrencyCode, DecimalAmount } from './money.js';
import { CustomerId, PaymentSource, ShippingAddress, Sku, Uuid } from './common-schemas.js';
import { envelopeFor, type TypedEvent } from './envelope.js';

const Quantity = Type.Integer({ minimum: 1, maximum: 1000 });
const StockLine = Type.Object({ sku: Sku, quantity: Quantity }, { additionalProperties: false });
const PricedLine = Type.Object(
  { sku: Sku, quantity: Quantity, unit_price: DecimalAmount },
  { additionalProperties: false },
);

/**
 * Every event of the saga, by routing key, with its data schema (DESIGN.md, "The saga").
 * Events carry forward what the next participant needs, so no service reads another's tables.
 */
export const eventSchemas = {
  'order.created': Type.Object(
    {
      order_id: Uuid,
      customer_id: CustomerId,
      items: Type.Array(PricedLine, { minItems: 1, maxItems: 100 }),
      total: DecimalAmount,
      currency: CurrencyCode,
      payment_source: PaymentSource,
      shipping_address: ShippingAddress,
    },
    { additionalProperties: false },
  ),
  'inventory.reserved': Type.Object(
    {
      order_id: Uuid,
      customer_id: CustomerId,
      items: Type.Array(StockLine, { minItems: 1, maxItems: 100 }),
      total: DecimalAmount,
      currency: CurrencyCode,
      payment_source: PaymentSource,
      shipping_address: ShippingAddress,
    },
    { additionalProperties: false },
  ),
  'inventory.rejected': Type.Object(
    {
      order_id: Uuid,
      reason: Type.Union([Type.Literal('out_of_stock'), Type.Literal('unknown_sku'), Type.Literal('cancelled')]),
      skus: Type.Array(Sku, { maxItems: 100 }),
    },
    { additionalProperties: false },
  ),
  'payment.succeeded': Type.Object(
    {
      order_id: Uuid,
      payment_id: Type.String({ minLength: 1, maxLength: 100 }),
      amount: DecimalAmount,
      currency: CurrencyCode,
      shipping_address: ShippingAddress,
      items: Type.Array(StockLine, { minItems: 1, maxItems: 100 }),
    },
    { additionalProperties: false },
  ),
  'payment.failed': Type.Object(
    {
      order_id: Uuid,
      reason: Type.Union([
        Type.Literal('card_declined'),
        Type.Literal('insufficient_funds'),
        Type.Literal('invalid_request'),
        Type.Literal('cancelled'),
      ]),
      message: Type.String({ maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
  'shipping.scheduled': Type.Object(
    {
      order_id: Uuid,
      shipment_id: Uuid,
      carrier: Type.String({ minLength: 1, maxLength: 50 }),
      tracking_number: Type.String({ minLength: 1, maxLength: 100 }),
    },
    { additionalProperties: false },
  ),
  'shipping.failed': Type.Object(
    {
      order_id: Uuid,
      reason: Type.Union([Type.Literal('unserviceable_destination'), Type.Literal('cancelled')]),
      message: Type.String({ maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
  'payment.refunded': Type.Object(
    {
      order_id: Uuid,
      payment_id: Type.String({ minLength: 1, maxLength: 100 }),
      refund_id: Type.String({ minLength: 1, maxLength: 100 }),
      amount: DecimalAmount,
      currency: CurrencyCode,
      reason: Type.Union([Type.Literal('shipping_failed'), Type.Literal('cancelled')]),
    },
    { additionalProperties: false },
  ),
  'inventory.released': Type.Object(
    {
      order_id: Uuid,
      items: Type.Array(StockLine, { maxItems: 100 }),
      reason: Type.Union([Type.Literal('payment_failed'), Type.Literal('payment_refunded'), Type.Literal('cancelled')]),
    },
    { additionalProperties: false },
  ),
  'order.cancel_requested': Type.Object(
    {
      order_id: Uuid,
      reason: Type.Union([Type.Literal('customer_request'), Type.Literal('deadline_exceeded')]),
    },
    { additionalProperties: false },
  ),
} as const satisfies Record<string, TSchema>;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = Static<(typeof eventSchemas)[T]>;
export type SagaEvent<T extends EventType = EventType> = { [K in T]: TypedEvent<K, EventData<K>> }[T];

/** Current version of every event's contract. A breaking change adds a new version. */
export const EVENT_VERSION = 1;

export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(eventSchemas, value);
}

/** Full envelope JSON Schemas, one per event, for outside (e.g. Python) consumers. */
export function eventJsonSchemas(): Record<EventType, TSchema> {
  const out = {} as Record<EventType, TSchema>;
  for (const type of EVENT_TYPES) out[type] = envelopeFor(type, EVENT_VERSION, eventSchemas[type]);
  return out;
}
