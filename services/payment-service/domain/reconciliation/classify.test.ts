import { describe, expect, it } from 'vitest';
import { classify, type LedgerCharge, type PaymentRecord, type Subject } from './classify.js';

const ORDER = '0b7c3e52-9a55-4a67-8f4e-5a0f2b1c9d10';
const at = new Date('2026-12-01T10:00:00Z');

const charge = (overrides: Partial<LedgerCharge> = {}): LedgerCharge => ({
  paymentId: 'py_1',
  orderId: ORDER,
  amount: '25.00',
  currency: 'USD',
  amountRefunded: '0.00',
  createdAt: at,
  ...overrides,
});
const record = (overrides: Partial<PaymentRecord> = {}): PaymentRecord => ({
  orderId: ORDER,
  status: 'charged',
  amount: '25.0000',
  currency: 'USD',
  paymentId: 'py_1',
  refundReason: null,
  updatedAt: at,
  ...overrides,
});
const subject = (overrides: Partial<Subject>): Subject => ({ orderId: ORDER, record: null, charges: [], recordedPaymentMissing: false, ...overrides });
const kinds = (s: Subject) => classify(s).map((f) => [f.kind, f.healing.kind]);

describe('classify', () => {
  it('finds nothing where the row and the ledger agree', () => {
    expect(classify(subject({ record: record(), charges: [charge()] }))).toEqual([]);
    expect(classify(subject({ record: record({ status: 'refunded' }), charges: [charge({ amountRefunded: '25.00' })] }))).toEqual([]);
    expect(classify(subject({ record: record({ status: 'failed', paymentId: null }) }))).toEqual([]);
    expect(classify(subject({ record: record({ status: 'cancelled', paymentId: null }), charges: [charge({ amountRefunded: '25.00' })] }))).toEqual([]);
  });

  it('a charge with no row asks for the order, then refunds it (unknown, cancelled) or records it (completed)', () => {
    const orphan = subject({ charges: [charge()] });
    expect(classify(orphan)).toMatchObject([{ kind: 'charge_without_record', needsOrderState: true, inFlightMayExplain: false, healing: { kind: 'none' } }]);
    expect(kinds({ ...orphan, orderState: 'unknown' })).toEqual([['charge_without_record', 'refund']]);
    expect(kinds({ ...orphan, orderState: 'cancelled' })).toEqual([['charge_without_record', 'refund']]);
    expect(kinds({ ...orphan, orderState: 'completed' })).toEqual([['charge_without_record', 'record_charge']]);
    expect(kinds({ ...orphan, orderState: 'open' })).toEqual([['charge_without_record', 'none']]);
    expect(kinds({ ...orphan, orderState: 'unavailable' })).toEqual([['charge_without_record', 'none']]);
    // A charge that names no order is refunded without asking; one refunded in full is no longer found.
    expect(kinds(subject({ orderId: null, charges: [charge({ orderId: null })] }))).toEqual([['charge_without_record', 'refund']]);
    expect(classify(subject({ charges: [charge({ amountRefunded: '25.00' })] }))).toEqual([]);
  });

  it('an unrefunded charge of a cancelled, declined or refunding row is refunded, once its grace period is over', () => {
    for (const status of ['cancelled', 'failed', 'refunding'] as const) {
      const [finding] = classify(subject({ record: record({ status, paymentId: status === 'refunding' ? 'py_1' : null, refundReason: 'shipping_failed' }), charges: [charge()] }));
      expect(finding).toMatchObject({ kind: 'charge_for_cancelled_order', inFlightMayExplain: true, healing: { kind: 'refund', paymentId: 'py_1', reason: 'shipping_failed' } });
    }
  });

  it('a row still charging while the provider holds the charge waits for its grace period', () => {
    expect(classify(subject({ record: record({ status: 'charging', paymentId: null }), charges: [charge()], orderState: 'cancelled' }))).toMatchObject([
      { kind: 'charge_without_record', inFlightMayExplain: true, healing: { kind: 'refund' } },
    ]);
  });

  it('leaves to a person what it cannot safely decide', () => {
    expect(kinds(subject({ record: record({ paymentId: 'py_gone' }), recordedPaymentMissing: true }))).toEqual([['charge_missing_at_provider', 'none']]);
    expect(kinds(subject({ record: record({ amount: '26.0000' }), charges: [charge()] }))).toEqual([['amount_mismatch', 'none']]);
    expect(kinds(subject({ record: record({ currency: 'EUR' }), charges: [charge()] }))).toEqual([['amount_mismatch', 'none']]);
    expect(kinds(subject({ record: record(), charges: [charge({ amountRefunded: '5.00' })] }))).toEqual([['refund_not_recorded', 'none']]);
    expect(kinds(subject({ record: record({ status: 'refunded', amount: '20.0000' }), charges: [charge({ amountRefunded: '25.00' })] }))).toEqual([
      ['amount_mismatch', 'none'],
      ['over_refunded', 'none'],
    ]);
    // A second charge beside the recorded one of a completed order.
    expect(kinds(subject({ record: record(), charges: [charge(), charge({ paymentId: 'py_2' })], orderState: 'completed' }))).toEqual([['charge_without_record', 'none']]);
  });

  it('a row refunded while the provider\'s charge is not is refunded at the provider', () => {
    expect(classify(subject({ record: record({ status: 'refunded', refundReason: 'cancelled' }), charges: [charge()] }))).toMatchObject([
      { kind: 'refund_missing_at_provider', inFlightMayExplain: false, healing: { kind: 'refund', paymentId: 'py_1', reason: 'cancelled' } },
    ]);
  });
});
