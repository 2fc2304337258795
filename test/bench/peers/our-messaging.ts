import { randomBytes } from 'node:crypto';
import { createLogger } from '../../../shared/logging/logger.js';
import { connectAmqp } from '../../../shared/messaging/amqp-connection.js';
import { EventConsumer } from '../../../shared/messaging/event-consumer.js';
import { envelopeProperties, EventPublisher } from '../../../shared/messaging/event-publisher.js';
import { topologyNames } from '../../../shared/messaging/topology-names.js';
import { deleteAmqpObjects } from '../amqp-cleanup.js';
import { withTimeout } from '../with-timeout.js';
import { CONSUMER_PREFETCH, countdown, driveWorkload, orderCreatedEvent, type MessagingRate } from './amqp-workload.js';

const SERVICE = 'bench-peer';

/**
 * Our messaging layer on the workload of ceiling (a): `EventPublisher.sendToQueue` (confirm channel
 * through amqp-connection-manager, default exchange, as the ceiling publishes) on one connection,
 * and the services' own `EventConsumer` on another, so every message is decoded, validated
 * against its schema and handed to a handler before the ack, as in production. The topology is
 * the consumer's own (quorum queue with delivery limit and dead-letter queue) in a random
 * namespace, deleted afterwards.
 */
export async function ourMessaging(url: string, messages: number): Promise<MessagingRate> {
  const names = topologyNames(`bench_${randomBytes(4).toString('hex')}_`);
  const logger = createLogger({ service: SERVICE, level: 'error' });
  const pubConnection = await connectAmqp({ url, name: `${SERVICE}-publisher`, logger });
  const subConnection = await connectAmqp({ url, name: `${SERVICE}-consumer`, logger }).catch(async (error: unknown) => {
    await pubConnection.close();
    throw error;
  });
  const publisher = new EventPublisher({ connection: pubConnection, names, logger });
  const { count, done } = countdown(messages);
  const consumer = new EventConsumer({
    connection: subConnection,
    names,
    service: SERVICE,
    handlers: { 'order.created': async () => count() },
    publisher,
    logger,
    prefetch: CONSUMER_PREFETCH,
    maxAttempts: 1,
    retryBaseDelayMs: 1_000,
  });
  try {
    await publisher.waitForConnect();
    await consumer.start();
    const event = orderCreatedEvent();
    const body = Buffer.from(JSON.stringify(event));
    const properties = envelopeProperties(event);
    const queue = names.queue(SERVICE);
    return await driveWorkload(messages, () => publisher.sendToQueue(queue, body, properties), done);
  } finally {
    await withTimeout(consumer.stop(), 10_000, 'the consumer to stop').catch(() => undefined);
    await publisher.close().catch(() => undefined);
    await subConnection.close().catch(() => undefined);
    await pubConnection.close().catch(() => undefined);
    await deleteAmqpObjects(url, {
      queues: [names.queue(SERVICE), names.deadLetterQueue(SERVICE)],
      exchanges: [names.exchange, names.deadLetterExchange],
    });
  }
}
