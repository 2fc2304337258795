import { describe, expect, it } from 'vitest';
import { nextPaymentStep, type PaymentState, type PaymentStep, type PaymentTrigger } from './payment-status.js';

const states = {
  'there is no payment row': null,
  'the row is charging': { status: 'charging', cancel_requested: false, payment_id: null, refund_reason: null },
  'the row is charging with a cancel requested': {
    status: 'charging',
    cancel_requested: true,
    payment_id: null,
    refund_reason: 'cancelled',
  },
  'the row is charged': { status: 'charged', cancel_requested: false, payment_id: 'pay_1', refund_reason: null },
  'the row is charged with a cancel requested': {
    status: 'charged',
    cancel_requested: true,
    payment_id: 'pay_1',
    refund_reason: 'cancelled',
  },
  'the row is failed': { status: 'failed', cancel_requested: false, payment_id: null, refund_reason: null },
  'the row is refunding': { status: 'refunding', cancel_requested: false, payment_id: 'pay_1', refund_reason: 'cancelled' },
  'the row is refunded': { status: 'refunded', cancel_requested: false, payment_id: 'pay_1', refund_reason: 'cancelled' },
  'the row is cancelled': { status: 'cancelled', cancel_requested: false, payment_id: null, refund_reason: 'cancelled' },
} satisfies Record<string, PaymentState | null>;

const succeeded = { kind: 'succeeded', paymentId: 'pay_2', amount: '19.99' } as const;
const failed = { kind: 'failed', reason: 'card_declined', message: 'declined' } as const;

// The cancel's and the refund's own reason is shipping_failed, so that a recorded 'cancelled' shows where it wins.
const triggers = {
  'inventory.reserved arrives': { kind: 'charge' },
  'a compensation asks for a refund': { kind: 'cancel', reason: 'shipping_failed' },
  'the charge succeeds': { kind: 'charge_outcome', outcome: succeeded },
  'the charge fails': { kind: 'charge_outcome', outcome: failed },
  'the provider holds the charge in doubt': { kind: 'charge_in_doubt_settled', charge: { paymentId: 'pay_2' } },
  'the provider holds no charge': { kind: 'charge_in_doubt_settled', charge: null },
  'a refund is due': { kind: 'refund_due', fallbackReason: 'shipping_failed' },
  'the refund is answered': { kind: 'refund_outcome' },
} satisfies Record<string, PaymentTrigger>;

type StateName = keyof typeof states;
type TriggerName = keyof typeof triggers;

const start = { kind: 'start_charge' } as const;
const chargeAgain = { kind: 'charge' } as const;
const refund = { kind: 'refund' } as const;
const handled = { kind: 'record_handled' } as const;
const noPaymentId = { kind: 'missing_payment_id' } as const;
const refundLanded = { kind: 'refund_charge', paymentId: 'pay_2' } as const;
const closeCancelled = { kind: 'close_cancelled' } as const;
const recordRefunded = { kind: 'record_refunded' } as const;

/** Every state × every trigger: the compiler rejects a missing cell. */
const table: Record<StateName, Record<TriggerName, PaymentStep>> = {
  'there is no payment row': {
    'inventory.reserved arrives': start,
    'a compensation asks for a refund': { kind: 'leave_tombstone', reason: 'shipping_failed' },
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': noPaymentId,
    'the refund is answered': handled,
  },
  'the row is charging': {
    'inventory.reserved arrives': chargeAgain,
    'a compensation asks for a refund': { kind: 'settle_charge_in_doubt', refundReason: 'shipping_failed' },
    'the charge succeeds': { kind: 'record_charged', outcome: succeeded },
    'the charge fails': { kind: 'record_charge_failed', outcome: failed },
    'the provider holds the charge in doubt': refundLanded,
    'the provider holds no charge': closeCancelled,
    'a refund is due': noPaymentId,
    'the refund is answered': handled,
  },
  'the row is charging with a cancel requested': {
    'inventory.reserved arrives': chargeAgain,
    'a compensation asks for a refund': { kind: 'settle_charge_in_doubt', refundReason: 'cancelled' },
    'the charge succeeds': refundLanded,
    'the charge fails': { kind: 'record_charge_failed', outcome: failed },
    'the provider holds the charge in doubt': refundLanded,
    'the provider holds no charge': closeCancelled,
    'a refund is due': noPaymentId,
    'the refund is answered': handled,
  },
  'the row is charged': {
    'inventory.reserved arrives': handled,
    'a compensation asks for a refund': { kind: 'mark_refunding', reason: 'shipping_failed' },
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': { kind: 'send_refund', paymentId: 'pay_1', reason: 'shipping_failed' },
    'the refund is answered': handled,
  },
  'the row is charged with a cancel requested': {
    'inventory.reserved arrives': refund,
    'a compensation asks for a refund': { kind: 'mark_refunding', reason: 'shipping_failed' },
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': { kind: 'send_refund', paymentId: 'pay_1', reason: 'cancelled' },
    'the refund is answered': handled,
  },
  'the row is failed': {
    'inventory.reserved arrives': handled,
    'a compensation asks for a refund': handled,
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': noPaymentId,
    'the refund is answered': handled,
  },
  'the row is refunding': {
    'inventory.reserved arrives': refund,
    'a compensation asks for a refund': refund,
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': refund,
    'the provider holds no charge': refund,
    'a refund is due': { kind: 'send_refund', paymentId: 'pay_1', reason: 'cancelled' },
    'the refund is answered': recordRefunded,
  },
  'the row is refunded': {
    'inventory.reserved arrives': handled,
    'a compensation asks for a refund': handled,
    'the charge succeeds': handled,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': { kind: 'send_refund', paymentId: 'pay_1', reason: 'cancelled' },
    'the refund is answered': handled,
  },
  'the row is cancelled': {
    'inventory.reserved arrives': handled,
    'a compensation asks for a refund': handled,
    'the charge succeeds': refundLanded,
    'the charge fails': handled,
    'the provider holds the charge in doubt': handled,
    'the provider holds no charge': handled,
    'a refund is due': noPaymentId,
    'the refund is answered': handled,
  },
};

const outcomes: Record<PaymentStep['kind'], string> = {
  start_charge: 'a charging row is inserted and charged',
  charge: 'it charges again with the same key',
  refund: 'the refund is sent',
  mark_refunding: 'the row is marked refunding with the reason and refunded',
  refund_charge: 'the landed charge is marked refunding and refunded',
  settle_charge_in_doubt: 'cancel_requested is set and the provider is asked',
  close_cancelled: 'the row is closed cancelled',
  record_charged: 'the row is charged and payment.succeeded emitted',
  record_charge_failed: 'the row is failed and payment.failed emitted',
  send_refund: 'the refund request is sent',
  missing_payment_id: 'there is no payment id to refund',
  record_refunded: 'the row is refunded and payment.refunded emitted',
  leave_tombstone: 'a cancelled tombstone is left',
  record_handled: 'the event is only recorded handled',
};

const rows = Object.entries(table).flatMap(([state, byTrigger]) =>
  Object.entries(byTrigger).map(([trigger, expected]) => ({ state: state as StateName, trigger: trigger as TriggerName, expected })),
);

describe('payment state machine', () => {
  for (const { state, trigger, expected } of rows) {
    it(`when ${state} and ${trigger}, then ${outcomes[expected.kind]}`, () => {
      expect(nextPaymentStep(states[state], triggers[trigger])).toEqual(expected);
    });
  }

  it('when the table is read, then it holds every state × every trigger', () => {
    expect(rows).toHaveLength(Object.keys(states).length * Object.keys(triggers).length);
  });
});
