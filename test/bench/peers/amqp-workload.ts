import { randomUUID } from 'node:crypto';
import { newEvent, type SagaEvent } from '../../../shared/contracts/events.js';
import { consumeTimeoutMs, CONSUMER_PREFETCH, PUBLISH_WINDOW } from '../ceilings/amqp-publish-consume.js';
import { withTimeout } from '../with-timeout.js';

export { CONSUMER_PREFETCH, PUBLISH_WINDOW };

/** Rate of one client on the workload of ceiling (a). */
export interface MessagingRate {
  messages: number;
  messagesPerSecond: number;
}

/**
 * An `order.created` event as the order service publishes it. Every client in the comparison
 * sends this same body, so our consumer, which validates what it reads, gets a real event.
 */
export function orderCreatedEvent(): SagaEvent<'order.created'> {
  const orderId = randomUUID();
  return newEvent(
    'order.created', 
    {
      order_id: orderId,
      customer_id: 'bench',
      items: [{ sku: 'STICKER-PACK', quantity: 1, unit_price: '4.25' }],
      total: '4.25',
      currency: 'USD',
      payment_source: 'tok_visa',
      shipping_address: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postal_code: '127', country: 'US' },
    },
    { correlationId: orderId },
  );
}

/**
 * Drives one client over the workload: `publish` is called `messages` times with at most
 * `PUBLISH_WINDOW` unconfirmed (it resolves on the broker's confirm); `consumed` resolves once the
 * client's consumer has acked them all. The rate is messages over the time from the first publish
 * to the last ack, as in the ceiling. Every wait is bounded.
 */
export async function driveWorkload(messages: number, publish: () => Promise<void>, consumed: Promise<void>): Promise<MessagingRate> {
  const timeoutMs = consumeTimeoutMs(messages);
  // Read by the last wait below; this keeps a rejection that comes while still publishing from counting as unhandled.
  consumed.catch(() => undefined);
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < messages && !failure; i += 1) {
    if (inFlight.size >= PUBLISH_WINDOW) await withTimeout(Promise.race(inFlight), timeoutMs, 'a publisher confirm');
    const confirmed: Promise<void> = publish()
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(confirmed));
    inFlight.add(confirmed);
  }
  await withTimeout(Promise.all(inFlight), timeoutMs, 'the last publisher confirms');
  if (failure) throw failure.error;
  await withTimeout(consumed, timeoutMs, `${messages} messages consumed`);
  return { messages, messagesPerSecond: Math.round((messages * 1000) / (performance.now() - start)) };
}

/** A promise that resolves on the `total`-th call of the returned `count`. */
export function countdown(total: number): { count: () => void; done: Promise<void> } {
  let seen = 0;
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    count: () => {
      seen += 1;
      if (seen === total) resolve();
    },
    done,
  };
}
