import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../db/unit-of-work.js';
import type { EventHandler } from '../messaging/event-consumer.js';
import type { ServiceHandlers } from '../messaging/service-handlers.js';
import { inventoryHandlers } from '../../services/inventory-service/entry-points/messaging/inventory-handlers.js';
import { orderHandlers } from '../../services/order-service/entry-points/messaging/order-handlers.js';
import { paymentHandlers } from '../../services/payment-service/entry-points/messaging/payment-handlers.js';
import { shippingHandlers } from '../../services/shipping-service/entry-points/messaging/shipping-handlers.js';
import { EVENT_TYPES, eventVersion, isEventType, newEvent, publishedBy, saga, subscribersOf, subscriptionsOf, type EventType } from './events.js';
import { SAGA_SERVICES, type Subscription } from './saga.js';

/**
 * Compile-time checks: `tsc --noEmit` fails if any line marked @ts-expect-error compiles. The
 * function is never called; the tests below check the declaration at run time.
 */
export function typeChecks(tx: Transaction, handler: EventHandler<EventType>): void {
  const meta = { correlationId: randomUUID() };
  const orderId = randomUUID();
  tx.emit('payment.failed', { order_id: orderId, reason: 'card_declined', message: 'declined' }, meta);

  // @ts-expect-error a misspelled event type
  tx.emit('payment.succeded', { order_id: orderId }, meta);
  // @ts-expect-error a misspelled field (and the real one missing)
  tx.emit('payment.failed', { order_idd: orderId, reason: 'card_declined', message: 'declined' }, meta);
  // @ts-expect-error a field of the wrong type
  tx.emit('payment.failed', { order_id: 42, reason: 'card_declined', message: 'declined' }, meta);
  // @ts-expect-error a value the schema does not allow
  tx.emit('payment.failed', { order_id: orderId, reason: 'bored', message: 'declined' }, meta);
  // @ts-expect-error another event's data
  tx.emit('order.cancel_requested', { order_id: orderId, reason: 'card_declined', message: 'declined' }, meta);
  tx.emit('order.cancel_requested', {
    order_id: orderId,
    reason: 'customer_request',
    // @ts-expect-error a field the event does not have
    note: 'extra',
  }, meta);

  // @ts-expect-error inventory-service subscribes to payment.refunded: a map without its handler does not compile
  const missing: ServiceHandlers<'inventory-service'> = {
    'order.created': handler,
    'payment.failed': handler,
    'order.cancel_requested': handler,
  };
  const extra: ServiceHandlers<'shipping-service'> = {
    'payment.succeeded': handler,
    'order.cancel_requested': handler,
    // @ts-expect-error shipping-service does not subscribe to payment.failed
    'payment.failed': handler,
  };
  void missing;
  void extra;
}

const stub = {} as never;

describe('the saga declaration', () => {
  it('when each service builds its handler map, then its keys are exactly the events the saga says it subscribes to', () => {
    const maps = {
      'order-service': orderHandlers(stub),
      'inventory-service': inventoryHandlers(stub),
      'payment-service': paymentHandlers(stub),
      'shipping-service': shippingHandlers(stub, stub),
    };
    for (const service of SAGA_SERVICES) {
      expect(Object.keys(maps[service]).sort(), service).toEqual([...subscriptionsOf(service)].sort());
    }
  });

  it('when any event is looked up, then it has a version, a publisher that is not its own subscriber, and at least one subscriber', () => {
    for (const type of EVENT_TYPES) {
      expect(eventVersion(type)).toBeGreaterThanOrEqual(1);
      expect(subscribersOf(type).length, type).toBeGreaterThan(0);
      expect(subscribersOf(type)).not.toContain(saga[type].publisher);
    }
  });

  it('when every service lists what it publishes, then each event has exactly one publisher', () => {
    const published = SAGA_SERVICES.flatMap((service) => publishedBy(service));
    expect([...published].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('when a handler says what it emits, then each is a saga event its own service publishes', () => {
    for (const type of EVENT_TYPES) {
      for (const [service, subscription] of Object.entries(saga[type].subscribers) as [string, Subscription][]) {
        for (const emitted of subscription.emits ?? []) {
          expect(isEventType(emitted), `${type} → ${service} emits ${emitted}`).toBe(true);
          expect(saga[emitted as EventType].publisher, `${type} → ${service} emits ${emitted}`).toBe(service);
        }
      }
    }
  });

  it('when an event is created by type, then it carries the version the saga declares', () => {
    const orderId = randomUUID();
    const event = newEvent('order.cancel_requested', { order_id: orderId, reason: 'customer_request' }, { correlationId: orderId });
    expect(event).toMatchObject({ type: 'order.cancel_requested', version: saga['order.cancel_requested'].version, correlation_id: orderId });
  });
});
