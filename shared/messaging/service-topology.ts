import type { Channel } from 'amqplib';
import { publishedBy, subscribersOf, subscriptionsOf, type SagaService } from '../contracts/events.js';
import type { TopologyNames } from './topology-names.js';

/**
 * Broker-side backstop: a message delivered this many times without an ack or a nack from our code
 * (the process died while handling it, over and over) is dead-lettered by the broker. A constant,
 * not a setting: every service declares every subscriber's queue, and a queue declared twice with
 * different arguments is refused by the broker.
 */
export const DELIVERY_LIMIT = 20;

/**
 * Declares, idempotently, one subscriber's queue: the saga exchange, the dead-letter exchange and
 * the subscriber's dead-letter queue, then its quorum queue, dead-lettering there, bound to
 * `routingKeys`. The arguments depend on nothing but the names, so the subscriber itself and every
 * service publishing to it declare the very same queue.
 */
export async function assertSubscriberQueue(
  channel: Channel,
  names: TopologyNames,
  service: string,
  routingKeys: readonly string[],
): Promise<void> {
  const queue = names.queue(service);
  const dlq = names.deadLetterQueue(service);
  await channel.assertExchange(names.exchange, 'topic', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'direct', { durable: true });
  await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(dlq, names.deadLetterExchange, dlq);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': names.deadLetterExchange,
      'x-dead-letter-routing-key': dlq,
    },
  });
  for (const key of routingKeys) await channel.bindQueue(queue, names.exchange, key);
}

/** The saga services that receive at least one event `service` publishes. */
export function servicesFedBy(service: SagaService): SagaService[] {
  return [...new Set(publishedBy(service).flatMap((type) => subscribersOf(type)))];
}

/**
 * Declares what `service` needs before it publishes anything: the queue of every subscriber of every
 * event it publishes, bound as the saga declares. Run at start and on every reconnect, so whichever
 * service starts first, and after a broker lost its definitions, no event is published before its
 * subscribers' queues exist (a publish that no queue is bound to is dropped by the broker).
 */
export async function assertPublishTopology(channel: Channel, names: TopologyNames, service: SagaService): Promise<void> {
  for (const subscriber of servicesFedBy(service)) {
    await assertSubscriberQueue(channel, names, subscriber, subscriptionsOf(subscriber));
  }
}

export interface ConsumerTopology {
  names: TopologyNames;
  service: string;
  /** Routing keys (event types) the service queue is bound to. */
  routingKeys: readonly string[];
  /** One delay queue per retry attempt. */
  retryLevels: number;
}

/**
 * Declares a consumer's queues: its subscriber queue (see assertSubscriberQueue) and its delay
 * queues, whose expired messages return to the service queue. Runs on every (re)connect.
 */
export async function assertConsumerTopology(channel: Channel, topology: ConsumerTopology): Promise<void> {
  const { names, service } = topology;
  await assertSubscriberQueue(channel, names, service, topology.routingKeys);
  for (let attempt = 1; attempt <= topology.retryLevels; attempt += 1) {
    // Per-message expiration carries the jittered delay (see retry-schedule.ts). Quorum queues
    // (per-message TTL since RabbitMQ 3.10), so that on a cluster a dead node does not take them
    // with it: a classic queue whose node is down cannot even be declared (404), which would stop the
    // consumer's setup on the surviving node. Expired messages go back at least once.
    await channel.assertQueue(names.retryQueue(service, attempt), {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-overflow': 'reject-publish',
        'x-dead-letter-strategy': 'at-least-once',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.queue(service),
      },
    });
  }
}
