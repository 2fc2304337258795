import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { TopologyNames } from '../../../../shared/messaging/topology-names.js';
import type { RetryNote } from '../../../../shared/messaging/event-consumer.js';
import { RETRY_TYPE, type ServiceStatus } from '../../../../shared/observability/service-status.js';
import type { ServiceBoard } from '../../domain/service-board.js';

/**
 * Feeds the {@link ServiceBoard} from the status exchange, and passes on the retries reported there: a queue of this instance's own
 * (server-named, exclusive, deleted with the connection; reports older than a minute and any
 * beyond 10 000 dropped by the broker), bound to the fanout, consumed without acks. Every
 * order-service instance hears every report. Reports that are not one are ignored.
 */
export class StatusListener {
  private readonly channel: ChannelWrapper;

  constructor(options: {
    connection: AmqpConnectionManager;
    names: TopologyNames;
    board: ServiceBoard;
    /** Where the retries services report go (the order's timeline); a failure is logged and the note dropped. */
    onRetry: (retry: RetryNote) => Promise<void>;
    logger: Logger;
  }) {
    const { names, board, logger } = options;
    const receive = (message: ConsumeMessage | null) => {
      if (!message) return;
      try {
        const body = JSON.parse(message.content.toString('utf8')) as unknown;
        if (message.properties.type === RETRY_TYPE && isRetry(body)) {
          options.onRetry(body).catch((error: unknown) => logger.debug('retry note not kept', { error }));
        } else if (isStatus(body)) board.receive(body);
        else logger.debug('not a status report', { type: message.properties.type });
      } catch (error) {
        logger.debug('unreadable status report', { error });
      }
    };
    this.channel = options.connection.createChannel({
      name: 'status-listener',
      setup: async (channel: Channel) => {
        await channel.assertExchange(names.statusExchange, 'fanout', { durable: true });
        const { queue } = await channel.assertQueue('', {
          exclusive: true,
          autoDelete: true,
          arguments: { 'x-message-ttl': 60_000, 'x-max-length': 10_000 },
        });
        await channel.bindQueue(queue, names.statusExchange, '');
        await channel.consume(queue, receive, { noAck: true });
      },
    });
    this.channel.on('error', (error) => logger.debug('status listener channel error', { error }));
  }

  start(): Promise<void> {
    return this.channel.waitForConnect();
  }

  async stop(): Promise<void> {
    await this.channel.close().catch(() => undefined);
  }
}

function isStatus(value: unknown): value is ServiceStatus {
  const status = value as Partial<ServiceStatus> | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.service === 'string' &&
    typeof status.instance === 'string' &&
    typeof status.interval_ms === 'number' &&
    Array.isArray(status.lanes) &&
    Array.isArray(status.breakers) &&
    Array.isArray(status.minutes) &&
    Array.isArray(status.bucket_bounds)
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isRetry(value: unknown): value is RetryNote {
  const retry = value as Partial<RetryNote> | null;
  return (
    typeof retry === 'object' &&
    retry !== null &&
    typeof retry.service === 'string' &&
    typeof retry.event_type === 'string' &&
    typeof retry.error === 'string' &&
    typeof retry.attempt === 'number' &&
    typeof retry.retried_at === 'string' &&
    !Number.isNaN(Date.parse(retry.retried_at)) &&
    UUID.test(String(retry.event_id)) &&
    UUID.test(String(retry.order_id))
  );
}
