import { findLocked } from '../../../shared/db/order-lock.js';
import { recordHandled, type UnitOfWork } from '../../../shared/db/unit-of-work.js';
import type { Logger } from '../../../shared/logging/logger.js';
import type { PaymentService } from '../data-access/payment-provider/payment-service.js';
import { findPayment, insertPayment, updatePayment } from '../data-access/payment-repository.js';
import { refundKey } from './idempotency-keys.js';
import { nextPaymentStep, type RefundReason } from './payment-status.js';

export type { RefundReason } from './payment-status.js';

export interface RefundDeps {
  unitOfWork: UnitOfWork;
  payments: PaymentService;
  logger: Logger;
}

/**
 * Compensation: refunds the order's charge (shipping failed, order cancelled) and emits
 * payment.refunded. Three steps, so that no transaction stays open across the provider call:
 * (1) mark the row 'refunding'; (2) refund at the provider with the order's refund key;
 * (3) mark it 'refunded' and emit. A crash between steps resumes at (2) with the same key.
 * With no charge yet, a tombstone stops a later charge; with a charge whose outcome is unknown, the
 * provider is asked (see settleChargeInDoubt). Each step's decision is {@link nextPaymentStep}'s.
 */
export async function refundPayment(
  deps: RefundDeps,
  orderId: string,
  reason: RefundReason,
  cause: { id: string; type: string },
): Promise<void> {
  const next = await deps.unitOfWork.run(async ({ client }): Promise<'refund' | 'settle_charge' | 'done'> => {
    const row = await findLocked(client, orderId, findPayment);
    const step = nextPaymentStep(row, { kind: 'cancel', reason });
    switch (step.kind) {
      case 'mark_refunding':
        await updatePayment(client, orderId, { status: 'refunding', refund_reason: step.reason });
        return 'refund';
      case 'refund':
        return 'refund';
      case 'settle_charge_in_doubt':
        await updatePayment(client, orderId, { cancel_requested: true, refund_reason: step.refundReason });
        return 'settle_charge';
      case 'leave_tombstone':
        await insertPayment(client, { order_id: orderId, status: 'cancelled', refund_reason: step.reason });
        await recordHandled(client, cause);
        return 'done';
      case 'record_handled':
        await recordHandled(client, cause);
        return 'done';
    }
  }, orderId);
  if (next === 'done') return;
  if (next === 'settle_charge' && !(await settleChargeInDoubt(deps, orderId, cause))) return;
  await settleRefund(deps, orderId, reason, cause);
}

/**
 * A cancellation found a charge whose outcome is not known yet (its handler is running, waiting for
 * a retry, or was dead-lettered). The provider is asked: a charge it holds is refunded; with none,
 * the row is closed as cancelled, and a charge that still lands later is refunded by the charging
 * handler when it finds the row cancelled. Returns true when a refund is due now.
 */
async function settleChargeInDoubt(deps: RefundDeps, orderId: string, cause: { id: string; type: string }): Promise<boolean> {
  const charged = (await deps.payments.findPaymentsByOrder(orderId)).find((p) => p.status === 'succeeded');
  return deps.unitOfWork.run(async ({ client }) => {
    const row = await findLocked(client, orderId, findPayment);
    const step = nextPaymentStep(row, {
      kind: 'charge_in_doubt_settled',
      charge: charged ? { paymentId: charged.paymentId } : null,
    });
    switch (step.kind) {
      case 'refund':
        return true;
      case 'refund_charge':
        await updatePayment(client, orderId, { status: 'refunding', payment_id: step.paymentId });
        return true;
      case 'close_cancelled':
        await updatePayment(client, orderId, { status: 'cancelled' });
        await recordHandled(client, cause);
        return false;
      case 'record_handled':
        await recordHandled(client, cause);
        return false;
    }
  }, orderId);
}

/**
 * Steps (2) and (3) of {@link refundPayment}; also used by the charge path after a late cancel.
 * The refund is sent with the reason recorded when the row became `refunding`, not the caller's
 * (see {@link nextPaymentStep}); `fallbackReason` serves only a row with none recorded.
 */
export async function settleRefund(
  deps: RefundDeps,
  orderId: string,
  fallbackReason: RefundReason,
  cause: { id: string; type: string },
): Promise<void> {
  const row = await deps.unitOfWork.run(async ({ client }) => findPayment(client, orderId), orderId);
  const request = nextPaymentStep(row, { kind: 'refund_due', fallbackReason });
  if (request.kind === 'missing_payment_id') throw new Error(`order ${orderId} is refunding without a payment id`);
  const { paymentId, reason } = request;
  const refund = await deps.payments.refundPayment({ paymentId, reason }, { idempotencyKey: refundKey(orderId) });
  await deps.unitOfWork.run(async (tx) => {
    const row = await findLocked(tx.client, orderId, findPayment);
    await recordHandled(tx.client, cause);
    const step = nextPaymentStep(row, { kind: 'refund_outcome' });
    // The event is recorded handled above, whatever the row says.
    switch (step.kind) {
      case 'record_handled':
        return;
      case 'record_refunded':
        await updatePayment(tx.client, orderId, { status: 'refunded', refund_id: refund.refundId });
        tx.emit('payment.refunded', {
          order_id: orderId,
          payment_id: paymentId,
          refund_id: refund.refundId,
          amount: refund.amount,
          currency: refund.currency,
          reason,
        }, { correlationId: orderId, causationId: cause.id });
        return;
      default:
        return step satisfies never;
    }
  }, orderId);
  deps.logger.info('payment refunded', { refund_id: refund.refundId, reason });
}
