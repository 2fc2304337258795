import type { EventData } from '../../../shared/contracts/events.js';
import type { PaymentStatus } from '../data-access/payment-repository.js';

export type RefundReason = EventData<'payment.refunded'>['reason'];
export type ChargeFailureReason = EventData<'payment.failed'>['reason'];

/** The fields of the order's payment row that decide its next step. */
export interface PaymentState {
  status: PaymentStatus;
  /** A cancellation arrived while the charge's outcome was unknown. */
  cancel_requested: boolean;
  payment_id: string | null;
  /** Fixed by the first compensation that asked; a {@link RefundReason}. */
  refund_reason: string | null;
}

/** The provider's answer to the charge. */
export interface ChargeSucceeded {
  kind: 'succeeded';
  paymentId: string;
  /** Decimal string, as charged. */
  amount: string;
}

/** The provider refused the charge: it will not happen under this key. */
export interface ChargeFailed {
  kind: 'failed';
  reason: ChargeFailureReason;
  message: string;
}

export type ChargeOutcome = ChargeSucceeded | ChargeFailed;

/** What happened to the order's payment. */
export type PaymentTrigger =
  /** inventory.reserved arrived: the order is to be charged. */
  | { kind: 'charge' }
  /** order.cancel_requested or shipping.failed: whatever was charged is to be given back. */
  | { kind: 'cancel'; reason: RefundReason }
  /** The provider answered the charge (an unknown outcome never gets here: it is retried). */
  | { kind: 'charge_outcome'; outcome: ChargeOutcome }
  /** A cancellation found the charge in doubt and asked the provider; `charge` is what it holds. */
  | { kind: 'charge_in_doubt_settled'; charge: { paymentId: string } | null }
  /** A refund is about to be sent; `fallbackReason` is the caller's, used if none was recorded. */
  | { kind: 'refund_due'; fallbackReason: RefundReason }
  /** The provider answered the refund. */
  | { kind: 'refund_outcome' };

/** What to do next, in the transaction that read the row and, after it, at the provider. */
export type PaymentStep =
  /** No row yet: insert one 'charging', then charge. */
  | { kind: 'start_charge' }
  /** A charge of unknown outcome: charge again with the same key, which cannot charge twice. */
  | { kind: 'charge' }
  /** The row is due a refund already (refunding, or charged after a cancel): send it. */
  | { kind: 'refund' }
  /** A charged row: mark it 'refunding' with the reason, then refund. */
  | { kind: 'mark_refunding'; reason: RefundReason }
  /** A charge that must not stand (cancelled meanwhile) landed: mark 'refunding' with its id, then refund. */
  | { kind: 'refund_charge'; paymentId: string }
  /** Set cancel_requested and the reason, then ask the provider whether the charge happened. */
  | { kind: 'settle_charge_in_doubt'; refundReason: string }
  /** Close the row 'cancelled' (the provider holds no charge) and record the event handled. */
  | { kind: 'close_cancelled' }
  /** Mark the row 'charged' and emit payment.succeeded. */
  | { kind: 'record_charged'; outcome: ChargeSucceeded }
  /** Mark the row 'failed' and emit payment.failed. */
  | { kind: 'record_charge_failed'; outcome: ChargeFailed }
  /** Send the refund: the very request (reason, key) of any earlier attempt. */
  | { kind: 'send_refund'; paymentId: string; reason: RefundReason }
  /** A refund is due but nothing was charged to refund: a bug, not a retryable state. */
  | { kind: 'missing_payment_id' }
  /** Mark the row 'refunded' and emit payment.refunded. */
  | { kind: 'record_refunded' }
  /** Cancelled before any charge: insert a 'cancelled' row so that a later charge does nothing. */
  | { kind: 'leave_tombstone'; reason: RefundReason }
  /** Nothing left to do (or another handler settled the row meanwhile): record the event handled. */
  | { kind: 'record_handled' };

/** The steps each trigger can lead to, so that the compiler checks every caller's switch is complete. */
interface StepsByTrigger {
  charge: 'start_charge' | 'charge' | 'refund' | 'record_handled';
  cancel: 'mark_refunding' | 'refund' | 'settle_charge_in_doubt' | 'leave_tombstone' | 'record_handled';
  charge_outcome: 'refund_charge' | 'record_charged' | 'record_charge_failed' | 'record_handled';
  charge_in_doubt_settled: 'refund' | 'refund_charge' | 'close_cancelled' | 'record_handled';
  refund_due: 'send_refund' | 'missing_payment_id';
  refund_outcome: 'record_refunded' | 'record_handled';
}

type TriggerKind = PaymentTrigger['kind'];
type TriggerOf<K extends TriggerKind> = Extract<PaymentTrigger, { kind: K }>;

/** The steps a trigger of kind `K` can lead to. */
export type PaymentStepFor<K extends TriggerKind> = Extract<PaymentStep, { kind: StepsByTrigger[K] }>;

type Deciders = { [K in TriggerKind]: (row: PaymentState | null, trigger: TriggerOf<K>) => PaymentStepFor<K> };

const decide: Deciders = {
  charge: (row) => {
    if (!row) return { kind: 'start_charge' };
    if (row.status === 'charging') return { kind: 'charge' };
    if (row.status === 'refunding' || (row.status === 'charged' && row.cancel_requested)) return { kind: 'refund' };
    // Settled already (charged, failed, refunded), or cancelled: a late charge must not happen.
    return { kind: 'record_handled' };
  },

  cancel: (row, { reason }) => {
    if (!row) return { kind: 'leave_tombstone', reason };
    switch (row.status) {
      case 'charged':
        return { kind: 'mark_refunding', reason };
      case 'refunding':
        return { kind: 'refund' };
      case 'charging':
        // The first compensation's reason stays: a refund already asked for is sent again unchanged.
        return { kind: 'settle_charge_in_doubt', refundReason: row.refund_reason ?? reason };
      case 'failed':
      case 'refunded':
      case 'cancelled':
        return { kind: 'record_handled' };
    }
  },

  charge_outcome: (row, { outcome }) => {
    // Cancelled and closed while this charge was in flight, and the charge landed: give it back.
    if (row?.status === 'cancelled' && outcome.kind === 'succeeded') return { kind: 'refund_charge', paymentId: outcome.paymentId };
    // Settled by another handler meanwhile (the inbox records the event either way).
    if (row?.status !== 'charging') return { kind: 'record_handled' };
    if (outcome.kind === 'failed') return { kind: 'record_charge_failed', outcome };
    // Cancelled while the charge was in flight: refund instead of moving the saga forward.
    if (row.cancel_requested) return { kind: 'refund_charge', paymentId: outcome.paymentId };
    return { kind: 'record_charged', outcome };
  },

  charge_in_doubt_settled: (row, { charge }) => {
    // The charge handler got there first and found the cancel.
    if (row?.status === 'refunding') return { kind: 'refund' };
    // Settled by another handler meanwhile: the cancel is done with, and recorded so (an event
    // every path records in the inbox, so that a redelivery, or an audit, finds it applied).
    if (row?.status !== 'charging') return { kind: 'record_handled' };
    if (charge) return { kind: 'refund_charge', paymentId: charge.paymentId };
    // No charge: a charge that still lands later finds the row cancelled and refunds it.
    return { kind: 'close_cancelled' };
  },

  refund_due: (row, { fallbackReason }) => {
    if (!row?.payment_id) return { kind: 'missing_payment_id' };
    // The reason recorded when the row became refunding, not the caller's: a second compensation
    // must send the very same request under the same key, or the provider refuses the reused key.
    // Only this service writes refund_reason, always a RefundReason.
    const reason = (row.refund_reason as RefundReason | null) ?? fallbackReason;
    return { kind: 'send_refund', paymentId: row.payment_id, reason };
  },

  refund_outcome: (row) => (row?.status === 'refunding' ? { kind: 'record_refunded' } : { kind: 'record_handled' }),
};

/**
 * The payment's state machine: from the order's payment row (null when there is none yet) and what
 * just happened, the next step. Pure: the caller reads the row under the order's lock, applies the
 * step's row changes in that transaction and makes any provider call after it commits.
 */
export function nextPaymentStep<K extends TriggerKind>(row: PaymentState | null, trigger: TriggerOf<K>): PaymentStepFor<K> {
  return decide[trigger.kind](row, trigger);
}
