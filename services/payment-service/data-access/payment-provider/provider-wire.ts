import { Type, type Static } from '@sinclair/typebox';
import { CurrencyCode, DecimalAmount, normaliseAmount } from '../../../../shared/contracts/money.js';
import { compileValidator } from '../../../../shared/contracts/validator.js';
import { PaymentOutcomeUnknownError, PaymentProviderUnavailableError } from './payment-errors.js';
import type { PaymentResponse, RefundResponse } from './payment-service.js';

// What the provider answers, checked before use: nothing read off the wire is trusted as typed.
// Extra fields are allowed so that the provider may grow its objects.
const Timestamp = Type.String({ format: 'date-time' });
const ProviderPayment = Type.Object({
  id: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  amount: DecimalAmount,
  currency: CurrencyCode,
  created: Timestamp,
  order_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  amount_refunded: Type.Optional(DecimalAmount),
});
const ProviderRefund = Type.Object({
  id: Type.String({ minLength: 1 }),
  payment: Type.String({ minLength: 1 }),
  amount: DecimalAmount,
  currency: CurrencyCode,
  status: Type.String(),
  created: Timestamp,
});
const ProviderList = Type.Object({ data: Type.Array(ProviderPayment), has_more: Type.Optional(Type.Boolean()) });
const ProviderRefundList = Type.Object({ data: Type.Array(ProviderRefund), has_more: Type.Optional(Type.Boolean()) });
export const checkPayment = compileValidator(ProviderPayment);
export const checkRefund = compileValidator(ProviderRefund);
export const checkList = compileValidator(ProviderList);
export const checkRefundList = compileValidator(ProviderRefundList);

/** Checks a 2xx body; an unreadable one after a write is an unknown outcome (it may have committed). */
export function readBody<T>(data: unknown, check: (value: unknown) => { ok: true; value: T } | { ok: false }, what: string, isWrite = true): T {
  const result = check(data);
  if (result.ok) return result.value;
  const message = `the provider answered with an unreadable ${what}`;
  throw isWrite ? new PaymentOutcomeUnknownError(message) : new PaymentProviderUnavailableError(message);
}

export function toPayment(p: Static<typeof ProviderPayment>): PaymentResponse {
  return {
    paymentId: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    createdAt: new Date(p.created),
    amountRefunded: p.amount_refunded ?? normaliseAmount('0', p.currency),
    ...(p.order_id ? { orderId: p.order_id } : {}),
  };
}

export function toRefund(refund: Static<typeof ProviderRefund>): RefundResponse {
  return {
    refundId: refund.id,
    paymentId: refund.payment,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    createdAt: new Date(refund.created),
  };
}
