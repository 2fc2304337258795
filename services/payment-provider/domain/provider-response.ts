import { fromMinorUnits, toMinorUnits, type Currency } from '../../../shared/contracts/money.js';
import type { PaymentRow, RefundRow } from '../data-access/ledger-repository.js';

/** What an endpoint answers: a status and a JSON body (stored as such for idempotent replays). */
export interface ProviderResponse {
  status: number;
  body: unknown;
}

export const money = (amount: string, currency: string) => fromMinorUnits(toMinorUnits(amount, currency), currency as Currency);

export function providerError(status: number, type: string, code: string, message: string, extra: Record<string, unknown> = {}): ProviderResponse {
  return { status, body: { error: { type, code, message, ...extra } } };
}

export function paymentObject(row: PaymentRow) {
  return {
    id: row.id,
    object: 'payment',
    status: row.status,
    amount: money(row.amount, row.currency),
    currency: row.currency,
    created: row.created_at.toISOString(),
    customer: row.customer,
    description: row.description,
    order_id: row.order_id,
    amount_refunded: money(row.amount_refunded, row.currency),
    failure_code: row.failure_code,
    source: { brand: row.source_brand },
  };
}

export function refundObject(row: RefundRow) {
  return {
    id: row.id,
    object: 'refund',
    payment: row.payment_id,
    amount: money(row.amount, row.currency),
    currency: row.currency,
    status: 'succeeded',
    reason: row.reason,
    created: row.created_at.toISOString(),
  };
}
