import { describe, expect, it } from 'vitest';
import { nextStatus } from './order-status.js';

describe('order state machine', () => {
  it('when the saga moves forward, then the order goes pending → reserved → paid → completed', () => {
    expect(nextStatus('pending', 'inventory.reserved', {})).toEqual({ status: 'reserved' });
    expect(nextStatus('reserved', 'payment.succeeded', {})).toEqual({ status: 'paid' });
    expect(nextStatus('paid', 'shipping.scheduled', {})).toEqual({ status: 'completed' });
  });

  it('when events arrive out of order, then a later step still wins and an earlier one does not move it back', () => {
    expect(nextStatus('pending', 'shipping.scheduled', {})).toEqual({ status: 'completed' });
    expect(nextStatus('paid', 'inventory.reserved', {})).toBeNull();
  });

  it('when a step fails, then the order is cancelled with the reason, via compensating for shipping', () => {
    expect(nextStatus('pending', 'inventory.rejected', { reason: 'out_of_stock' })).toEqual({
      status: 'cancelled',
      cancellation_reason: 'out_of_stock',
    });
    expect(nextStatus('reserved', 'payment.failed', { reason: 'card_declined' })).toEqual({
      status: 'cancelled',
      cancellation_reason: 'payment_declined',
    });
    expect(nextStatus('paid', 'shipping.failed', {})).toEqual({ status: 'compensating', cancellation_reason: 'shipping_failed' });
    expect(nextStatus('compensating', 'payment.refunded', { reason: 'shipping_failed' })).toEqual({
      status: 'cancelled',
      cancellation_reason: 'shipping_failed',
    });
    expect(nextStatus('compensating', 'shipping.scheduled', {})).toBeNull();
  });

  it('when an order is terminal, then no event moves it again', () => {
    for (const type of ['inventory.reserved', 'payment.succeeded', 'shipping.scheduled', 'payment.refunded'] as const) {
      expect(nextStatus('cancelled', type, {})).toBeNull();
      expect(nextStatus('completed', type, {})).toBeNull();
    }
  });
});
