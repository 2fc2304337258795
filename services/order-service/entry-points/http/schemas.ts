import { Type, type Static } from '@sinclair/typebox';
import { CustomerId, PaymentSource, ShippingAddress, Sku, Uuid } from '../../../../shared/contracts/common-schemas.js';
import { CurrencyCode, DecimalAmount } from '../../../../shared/contracts/money.js';

/** Bounds that keep one order reasonable. */
export const MAX_LINES = 50;
export const MAX_QUANTITY = 100;

export const CreateOrderRequest = Type.Object(
  {
    items: Type.Array(
      Type.Object({ sku: Sku, quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: MAX_LINES },
    ),
    currency: CurrencyCode,
    payment_source: PaymentSource,
    shipping_address: ShippingAddress,
  },
  { additionalProperties: false },
);
export type CreateOrderRequest = Static<typeof CreateOrderRequest>;

export const OrderStatusSchema = Type.Union(
  ['pending', 'reserved', 'paid', 'compensating', 'completed', 'cancelled'].map((s) => Type.Literal(s)),
);

export const OrderResponse = Type.Object({
  id: Uuid,
  customer_id: CustomerId,
  status: OrderStatusSchema,
  cancellation_reason: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(Type.Object({ sku: Sku, quantity: Type.Integer(), unit_price: DecimalAmount, line_total: DecimalAmount })),
  total: DecimalAmount,
  currency: CurrencyCode,
  shipping_address: ShippingAddress,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  history: Type.Array(
    Type.Object({
      event_id: Uuid,
      type: Type.String(),
      occurred_at: Type.String({ format: 'date-time' }),
      recorded_at: Type.String({ format: 'date-time' }),
      detail: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
});
export type OrderResponse = Static<typeof OrderResponse>;

export const ListOrdersQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const CustomerHeader = CustomerId;
