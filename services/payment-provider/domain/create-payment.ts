import { randomBytes } from 'node:crypto';
import type { PoolClient } from '../../../shared/db/pool.js';
import { insertPayment } from '../data-access/ledger-repository.js';
import { cardOutcome } from './card-outcomes.js';
import { paymentObject, providerError, type ProviderResponse } from './provider-response.js';

export interface CreatePayment {
  amount: string;
  currency: string;
  source: string;
  customer: string;
  description: string | null;
  order_id: string | null;
}

/**
 * Charges a test card: the token decides. A decline is recorded in the ledger as a failed payment
 * and answered 402, as Stripe does.
 */
export async function createPayment(client: PoolClient, request: CreatePayment): Promise<ProviderResponse> {
  const outcome = cardOutcome(request.source);
  if (!outcome) return providerError(400, 'invalid_request_error', 'token_invalid', 'Unknown card token.', { param: 'source' });
  const row = await insertPayment(client, {
    id: `pay_${randomBytes(12).toString('hex')}`,
    customer: request.customer,
    order_id: request.order_id,
    amount: request.amount,
    currency: request.currency,
    status: outcome.kind === 'succeeds' ? 'succeeded' : 'failed',
    failure_code: outcome.kind === 'declined' ? outcome.code : null,
    description: request.description,
    source_brand: outcome.brand,
  });
  if (outcome.kind === 'declined') {
    return providerError(402, 'card_error', outcome.code, outcome.message, { payment_id: row.id });
  }
  return { status: 200, body: paymentObject(row) };
}
