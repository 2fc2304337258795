import { describe, expect, it } from 'vitest';
import { topologyNames } from '../messaging/topology-names.js';
import { replayQueueOf } from './replay-queue.js';

const names = topologyNames('t_');

function letter(service: string, eventType: string | null, headers: Record<string, unknown> = {}) {
  return { service, event_type: eventType, properties: { headers } };
}

describe('where a dead letter is replayed to', () => {
  it('when the consumer recorded the compensation lane as its queue, then the letter goes back to the compensation lane', () => {
    expect(replayQueueOf(names, letter('payment-service', 'shipping.failed', { 'x-original-queue': 't_payment-service.compensation' }))).toBe(
      't_payment-service.compensation',
    );
  });

  it('when the consumer recorded the step lane, then the letter goes back there, even for a compensation dead-lettered before lanes existed', () => {
    expect(replayQueueOf(names, letter('payment-service', 'inventory.reserved', { 'x-original-queue': 't_payment-service' }))).toBe('t_payment-service');
    expect(replayQueueOf(names, letter('payment-service', 'order.cancel_requested', { 'x-original-queue': 't_payment-service' }))).toBe('t_payment-service');
  });

  it('when the broker dead-lettered it at the delivery limit, then its x-death record names the lane, delay queues skipped', () => {
    const deaths = [
      { queue: 't_inventory-service.compensation', reason: 'delivery_limit', count: 1 },
      { queue: 't_inventory-service.compensation.delay.1', reason: 'expired', count: 1 },
    ];
    expect(replayQueueOf(names, letter('inventory-service', 'payment.failed', { 'x-death': [...deaths].reverse() }))).toBe('t_inventory-service.compensation');
  });

  it('when no header names a queue, then the saga\'s role for the event decides, and an unknown event goes to the step lane', () => {
    expect(replayQueueOf(names, letter('shipping-service', 'order.cancel_requested'))).toBe('t_shipping-service.compensation');
    expect(replayQueueOf(names, letter('shipping-service', 'payment.succeeded'))).toBe('t_shipping-service');
    expect(replayQueueOf(names, letter('shipping-service', null))).toBe('t_shipping-service');
    expect(replayQueueOf(names, letter('shipping-service', 'no.such_event'))).toBe('t_shipping-service');
  });

  it('when a header names a queue that is not one of the service\'s lanes, then it is ignored', () => {
    expect(replayQueueOf(names, letter('shipping-service', 'order.cancel_requested', { 'x-original-queue': 't_payment-service' }))).toBe(
      't_shipping-service.compensation',
    );
    expect(replayQueueOf(names, letter('shipping-service', 'payment.succeeded', { 'x-original-queue': 'amq.rabbitmq.reply-to' }))).toBe('t_shipping-service');
  });
});
