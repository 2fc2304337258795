import type { Channel } from 'amqplib';
import { publishedBy, subscribersOf, subscriptionsOf, type SagaService } from '../contracts/events.js';
import { LANES, type Lane, type TopologyNames } from './topology-names.js';

/**
 * Broker-side backstop: a message delivered this many times without an ack or a nack from our code
 * (the process died while handling it, over and over) is dead-lettered by the broker. A constant,
 * not a setting: every service declares every subscriber's queue, and a queue declared twice with
 * different arguments is refused by the broker.
 */
export const DELIVERY_LIMIT = 20;

/** The routing keys bound to each lane's queue of one service. */
export type LaneBindings = Readonly<Record<Lane, readonly string[]>>;

/**
 * The lanes a service has: the step lane always (the service's queue), the compensation lane when
 * any routing key is bound to it.
 */
export function lanesOf(bindings: LaneBindings): Lane[] {
  return LANES.filter((lane) => lane === 'step' || bindings[lane].length > 0);
}

/** A saga service's bindings: each event it subscribes to goes to the lane of its handler's role. */
export function sagaBindingsOf(service: SagaService): LaneBindings {
  return { step: subscriptionsOf(service, 'step'), compensation: subscriptionsOf(service, 'compensation') };
}

/**
 * Declares, idempotently, one subscriber's queues: the saga exchange, the dead-letter exchange and
 * the subscriber's dead-letter queue, then a quorum queue per lane, each dead-lettering there and
 * bound to its lane's routing keys. The arguments depend on nothing but the names, so the subscriber
 * itself and every service publishing to it declare the very same queues.
 *
 * Each key is then unbound from the other lanes' queues: a broker that ran a version without lanes
 * has every key bound to the step lane's queue, and an event routed to two lanes would be handled
 * in both (the inbox keeps that to one effect, but it is work twice and no priority). The bind comes
 * first, so an event published in between reaches both lanes rather than none. Unbinding a binding
 * that does not exist is a no-op for RabbitMQ.
 */
export async function assertSubscriberQueues(
  channel: Channel,
  names: TopologyNames,
  service: string,
  bindings: LaneBindings,
): Promise<void> {
  const dlq = names.deadLetterQueue(service);
  const lanes = lanesOf(bindings);
  await channel.assertExchange(names.exchange, 'topic', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'direct', { durable: true });
  await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(dlq, names.deadLetterExchange, dlq);
  for (const lane of lanes) {
    await channel.assertQueue(names.queue(service, lane), {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_LIMIT,
        'x-dead-letter-exchange': names.deadLetterExchange,
        'x-dead-letter-routing-key': dlq,
      },
    });
  }
  for (const lane of lanes) {
    for (const key of bindings[lane]) await channel.bindQueue(names.queue(service, lane), names.exchange, key);
  }
  for (const lane of lanes) {
    for (const other of LANES.filter((l) => l !== lane)) {
      for (const key of bindings[other]) await channel.unbindQueue(names.queue(service, lane), names.exchange, key);
    }
  }
}

/** The saga services that receive at least one event `service` publishes. */
export function servicesFedBy(service: SagaService): SagaService[] {
  return [...new Set(publishedBy(service).flatMap((type) => subscribersOf(type)))];
}

/**
 * Declares what `service` needs before it publishes anything: the queues of every subscriber of
 * every event it publishes, each lane bound as the saga declares. Run at start and on every
 * reconnect, so whichever service starts first, and after a broker lost its definitions, no event is
 * published before its subscribers' queues exist (a publish that no queue is bound to is dropped by
 * the broker).
 */
export async function assertPublishTopology(channel: Channel, names: TopologyNames, service: SagaService): Promise<void> {
  for (const subscriber of servicesFedBy(service)) {
    await assertSubscriberQueues(channel, names, subscriber, sagaBindingsOf(subscriber));
  }
}

export interface ConsumerTopology {
  names: TopologyNames;
  service: string;
  /** Routing keys (event types) bound to each lane's queue. */
  bindings: LaneBindings;
  /** One delay queue per retry attempt, per lane. */
  retryLevels: number;
}

/**
 * Declares a consumer's queues: its subscriber queues (see assertSubscriberQueues) and each lane's
 * delay queues, whose expired messages return to that lane's queue, so a retried compensation keeps
 * its priority. Runs on every (re)connect.
 */
export async function assertConsumerTopology(channel: Channel, topology: ConsumerTopology): Promise<void> {
  const { names, service } = topology;
  await assertSubscriberQueues(channel, names, service, topology.bindings);
  for (const lane of lanesOf(topology.bindings)) {
    for (let attempt = 1; attempt <= topology.retryLevels; attempt += 1) {
      // Per-message expiration carries the jittered delay (see retry-schedule.ts). Quorum queues
      // (per-message TTL since RabbitMQ 3.10), so that on a cluster a dead node does not take them
      // with it: a classic queue whose node is down cannot even be declared (404), which would stop
      // the consumer's setup on the surviving node. Expired messages go back at least once.
      await channel.assertQueue(names.retryQueue(service, attempt, lane), {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-overflow': 'reject-publish',
          'x-dead-letter-strategy': 'at-least-once',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': names.queue(service, lane),
        },
      });
    }
  }
}
