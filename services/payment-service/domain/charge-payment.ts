import { type SagaEvent } from '../../../shared/contracts/events.js';
import { findLocked } from '../../../shared/db/order-lock.js';
import { recordHandled } from '../../../shared/db/unit-of-work.js';
import {
  isInvalidPaymentRequestError,
  isPaymentDeclinedError,
  isPaymentOutcomeUnknownError,
} from '../data-access/payment-provider/payment-errors.js';
import { findPayment, insertPayment, updatePayment } from '../data-access/payment-repository.js';
import { chargeKey } from './idempotency-keys.js';
import { nextPaymentStep, type ChargeOutcome } from './payment-status.js';
import { settleRefund, type RefundDeps } from './refund-payment.js';

/**
 * inventory.reserved → charge the order's total. Like the refund, three steps around the provider
 * call: (1) mark the row 'charging' (or find the order already settled or cancelled); (2) charge
 * with the order's charge key; (3) record the outcome and emit payment.succeeded or payment.failed,
 * with the event's id in the inbox. An unknown outcome (timeout, 5xx) is settled by looking the
 * payment up at the provider, never by charging again under a new key. Each step's decision is
 * {@link nextPaymentStep}'s.
 */
export async function chargePayment(deps: RefundDeps, event: SagaEvent<'inventory.reserved'>): Promise<void> {
  const order = event.data;
  const orderId = order.order_id;
  const next = await deps.unitOfWork.run(async ({ client }): Promise<'charge' | 'refund' | 'done'> => {
    const row = await findLocked(client, orderId, findPayment);
    const step = nextPaymentStep(row, { kind: 'charge' });
    switch (step.kind) {
      case 'start_charge':
        await insertPayment(client, {
          order_id: orderId,
          status: 'charging',
          customer_id: order.customer_id,
          amount: order.total,
          currency: order.currency,
        });
        return 'charge';
      case 'charge':
        return 'charge';
      case 'refund':
        return 'refund';
      case 'record_handled':
        await recordHandled(client, event);
        return 'done';
    }
  }, orderId);
  if (next === 'refund') return settleRefund(deps, orderId, 'cancelled', event);
  if (next === 'done') return;

  const outcome = await charge(deps, event);
  const refundNow = await deps.unitOfWork.runOnce(event, async (tx): Promise<boolean> => {
    const row = await findLocked(tx.client, orderId, findPayment);
    const step = nextPaymentStep(row, { kind: 'charge_outcome', outcome });
    const meta = { correlationId: orderId, causationId: event.id };
    switch (step.kind) {
      case 'refund_charge':
        await updatePayment(tx.client, orderId, { status: 'refunding', payment_id: step.paymentId });
        return true;
      case 'record_handled':
        // runOnce has put the event in the inbox already.
        return false;
      case 'record_charge_failed': {
        const { reason, message } = step.outcome;
        await updatePayment(tx.client, orderId, { status: 'failed', failure_reason: reason });
        tx.emit('payment.failed', { order_id: orderId, reason, message }, meta);
        return false;
      }
      case 'record_charged':
        await updatePayment(tx.client, orderId, { status: 'charged', payment_id: step.outcome.paymentId });
        tx.emit('payment.succeeded', {
          order_id: orderId,
          payment_id: step.outcome.paymentId,
          amount: step.outcome.amount,
          currency: order.currency,
          shipping_address: order.shipping_address,
          items: order.items,
        }, meta);
        return false;
    }
  });
  if (!refundNow.duplicate && refundNow.result) await settleRefund(deps, orderId, 'cancelled', event);
}

async function charge(deps: RefundDeps, event: SagaEvent<'inventory.reserved'>): Promise<ChargeOutcome> {
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
    return { kind: 'succeeded', paymentId: payment.paymentId, amount: payment.amount };
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
    return { kind: 'succeeded', paymentId: found.paymentId, amount: found.amount };
  }
}
