import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { roleOf, subscriptionsOf, type EventType } from '../contracts/events.js';
import { SAGA_SERVICES } from '../contracts/saga.js';
import { assertConsumerTopology, assertPublishTopology, sagaBindingsOf, servicesFedBy } from './service-topology.js';
import { topologyNames } from './topology-names.js';

const names = topologyNames('t_');

/**
 * A channel for tests only: records every declaration asked of it, and keeps the bindings the way
 * the broker would (starting from `bound`), noting any moment a routing key of `watched` reached no
 * queue of the exchange.
 */
function recordingChannel(options: { bound?: string[]; watched?: readonly string[] } = {}) {
  const queues = new Map<string, unknown>();
  const bindings: string[] = [];
  const unbindings: string[] = [];
  const live = new Set(options.bound ?? []);
  const unroutable = new Set<string>();
  const routable = (key: string) => [...live].some((b) => b.endsWith(` <- ${names.exchange} ${key}`));
  const channel = {
    assertExchange: async () => ({}),
    assertQueue: async (queue: string, options: unknown) => {
      queues.set(queue, options);
      return {};
    },
    bindQueue: async (queue: string, exchange: string, key: string) => {
      bindings.push(`${queue} <- ${exchange} ${key}`);
      live.add(`${queue} <- ${exchange} ${key}`);
      return {};
    },
    unbindQueue: async (queue: string, exchange: string, key: string) => {
      unbindings.push(`${queue} <- ${exchange} ${key}`);
      live.delete(`${queue} <- ${exchange} ${key}`);
      for (const watched of options.watched ?? []) if (!routable(watched)) unroutable.add(watched);
      return {};
    },
  } as unknown as Channel;
  return { channel, queues, bindings, unbindings, live, unroutable };
}

/** The bindings of `queue` to the saga exchange among `bindings`, one each, sorted. */
const boundTo = (queue: string, bindings: Iterable<string>) =>
  [...new Set([...bindings].filter((b) => b.startsWith(`${queue} <- ${names.exchange} `)))].map((b) => b.split(' ').at(-1)).sort();

describe('the topology each service declares', () => {
  it('when each service is about to publish, then it declares the queues of exactly the services its events go to', () => {
    expect(servicesFedBy('order-service').sort()).toEqual(['inventory-service', 'payment-service', 'shipping-service']);
    expect(servicesFedBy('inventory-service').sort()).toEqual(['order-service', 'payment-service']);
    expect(servicesFedBy('payment-service').sort()).toEqual(['inventory-service', 'order-service', 'shipping-service']);
    expect(servicesFedBy('shipping-service').sort()).toEqual(['order-service', 'payment-service']);
  });

  it.each(SAGA_SERVICES)('when a publisher declares %s\'s queues, then it uses the arguments, bindings and unbindings the service declares itself', async (subscriber) => {
    const publisherSide = recordingChannel();
    for (const publisher of SAGA_SERVICES.filter((s) => servicesFedBy(s).includes(subscriber))) {
      await assertPublishTopology(publisherSide.channel, names, publisher);
    }
    const consumerSide = recordingChannel();
    await assertConsumerTopology(consumerSide.channel, { names, service: subscriber, bindings: sagaBindingsOf(subscriber), retryLevels: 3 });

    const queues = [names.queue(subscriber), names.queue(subscriber, 'compensation'), names.deadLetterQueue(subscriber)];
    for (const queue of queues) {
      expect(consumerSide.queues.get(queue), queue).toBeDefined();
      expect(publisherSide.queues.get(queue), queue).toEqual(consumerSide.queues.get(queue));
    }
    for (const queue of queues.slice(0, 2)) {
      expect(boundTo(queue, publisherSide.bindings), queue).toEqual(boundTo(queue, consumerSide.bindings));
      expect(boundTo(queue, publisherSide.unbindings), queue).toEqual(boundTo(queue, consumerSide.unbindings));
    }
  });

  it.each(SAGA_SERVICES)('when %s declares its queues, then each event it subscribes to is bound to the lane of its role, and to no other', async (service) => {
    const side = recordingChannel();
    await assertConsumerTopology(side.channel, { names, service, bindings: sagaBindingsOf(service), retryLevels: 3 });
    const step = boundTo(names.queue(service), side.live);
    const compensation = boundTo(names.queue(service, 'compensation'), side.live);
    expect(step).toEqual([...subscriptionsOf(service, 'step')].sort());
    expect(compensation).toEqual([...subscriptionsOf(service, 'compensation')].sort());
    expect([...step, ...compensation].sort()).toEqual([...subscriptionsOf(service)].sort());
    for (const type of compensation) expect(roleOf(type as EventType, service), type).toBe('compensation');
    expect(compensation.length, 'every saga service undoes something').toBeGreaterThan(0);
  });

  it.each(SAGA_SERVICES)('when a broker still holds the single queue of a version without lanes, then %s\'s compensations move to their lane without a moment where they reach no queue', async (service) => {
    const old = subscriptionsOf(service).map((key) => `${names.queue(service)} <- ${names.exchange} ${key}`);
    const side = recordingChannel({ bound: old, watched: subscriptionsOf(service) });
    await assertConsumerTopology(side.channel, { names, service, bindings: sagaBindingsOf(service), retryLevels: 3 });
    expect(boundTo(names.queue(service), side.live)).toEqual([...subscriptionsOf(service, 'step')].sort());
    expect(boundTo(names.queue(service, 'compensation'), side.live)).toEqual([...subscriptionsOf(service, 'compensation')].sort());
    expect([...side.unroutable]).toEqual([]);
  });

  it('when a compensation is retried, then its delay queues send it back to the compensation lane, and a step\'s to the step lane', async () => {
    const side = recordingChannel();
    await assertConsumerTopology(side.channel, { names, service: 'payment-service', bindings: sagaBindingsOf('payment-service'), retryLevels: 2 });
    for (const attempt of [1, 2]) {
      expect(side.queues.get(names.retryQueue('payment-service', attempt, 'compensation'))).toMatchObject({
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 't_payment-service.compensation' },
      });
      expect(side.queues.get(names.retryQueue('payment-service', attempt))).toMatchObject({
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 't_payment-service' },
      });
    }
    expect(names.retryQueue('payment-service', 1, 'compensation')).toBe('t_payment-service.compensation.delay.1');
    expect(names.retryQueue('payment-service', 1)).toBe('t_payment-service.delay.1');
  });

  it('when a consumer has no compensation keys, then it declares no compensation lane', async () => {
    const side = recordingChannel();
    await assertConsumerTopology(side.channel, { names, service: 'probe', bindings: { step: ['order.created'], compensation: [] }, retryLevels: 1 });
    expect([...side.queues.keys()].sort()).toEqual(['t_probe', 't_probe.delay.1', 't_probe.dlq']);
    expect(side.unbindings).toEqual([]);
  });
});

describe('queue names', () => {
  it('when a tool lists a service\'s queues, then it gets both lanes, their delay queues and the dead-letter queue', () => {
    expect(names.serviceQueues('shipping-service', 2).sort()).toEqual([
      't_shipping-service',
      't_shipping-service.compensation',
      't_shipping-service.compensation.delay.1',
      't_shipping-service.compensation.delay.2',
      't_shipping-service.delay.1',
      't_shipping-service.delay.2',
      't_shipping-service.dlq',
    ]);
  });

  it('when a queue name is looked up, then only a lane\'s own queue names a lane', () => {
    expect(names.laneOf('payment-service', 't_payment-service')).toBe('step');
    expect(names.laneOf('payment-service', 't_payment-service.compensation')).toBe('compensation');
    expect(names.laneOf('payment-service', 't_payment-service.compensation.delay.1')).toBeUndefined();
    expect(names.laneOf('payment-service', 't_shipping-service.compensation')).toBeUndefined();
  });
});
