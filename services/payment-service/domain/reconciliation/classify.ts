import { toMinorUnits, type Currency } from '../../../../shared/contracts/money.js';
import type { PaymentStatus } from '../../data-access/payment-repository.js';

/**
 * The kinds of disagreement between the provider's ledger and payment-service's records:
 *
 * - `charge_without_record`: the provider holds a charge that no payment row accounts for — no row
 *   for its order, a row still `charging` long after, or a second charge beside the recorded one
 *   (or no order at all);
 * - `charge_for_cancelled_order`: the provider holds an unrefunded charge of an order whose payment
 *   ended cancelled, declined, or refunding;
 * - `charge_missing_at_provider`: a row says charged, and the provider has no such succeeded payment;
 * - `amount_mismatch`: the recorded amount or currency is not the provider's;
 * - `refund_missing_at_provider`: a row says refunded, and the provider's payment is not;
 * - `refund_not_recorded`: the provider refunded a payment a row still says is charged;
 * - `over_refunded`: the provider refunded more than the row says was charged.
 */
export type DiscrepancyKind =
  | 'charge_without_record'
  | 'charge_for_cancelled_order'
  | 'charge_missing_at_provider'
  | 'amount_mismatch'
  | 'refund_missing_at_provider'
  | 'refund_not_recorded'
  | 'over_refunded';

/** A succeeded payment as the provider's ledger lists it. */
export interface LedgerCharge {
  paymentId: string;
  orderId: string | null;
  amount: string;
  currency: Currency;
  amountRefunded: string;
  createdAt: Date;
}

/** payment-service's row for an order. */
export interface PaymentRecord {
  orderId: string;
  status: PaymentStatus;
  amount: string | null;
  currency: string | null;
  paymentId: string | null;
  refundReason: string | null;
  /** Last change of the row: a saga still working on it explains a disagreement for a while. */
  updatedAt: Date;
}

/** What order-service says of the order: it is asked only where the records cannot tell. */
export type OrderState = 'unknown' | 'open' | 'completed' | 'cancelled' | 'unavailable';

/** What the reconciliation may do about a finding by itself. */
export type Healing =
  /** Refund the charge (with the saga's refund key when it is the order's charge). */
  | { kind: 'refund'; paymentId: string; reason: string }
  /** Write the charge into the order's row as `charged` (a completed order whose charge went unrecorded). */
  | { kind: 'record_charge'; paymentId: string; amount: string; currency: string }
  | { kind: 'none'; why: string };

export interface Finding {
  kind: DiscrepancyKind;
  orderId: string | null;
  paymentId: string | null;
  /** What was seen on each side, for the person who looks at it. */
  evidence: Record<string, unknown>;
  healing: Healing;
  /** Whether the order's state is needed to decide (asked of order-service, then classified again). */
  needsOrderState: boolean;
  /**
   * Whether a saga in flight may explain it (a row `charging` or `refunding`, or cancelled while
   * its late charge is being refunded): it counts only once the row has been still for the grace
   * period.
   */
  inFlightMayExplain: boolean;
}

/** Everything known about one order (or one charge without an order) for {@link classify}. */
export interface Subject {
  orderId: string | null;
  record: PaymentRecord | null;
  /** The provider's succeeded charges for the order (one, but for a duplicate). */
  charges: LedgerCharge[];
  /** Set when the row names a payment the provider does not hold (or holds as failed). */
  recordedPaymentMissing: boolean;
  orderState?: OrderState;
}

const minor = (amount: string, currency: string) => toMinorUnits(amount, currency as Currency);
const isZero = (amount: string, currency: string) => minor(amount, currency) === 0n;

const chargeEvidence = (charge: LedgerCharge) => ({
  provider_payment_id: charge.paymentId,
  provider_amount: charge.amount,
  provider_currency: charge.currency,
  provider_amount_refunded: charge.amountRefunded,
  provider_created_at: charge.createdAt.toISOString(),
});
const recordEvidence = (record: PaymentRecord | null) =>
  record
    ? {
        local_status: record.status,
        local_amount: record.amount,
        local_currency: record.currency,
        local_payment_id: record.paymentId,
        local_updated_at: record.updatedAt.toISOString(),
      }
    : { local_status: null };

/**
 * Compares one order's row with the provider's charges for it. A charge with no row at all counts
 * at once (the row is written before the provider is called); see {@link Finding.inFlightMayExplain}
 * for those that wait.
 */
export function classify(subject: Subject): Finding[] {
  const { record, charges, orderId } = subject;
  const findings: Finding[] = [];
  let inFlightMayExplain = false;
  const finding = (kind: DiscrepancyKind, charge: LedgerCharge | null, healing: Healing, needsOrderState = false, extra = {}) =>
    findings.push({
      kind,
      orderId,
      paymentId: charge?.paymentId ?? record?.paymentId ?? null,
      evidence: { ...recordEvidence(record), ...(charge ? chargeEvidence(charge) : {}), ...extra },
      healing,
      needsOrderState,
      inFlightMayExplain,
    });
  const unrefunded = (charge: LedgerCharge) => isZero(charge.amountRefunded, charge.currency);
  // A charge given back in full is no longer anyone's money to account for.
  const standing = (charge: LedgerCharge) => minor(charge.amountRefunded, charge.currency) < minor(charge.amount, charge.currency);

  if (!record) {
    for (const charge of charges.filter(standing)) finding('charge_without_record', charge, ...orphanHealing(charge, subject.orderState, 'no payment row for the order'));
    return findings;
  }

  const recorded = charges.find((charge) => charge.paymentId === record.paymentId);
  const others = charges.filter((charge) => charge !== recorded);

  switch (record.status) {
    case 'charging':
      // The charge landed and its outcome was never written: the handler is retrying, or was
      // dead-lettered. The deadline then cancels the order, and the cancellation refunds it.
      inFlightMayExplain = true;
      for (const charge of charges.filter(standing)) finding('charge_without_record', charge, ...orphanHealing(charge, subject.orderState, 'the row is still charging'));
      return findings;
    case 'cancelled':
    case 'failed':
    case 'refunding':
      // The order's payment ended (or is ending) without the charge standing: a late charge is
      // refunded by the handler that finds the row cancelled, a refunding row by its refund step.
      inFlightMayExplain = true;
      for (const charge of charges.filter(unrefunded)) {
        finding('charge_for_cancelled_order', charge, { kind: 'refund', paymentId: charge.paymentId, reason: record.refundReason ?? 'cancelled' });
      }
      return findings;
    case 'charged':
    case 'refunded':
      break;
  }

  if (subject.recordedPaymentMissing || !recorded) {
    finding('charge_missing_at_provider', null, { kind: 'none', why: 'nothing at the provider to record or refund: a person must find where the money is' });
  } else {
    if (record.amount === null || record.currency !== recorded.currency || minor(record.amount, recorded.currency) !== minor(recorded.amount, recorded.currency)) {
      finding('amount_mismatch', recorded, { kind: 'none', why: 'which amount is right is a person\'s call' });
    }
    const refunded = minor(recorded.amountRefunded, recorded.currency);
    if (record.amount !== null && record.currency === recorded.currency && refunded > minor(record.amount, recorded.currency)) {
      finding('over_refunded', recorded, { kind: 'none', why: 'money went back beyond the charge' });
    }
    if (record.status === 'refunded' && refunded === 0n) {
      finding('refund_missing_at_provider', recorded, { kind: 'refund', paymentId: recorded.paymentId, reason: record.refundReason ?? 'cancelled' });
    } else if (record.status === 'charged' && refunded > 0n) {
      finding('refund_not_recorded', recorded, { kind: 'none', why: 'refunded at the provider outside the saga: the order was delivered and paid back' });
    }
  }
  // A second charge beside the recorded one: never the saga's (one key per order).
  for (const charge of others.filter(standing)) finding('charge_without_record', charge, ...orphanHealing(charge, subject.orderState, 'a second charge beside the recorded one', record.status));
  return findings;
}

/**
 * A charge nothing accounts for: refunded if its order is unknown or cancelled; recorded if its
 * order completed and no other charge is recorded for it; left to a person otherwise (the order is
 * still running, or order-service could not be asked).
 */
function orphanHealing(
  charge: LedgerCharge,
  orderState: OrderState | undefined,
  why: string,
  recordedStatus?: PaymentStatus,
): [Healing, boolean, Record<string, unknown>] {
  const extra = { why_orphan: why, order_state: orderState ?? null };
  if (charge.orderId === null) return [{ kind: 'refund', paymentId: charge.paymentId, reason: 'orphan' }, false, extra];
  if (orderState === undefined) return [{ kind: 'none', why: 'order state not known yet' }, true, extra];
  switch (orderState) {
    case 'unknown':
    case 'cancelled':
      return [{ kind: 'refund', paymentId: charge.paymentId, reason: 'cancelled' }, false, extra];
    case 'completed':
      if (recordedStatus === undefined || recordedStatus === 'charging') {
        return [{ kind: 'record_charge', paymentId: charge.paymentId, amount: charge.amount, currency: charge.currency }, false, extra];
      }
      return [{ kind: 'none', why: 'the completed order has its charge recorded already: a person decides on the second' }, false, extra];
    case 'open':
      return [{ kind: 'none', why: 'the order is still running: looked at again by the next run' }, false, extra];
    case 'unavailable':
      return [{ kind: 'none', why: 'order-service could not be asked: looked at again by the next run' }, false, extra];
  }
}
