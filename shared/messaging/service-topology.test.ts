import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { subscriptionsOf } from '../contracts/events.js';
import { SAGA_SERVICES } from '../contracts/saga.js';
import { assertConsumerTopology, assertPublishTopology, servicesFedBy } from './service-topology.js';
import { topologyNames } from './topology-names.js';

const names = topologyNames('t_');

/** A channel for tests only: records every declaration asked of it. */
function recordingChannel() {
  const queues = new Map<string, unknown>();
  const bindings: string[] = [];
  const channel = {
    assertExchange: async () => ({}),
    assertQueue: async (queue: string, options: unknown) => {
      queues.set(queue, options);
      return {};
    },
    bindQueue: async (queue: string, exchange: string, key: string) => {
      bindings.push(`${queue} <- ${exchange} ${key}`);
      return {};
    },
  } as unknown as Channel;
  return { channel, queues, bindings };
}

describe('the topology each service declares', () => {
  it('when each service is about to publish, then it declares the queues of exactly the services its events go to', () => {
    expect(servicesFedBy('order-service').sort()).toEqual(['inventory-service', 'payment-service', 'shipping-service']);
    expect(servicesFedBy('inventory-service').sort()).toEqual(['order-service', 'payment-service']);
    expect(servicesFedBy('payment-service').sort()).toEqual(['inventory-service', 'order-service', 'shipping-service']);
    expect(servicesFedBy('shipping-service').sort()).toEqual(['order-service', 'payment-service']);
  });

  it.each(SAGA_SERVICES)('when a publisher declares %s\'s queue, then it uses the arguments and bindings the service declares itself', async (subscriber) => {
    const publisherSide = recordingChannel();
    for (const publisher of SAGA_SERVICES.filter((s) => servicesFedBy(s).includes(subscriber))) {
      await assertPublishTopology(publisherSide.channel, names, publisher);
    }
    const consumerSide = recordingChannel();
    await assertConsumerTopology(consumerSide.channel, { names, service: subscriber, routingKeys: subscriptionsOf(subscriber), retryLevels: 3 });

    for (const queue of [names.queue(subscriber), names.deadLetterQueue(subscriber)]) {
      expect(publisherSide.queues.get(queue), queue).toEqual(consumerSide.queues.get(queue));
    }
    const mine = (bindings: string[]) => [...new Set(bindings.filter((b) => b.startsWith(`${names.queue(subscriber)} <- ${names.exchange} `)))].sort();
    expect(mine(publisherSide.bindings)).toEqual(mine(consumerSide.bindings));
    expect(mine(consumerSide.bindings)).toHaveLength(subscriptionsOf(subscriber).length);
  });
});
