import { Type } from '@sinclair/typebox';
import { CurrencyCode, DecimalAmount } from '../../../../shared/contracts/money.js';

/** Body of POST /payments/create: the Python adapter's contract, plus an optional order_id. */
export const CreatePaymentBody = Type.Object(
  {
    amount: DecimalAmount,
    currency: CurrencyCode,
    source: Type.String({ minLength: 1, maxLength: 100 }),
    customer: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    order_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const CreateRefundBody = Type.Object(
  {
    payment: Type.String({ minLength: 1, maxLength: 100 }),
    amount: Type.Optional(DecimalAmount),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
