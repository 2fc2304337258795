import type { ChannelWrapper, AmqpConnectionManager } from 'amqp-connection-manager';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { EventEnvelope } from '../contracts/envelope.js';
import type { SagaService } from '../contracts/saga.js';
import type { Logger } from '../logging/logger.js';
import { ChannelRecovery } from './channel-recovery.js';
import { assertPublishTopology } from './service-topology.js';
import type { TopologyNames } from './topology-names.js';
import { UnroutableEventError } from './unroutable-event-error.js';

export interface EventPublisherOptions {
  connection: AmqpConnectionManager;
  names: TopologyNames;
  logger: Logger;
  /**
   * The saga service publishing: the queues of every subscriber of its events are declared at start
   * and on every reconnect, before anything is published. Unset for tools that only forward
   * messages (retries, dead-letter replays).
   */
  service?: SagaService;
  /** A publish not confirmed by the broker within this time is rejected. @defaultValue 10 000 */
  publishTimeoutMs?: number;
}

/** AMQP properties mirroring the envelope (message_id, type, content_type, timestamp). */
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

/** After a returned message, the publish topology is declared again at most this often. */
const REDECLARE_EVERY_MS = 5_000;

/**
 * Publishes persistent messages on a confirm channel: `publish` resolves only once the broker has
 * taken responsibility for the message (publisher confirm), so callers (the outbox relay, the
 * consumer's retry and dead-letter paths) mark work done only after that. While the connection is
 * down, publishes wait for the reconnect, up to the publish timeout.
 *
 * Events are published `mandatory`: a message no queue is bound to comes back (basic.return, which
 * the broker sends before its confirm) and `publish` rejects with an UnroutableEventError instead of
 * resolving, so the outbox row stays unpublished. The publisher then declares its topology again,
 * which restores a binding or queue removed behind its back.
 */
export class EventPublisher {
  private readonly channel: ChannelWrapper;
  /** Message ids of returned publishes whose confirm has not been looked at yet. */
  private readonly returned = new Set<string>();
  /** The raw channel of the current connection (set up again on every reconnect). */
  private current: ConfirmChannel | undefined;
  private lastRedeclare = 0;
  private readonly recovery: ChannelRecovery;

  constructor(private readonly options: EventPublisherOptions) {
    const { logger } = options;
    this.recovery = new ChannelRecovery({ connection: options.connection, logger, name: 'publisher' });
    this.channel = options.connection.createChannel({
      name: 'publisher',
      confirm: true,
      publishTimeout: options.publishTimeoutMs ?? 10_000,
      setup: async (channel: ConfirmChannel) => {
        channel.on('error', (error) => logger.warn('publisher channel error', { error }));
        channel.on('return', (message: Message) => this.onReturn(message));
        this.recovery.watch(channel);
        this.current = channel;
        await this.declare(channel);
        this.recovery.ready();
      },
    });
    this.channel.on('error', (error) => logger.warn('publisher channel wrapper error', { error }));
  }

  /**
   * Resolves when the broker has confirmed the event and routed it to at least one queue; rejects
   * with an UnroutableEventError when it was returned.
   */
  async publish(envelope: EventEnvelope): Promise<void> {
    const body = Buffer.from(JSON.stringify(envelope));
    try {
      await this.channel.publish(this.options.names.exchange, envelope.type, body, { ...envelopeProperties(envelope), mandatory: true });
    } finally {
      // The return, if any, arrived before the confirm that settled the publish.
      if (this.returned.delete(envelope.id)) this.unroutable(envelope);
    }
  }

  /**
   * Publishes raw content to one queue through the default exchange (retries, dead letters,
   * replays), confirmed. Mandatory too: when the queue is missing (or, on a cluster, unreachable)
   * the broker returns the message, and a message with an id is then reported as not sent, so the
   * caller keeps the original instead of acking it.
   */
  async sendToQueue(queue: string, content: Buffer, properties: Options.Publish): Promise<void> {
    const id: unknown = properties.messageId;
    try {
      await this.channel.sendToQueue(queue, content, { ...properties, persistent: true, mandatory: true });
    } finally {
      if (typeof id === 'string' && this.returned.delete(id)) {
        throw new UnroutableEventError(`queue ${queue} took no message: the broker returned it`, {
          context: { routing_key: queue, event_id: id },
        });
      }
    }
  }

  /** Resolves once the channel is open (topology asserted). */
  async waitForConnect(): Promise<void> {
    await this.channel.waitForConnect();
  }

  async close(): Promise<void> {
    this.recovery.stop();
    await this.channel.close();
  }

  private async declare(channel: ConfirmChannel): Promise<void> {
    const { names, service } = this.options;
    if (service) await assertPublishTopology(channel, names, service);
    else await channel.assertExchange(names.exchange, 'topic', { durable: true });
  }

  private onReturn(message: Message): void {
    const id = message.properties.messageId as unknown;
    if (typeof id !== 'string') return;
    // Bounded: every id is removed by its own publish; this only guards against a publish that
    // timed out after its return arrived.
    if (this.returned.size > 10_000) this.returned.clear();
    this.returned.add(id);
  }

  private unroutable(envelope: EventEnvelope): never {
    const now = Date.now();
    const channel = this.current;
    if (channel && now - this.lastRedeclare >= REDECLARE_EVERY_MS) {
      this.lastRedeclare = now;
      this.declare(channel).catch((error: unknown) => this.options.logger.warn('could not declare the publish topology again', { error }));
    }
    throw new UnroutableEventError(`no queue is bound to ${envelope.type}: the broker returned the event`, {
      context: { routing_key: envelope.type, event_id: envelope.id },
    });
  }
}
