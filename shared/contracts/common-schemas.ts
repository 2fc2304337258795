import { Type, type Static } from '@sinclair/typebox';

/** ISO 3166-1 alpha-2 destination address. */
export const ShippingAddress = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    postal_code: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
  },
  { additionalProperties: false },
);
export type ShippingAddress = Static<typeof ShippingAddress>;

export const Sku = Type.String({ pattern: '^[A-Z0-9][A-Z0-9-]{0,39}$', description: 'catalog SKU' });

/** A card token of the payment provider (`tok_...`). A secret: logs redact it. */
export const PaymentSource = Type.String({ pattern: '^tok_[A-Za-z0-9_]{1,64}$' });

export const CustomerId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });

export const Uuid = Type.String({ format: 'uuid' });
