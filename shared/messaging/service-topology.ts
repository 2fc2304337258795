import type { Channel } from 'amqplib';
import type { TopologyNames } from './topology-names.js';

export interface ServiceTopology {
  names: TopologyNames;
  service: string;
  /** Routing keys (event types) the service queue is bound to. */
  routingKeys: readonly string[];
  /** One delay queue per retry attempt. */
  retryLevels: number;
  /**
   * Broker-side backstop: a message delivered this many times without an ack or a nack from our
   * code (the process died while handling it, over and over) is dead-lettered by the broker.
   * @defaultValue 20
   */
  deliveryLimit?: number;
}

/**
 * Declares, idempotently, a service's queues: the quorum service queue bound to its routing keys,
 * its delay queues (expired messages return to the service queue) and its dead-letter queue.
 * Runs on every (re)connect, so a broker that lost its definitions gets them back.
 */
export async function assertServiceTopology(channel: Channel, topology: ServiceTopology): Promise<void> {
  const { names, service } = topology;
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
      'x-delivery-limit': topology.deliveryLimit ?? 20,
      'x-dead-letter-exchange': names.deadLetterExchange,
      'x-dead-letter-routing-key': dlq,
    },
  });
  for (const key of topology.routingKeys) await channel.bindQueue(queue, names.exchange, key);
  for (let attempt = 1; attempt <= topology.retryLevels; attempt += 1) {
    // Classic queues: per-message expiration carries the jittered delay (see retry-schedule.ts).
    await channel.assertQueue(names.retryQueue(service, attempt), {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
    });
  }
}
