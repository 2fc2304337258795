import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { Logger } from '../logging/logger.js';
import { sampledGauge, type MetricsRegistry } from './metrics.js';

/**
 * `messaging_queue_messages{messaging_destination_name}`: the messages ready in each of `queues`
 * (a service's own lanes and its dead-letter queue), read from the broker when Prometheus scrapes.
 *
 * The reads go through a channel of their own, opened on the current connection when needed: a
 * passive check of a queue that was deleted behind our back closes the channel it ran on, and that
 * must never be a consumer's or the publisher's. The next scrape opens a new one.
 */
export function queueDepthMetrics(options: {
  registry: MetricsRegistry;
  connection: AmqpConnectionManager;
  queues: () => string[];
  logger: Pick<Logger, 'debug'>;
}): void {
  let channel: Channel | undefined;
  const open = async (): Promise<Channel | undefined> => {
    if (channel) return channel;
    const model = options.connection.connection;
    if (!model) return undefined;
    const opened = await model.createChannel();
    opened.on('error', () => undefined);
    opened.on('close', () => {
      if (channel === opened) channel = undefined;
    });
    channel = opened;
    return opened;
  };
  sampledGauge({
    registry: options.registry,
    name: 'messaging_queue_messages',
    help: "Messages ready in this service's queues (its lanes and its dead-letter queue), as the broker counts them.",
    labelNames: ['messaging_destination_name'],
    logger: options.logger,
    async read() {
      const current = await open();
      if (!current) return [];
      const samples = [];
      for (const queue of options.queues()) {
        const { messageCount } = await current.checkQueue(queue);
        samples.push({ labels: { messaging_destination_name: queue }, value: messageCount });
      }
      return samples;
    },
  });
}
