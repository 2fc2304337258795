import { Type } from '@sinclair/typebox';
import { CurrencyCode, DecimalAmount } from './money.js';
import { CustomerId, PaymentSource, ShippingAddress, Sku, Uuid } from './common-schemas.js';

const Quantity = Type.Integer({ minimum: 1, maximum: 1000 });
const StockLine = Type.Object({ sku: Sku, quantity: Quantity }, { additionalProperties: false });
const PricedLine = Type.Object(
  { sku: Sku, quantity: Quantity, unit_price: DecimalAmount },
  { additionalProperties: false },
);

/*
 * The data schema of every saga event. Events carry forward what the next participant needs, so no
 * service reads another's tables. Who publishes and who subscribes is declared in saga.ts.
 */

/** Data of `order.created`. */
export const OrderCreated = Type.Object(
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
);

/** Data of `inventory.reserved`. */
export const InventoryReserved = Type.Object(
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
);

/** Data of `inventory.rejected`. */
export const InventoryRejected = Type.Object(
  {
    order_id: Uuid,
    reason: Type.Union([Type.Literal('out_of_stock'), Type.Literal('unknown_sku'), Type.Literal('cancelled')]),
    skus: Type.Array(Sku, { maxItems: 100 }),
  },
  { additionalProperties: false },
);

/** Data of `payment.succeeded`. */
export const PaymentSucceeded = Type.Object(
  {
    order_id: Uuid,
    payment_id: Type.String({ minLength: 1, maxLength: 100 }),
    amount: DecimalAmount,
    currency: CurrencyCode,
    shipping_address: ShippingAddress,
    items: Type.Array(StockLine, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

/** Data of `payment.failed`. */
export const PaymentFailed = Type.Object(
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
);

/** Data of `shipping.scheduled`. */
export const ShippingScheduled = Type.Object(
  {
    order_id: Uuid,
    shipment_id: Uuid,
    carrier: Type.String({ minLength: 1, maxLength: 50 }),
    tracking_number: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);

/** Data of `shipping.failed`. */
export const ShippingFailed = Type.Object(
  {
    order_id: Uuid,
    reason: Type.Union([Type.Literal('unserviceable_destination'), Type.Literal('cancelled')]),
    message: Type.String({ maxLength: 500 }),
  },
  { additionalProperties: false },
);

/** Data of `payment.refunded`. */
export const PaymentRefunded = Type.Object(
  {
    order_id: Uuid,
    payment_id: Type.String({ minLength: 1, maxLength: 100 }),
    refund_id: Type.String({ minLength: 1, maxLength: 100 }),
    amount: DecimalAmount,
    currency: CurrencyCode,
    reason: Type.Union([Type.Literal('shipping_failed'), Type.Literal('cancelled')]),
  },
  { additionalProperties: false },
);

/** Data of `inventory.released`. */
export const InventoryReleased = Type.Object(
  {
    order_id: Uuid,
    items: Type.Array(StockLine, { maxItems: 100 }),
    reason: Type.Union([Type.Literal('payment_failed'), Type.Literal('payment_refunded'), Type.Literal('cancelled')]),
  },
  { additionalProperties: false },
);

/** Data of `order.cancel_requested`. */
export const OrderCancelRequested = Type.Object(
  {
    order_id: Uuid,
    reason: Type.Union([Type.Literal('customer_request'), Type.Literal('deadline_exceeded')]),
  },
  { additionalProperties: false },
);
