import type { Logger } from '../logging/logger.js';
import type { QueueInspector } from '../messaging/queue-inspector.js';
import { sampledGauge, type MetricsRegistry } from './metrics.js';

/**
 * `messaging_queue_messages{messaging_destination_name}`: the messages ready in each of `queues`
 * (a service's own lanes and its dead-letter queue), read from the broker when Prometheus scrapes.
 */
export function queueDepthMetrics(options: {
  registry: MetricsRegistry;
  inspector: QueueInspector;
  queues: () => string[];
  logger: Pick<Logger, 'debug'>;
}): void {
  sampledGauge({
    registry: options.registry,
    name: 'messaging_queue_messages',
    help: "Messages ready in this service's queues (its lanes and its dead-letter queue), as the broker counts them.",
    labelNames: ['messaging_destination_name'],
    logger: options.logger,
    async read() {
      const samples = [];
      for (const queue of options.queues()) {
        const { ready } = await options.inspector.figures(queue);
        samples.push({ labels: { messaging_destination_name: queue }, value: ready });
      }
      return samples;
    },
  });
}
