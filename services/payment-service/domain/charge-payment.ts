import { type EventData, type SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import { recordHandled } from '../../../shared/db/unit-of-work.js';
import {
  isInvalidPaymentRequestError,
  isPaymentDeclinedError,
  isPaymentOutcomeUnknownError,
} from '../data-access/payment-provider/payment-errors.js';
import type { PaymentResponse } from '../data-access/payment-provider/payment-service.js';
import { findPayment, insertPayment, updatePayment } from '../data-access/payment-repository.js';
import { chargeKey } from './idempotency-keys.js';
import { settleRefund, type RefundDeps } from './refund-payment.js';

type Outcome =
  | { kind: 'succeeded'; payment: PaymentResponse }
  | { kind: 'failed'; reason: EventData<'payment.failed'>['reason']; message: string };

/**
 * inventory.reserved → charge the order's total. Like the refund, three steps around the provider
 * call: (1) mark the row 'charging' (or find the order already settled or cancelled); (2) charge
 * with the order's charge key; (3) record the outcome and emit payment.succeeded or payment.failed,
 * with the event's id in the inbox. An unknown outcome (timeout, 5xx) is settled by looking the
 * payment up at the provider, never by charging again under a new key.
 */
export async function chargePayment(deps: RefundDeps, event: SagaEvent<'inventory.reserved'>): Promise<void> {
  const order = event.data;
  const orderId = order.order_id;
  const next = await deps.unitOfWork.run(async ({ client }) => {
    const row = await findLocked(client, orderId, findPayment);
    if (!row) {
      await insertPayment(client, {
        order_id: orderId,
        status: 'charging',
        customer_id: order.customer_id,
        amount: order.total,
        currency: order.currency,
      });
      return 'charge';
    }
    if (row.status === 'charging') return 'charge';
    if (row.status === 'charged' && row.cancel_requested) return 'refund';
    if (row.status === 'refunding') return 'refund';
    await recordHandled(client, event);
    return 'done';
  });
  if (next === 'refund') return settleRefund(deps, orderId, 'cancelled', event);
  if (next === 'done') return;

  const outcome = await charge(deps, event);
  const refundNow = await deps.unitOfWork.runOnce(event, async (tx) => {
    const row = await findLocked(tx.client, orderId, findPayment);
    if (row?.status === 'cancelled' && outcome.kind === 'succeeded') {
      // Cancelled and closed while this charge was in flight, and the charge landed: give it back.
      await updatePayment(tx.client, orderId, { status: 'refunding', payment_id: outcome.payment.paymentId });
      return true;
    }
    if (row?.status !== 'charging') return false;
    const meta = { correlationId: orderId, causationId: event.id };
    if (outcome.kind === 'failed') {
      await updatePayment(tx.client, orderId, { status: 'failed', failure_reason: outcome.reason });
      tx.emit('payment.failed', { order_id: orderId, reason: outcome.reason, message: outcome.message }, meta);
      return false;
    }
    if (row.cancel_requested) {
      // Cancelled while the charge was in flight: refund instead of moving the saga forward.
      await updatePayment(tx.client, orderId, { status: 'refunding', payment_id: outcome.payment.paymentId });
      return true;
    }
    await updatePayment(tx.client, orderId, { status: 'charged', payment_id: outcome.payment.paymentId });
    tx.emit('payment.succeeded', {
      order_id: orderId,
      payment_id: outcome.payment.paymentId,
      amount: outcome.payment.amount,
      currency: order.currency,
      shipping_address: order.shipping_address,
      items: order.items,
    }, meta);
    return false;
  });
  if (!refundNow.duplicate && refundNow.result) await settleRefund(deps, orderId, 'cancelled', event);
}

async function charge(deps: RefundDeps, event: SagaEvent<'inventory.reserved'>): Promise<Outcome> {
  const order = event.data;
  try {
    const payment = await deps.payments.processPayment(
      {
        amount: order.total,
        currency: order.currency,
        cardToken: order.payment_source,
        customerId: order.customer_id,
        description: `order ${order.order_id}`,
        orderId: order.order_id,
      },
      { idempotencyKey: chargeKey(order.order_id) },
    );
    return { kind: 'succeeded', payment };
  } catch (error) {
    if (isPaymentDeclinedError(error)) {
      const reason = error.declineCode === 'insufficient_funds' ? 'insufficient_funds' : 'card_declined';
      return { kind: 'failed', reason, message: error.message };
    }
    if (isInvalidPaymentRequestError(error)) return { kind: 'failed', reason: 'invalid_request', message: error.message };
    if (!isPaymentOutcomeUnknownError(error)) throw error;
    deps.logger.warn('charge outcome unknown; looking the payment up', { error });
    const found = (await deps.payments.findPaymentsByOrder(order.order_id)).find((p) => p.status === 'succeeded');
    // Not found: the charge did not happen (yet). Throwing retries the whole step later with the
    // same key, which the provider answers from its idempotency record if the charge lands late.
    if (!found) throw error;
    return { kind: 'succeeded', payment: found };
  }
}
