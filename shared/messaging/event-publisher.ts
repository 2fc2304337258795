import type { ChannelWrapper, AmqpConnectionManager } from 'amqp-connection-manager';
import type { ConfirmChannel, Options } from 'amqplib';
import type { EventEnvelope } from '../contracts/envelope.js';
import type { Logger } from '../logging/logger.js';
import type { TopologyNames } from './topology-names.js';

export interface EventPublisherOptions {
  connection: AmqpConnectionManager;
  names: TopologyNames;
  logger: Logger;
  /** A publish not confirmed by the broker within this time is rejected. @defaultValue 10 000 */
  publishTimeoutMs?: number;
}

/** AMQP properties mirroring the envelope (DESIGN.md: message_id, type, content_type, timestamp). */
export function envelopeProperties(envelope: EventEnvelope): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: envelope.id,
    type: envelope.type,
    correlationId: envelope.correlation_id,
    timestamp: Math.floor(Date.parse(envelope.occurred_at) / 1000),
    headers: { 'x-event-version': envelope.version },
  };
}

/**
 * Publishes persistent messages on a confirm channel: `publish` resolves only once the broker has
 * taken responsibility for the message (publisher confirm), so callers (the outbox relay, the
 * consumer's retry and dead-letter paths) mark work done only after that. While the connection is
 * down, publishes wait for the reconnect, up to the publish timeout.
 */
export class EventPublisher {
  private readonly channel: ChannelWrapper;

  constructor(private readonly options: EventPublisherOptions) {
    const { names, logger } = options;
    this.channel = options.connection.createChannel({
      name: 'publisher',
      confirm: true,
      publishTimeout: options.publishTimeoutMs ?? 10_000,
      setup: async (channel: ConfirmChannel) => {
        channel.on('error', (error) => logger.warn('publisher channel error', { error }));
        await channel.assertExchange(names.exchange, 'topic', { durable: true });
      },
    });
    this.channel.on('error', (error) => logger.warn('publisher channel wrapper error', { error }));
  }

  /** Resolves when the broker has confirmed the event. */
  async publish(envelope: EventEnvelope): Promise<void> {
    const body = Buffer.from(JSON.stringify(envelope));
    await this.channel.publish(this.options.names.exchange, envelope.type, body, envelopeProperties(envelope));
  }

  /** Publishes raw content to one queue through the default exchange (retries, dead letters). */
  async sendToQueue(queue: string, content: Buffer, properties: Options.Publish): Promise<void> {
    await this.channel.sendToQueue(queue, content, { ...properties, persistent: true });
  }

  /** Resolves once the channel is open (topology asserted). */
  async waitForConnect(): Promise<void> {
    await this.channel.waitForConnect();
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
