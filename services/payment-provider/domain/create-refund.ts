import { randomBytes } from 'node:crypto';
import { fromMinorUnits, toMinorUnits, type Currency } from '../../../shared/contracts/money.js';
import type { PoolClient } from '../../../shared/db/pool.js';
import { insertRefund, lockPayment } from '../data-access/ledger-repository.js';
import { providerError, refundObject, type ProviderResponse } from './provider-response.js';

export interface CreateRefund {
  payment: string;
  amount?: string;
  reason?: string;
}

/**
 * Refunds all or part of what remains of a succeeded payment. The payment row is locked, so
 * concurrent refunds cannot together exceed it.
 */
export async function createRefund(client: PoolClient, request: CreateRefund): Promise<ProviderResponse> {
  const payment = await lockPayment(client, request.payment);
  if (!payment) return providerError(404, 'invalid_request_error', 'resource_missing', `No such payment: ${request.payment}`);
  if (payment.status !== 'succeeded') {
    return providerError(400, 'invalid_request_error', 'charge_not_refundable', 'Only succeeded payments can be refunded.');
  }
  const currency = payment.currency as Currency;
  const remaining = toMinorUnits(payment.amount, currency) - toMinorUnits(payment.amount_refunded, currency);
  if (remaining === 0n) return providerError(400, 'invalid_request_error', 'charge_already_refunded', 'The payment is fully refunded.');
  let amount: bigint;
  try {
    amount = request.amount === undefined ? remaining : toMinorUnits(request.amount, currency);
  } catch {
    return providerError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid amount.', { param: 'amount' });
  }
  if (amount <= 0n) return providerError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid amount.', { param: 'amount' });
  if (amount > remaining) {
    return providerError(400, 'invalid_request_error', 'amount_too_large', 'The refund exceeds what remains of the payment.');
  }
  const refund = await insertRefund(client, {
    id: `re_${randomBytes(12).toString('hex')}`,
    payment_id: payment.id,
    amount: fromMinorUnits(amount, currency),
    currency,
    reason: request.reason ?? null,
  });
  return { status: 200, body: refundObject(refund) };
}
