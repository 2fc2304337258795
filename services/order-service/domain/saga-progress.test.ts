import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../shared/contracts/events.js';
import type { OrderStatus } from './order-status.js';
import { eventsAhead, sagaRoleOf } from './saga-progress.js';

const HAPPY = ['order.created', 'inventory.reserved', 'payment.succeeded', 'shipping.scheduled'];

describe('eventsAhead', () => {
  const table: [when: string, status: OrderStatus, recorded: string[], ahead: string[]][] = [
    ['the order was just placed', 'pending', ['order.created'], ['inventory.reserved', 'payment.succeeded', 'shipping.scheduled']],
    ['the stock is reserved', 'reserved', ['order.created', 'inventory.reserved'], ['payment.succeeded', 'shipping.scheduled']],
    ['it is paid', 'paid', HAPPY.slice(0, 3), ['shipping.scheduled']],
    // order-service may hear of the payment before the reservation (two queues): it still waits for it.
    ['the payment is recorded before the reservation', 'paid', ['order.created', 'payment.succeeded'], ['inventory.reserved', 'shipping.scheduled']],
    ['shipping failed', 'compensating', [...HAPPY.slice(0, 3), 'shipping.failed'], ['payment.refunded', 'inventory.released']],
    ['shipping failed and the refund is recorded', 'compensating', [...HAPPY.slice(0, 3), 'shipping.failed', 'payment.refunded'], ['inventory.released']],
    ['it completed', 'completed', HAPPY, []],
    ['it was cancelled after a declined card, its stock not released yet', 'cancelled', ['order.created', 'inventory.reserved', 'payment.failed'], []],
    ['it was cancelled by request', 'cancelled', ['order.created', 'order.cancel_requested'], []],
    ['its history holds an event the saga does not declare', 'pending', ['order.created', 'legacy.event'], ['inventory.reserved', 'payment.succeeded', 'shipping.scheduled']],
  ];

  it.each(table)('when %s (%s), then the saga still expects what follows from the declaration', (_when, status, recorded, ahead) => {
    expect(eventsAhead(status, recorded).map((event) => event.event_type)).toEqual(ahead);
  });

  it('when an event is expected, then it names its publisher and role', () => {
    expect(eventsAhead('compensating', [...HAPPY.slice(0, 3), 'shipping.failed'])).toEqual([
      { event_type: 'payment.refunded', service: 'payment-service', role: 'compensation' },
      { event_type: 'inventory.released', service: 'inventory-service', role: 'compensation' },
    ]);
  });
});

describe('sagaRoleOf', () => {
  it('when every event of the saga is classified, then order.created starts it, the forward path are steps and the rest compensations', () => {
    expect(Object.fromEntries(EVENT_TYPES.map((type) => [type, sagaRoleOf(type)]))).toEqual({
      'order.created': 'start',
      'inventory.reserved': 'step',
      'inventory.rejected': 'compensation',
      'payment.succeeded': 'step',
      'payment.failed': 'compensation',
      'shipping.scheduled': 'step',
      'shipping.failed': 'compensation',
      'payment.refunded': 'compensation',
      'inventory.released': 'compensation',
      'order.cancel_requested': 'compensation',
    });
  });
});
