import type { ChannelWrapper, AmqpConnectionManager } from 'amqp-connection-manager';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { EventEnvelope } from '../contracts/envelope.js';
import type { SagaService } from '../contracts/saga.js';
import type { Logger } from '../logging/logger.js';
import type { MessagingMetrics } from '../observability/metrics.js';
import { startPublishSpan, type OutboxPath } from '../observability/messaging-spans.js';
import { failSpan, type TraceCarrier } from '../observability/trace-context.js';
import { encodeBody } from './body-encoding.js';
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
  /** Counts the events published (confirmed and routed), and their bytes before and after compression. */
  metrics?: MessagingMetrics;
  /**
   * An event whose JSON body is larger than this many bytes is published gzip'd, with
   * `content_encoding: gzip` (MESSAGE_COMPRESS_BYTES); 0 never compresses. @defaultValue 0
   */
  compressAboveBytes?: number;
}

/** Options of {@link EventPublisher.publish}. */
export interface PublishOptions {
  /**
   * The trace context the event was emitted in (kept in its outbox row): the parent of the
   * publish's span. Without it the publish starts a trace of its own, whatever context is active
   * where `publish` is called (the relay publishes in some other unit of work's).
   */
  traceContext?: TraceCarrier;
  /** The outbox relay's path that publishes the event, recorded on the span. */
  outbox?: OutboxPath;
}

/**
 * AMQP properties mirroring the envelope (message_id, type, content_type, timestamp).
 * `contentEncoding`: how the body is encoded, utf-8 (the JSON as it is) or gzip.
 */
export function envelopeProperties(envelope: EventEnvelope, contentEncoding: 'utf-8' | 'gzip' = 'utf-8'): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    contentEncoding,
    messageId: envelope.id,
    type: envelope.type,
    correlationId: envelope.correlation_id,
    timestamp: Math.floor(Date.parse(envelope.occurred_at) / 1000),
    headers: { 'x-event-version': envelope.version },
  };
}

/** Carries a publish's own token, so that a returned message is matched to its publish. */
const RETURN_TOKEN_HEADER = 'x-publish-token';

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
  /** Tokens of returned publishes whose confirm has not been looked at yet. */
  private readonly returned = new Set<string>();
  /** Numbers this publisher's publishes, to match a return to its publish (see `routed`). */
  private sequence = 0;
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
   * with an UnroutableEventError when it was returned. Traced as a PRODUCER span from the call to
   * the confirm, whose context the message carries in its `traceparent`/`tracestate` headers.
   * A body above `compressAboveBytes` goes gzip'd (see {@link encodeBody}).
   */
  async publish(envelope: EventEnvelope, options: PublishOptions = {}): Promise<void> {
    const { exchange } = this.options.names;
    const json = Buffer.from(JSON.stringify(envelope));
    const body = encodeBody(json, this.options.compressAboveBytes ?? 0);
    const properties = envelopeProperties(envelope, body.contentEncoding);
    const { span, headers } = startPublishSpan(envelope, exchange, options.traceContext, options.outbox);
    if (headers) properties.headers = { ...properties.headers, ...headers };
    try {
      await this.routed(envelope.type, properties, (tagged) => this.channel.publish(exchange, envelope.type, body.content, tagged), {
        redeclare: true,
      });
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
    const metrics = this.options.metrics;
    if (!metrics) return;
    metrics.sent.inc({ messaging_destination_name: exchange, event_type: envelope.type });
    const labels = { messaging_operation_type: 'send', messaging_destination_name: exchange, encoding: body.encoding };
    metrics.bodyBytes.inc(labels, json.length);
    metrics.wireBytes.inc(labels, body.content.length);
  }

  /**
   * Publishes raw content to one queue through the default exchange (retries, dead letters,
   * replays), confirmed. Mandatory too: when the queue is missing (or, on a cluster, unreachable)
   * the broker returns the message, and a message with an id is then reported as not sent, so the
   * caller keeps the original instead of acking it. The content goes as it is, never re-encoded:
   * `properties.contentEncoding` must say how it is encoded (a forwarded message keeps its own).
   */
  async sendToQueue(queue: string, content: Buffer, properties: Options.Publish): Promise<void> {
    await this.routed(queue, { ...properties, persistent: true }, (tagged) => this.channel.sendToQueue(queue, content, tagged));
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
    const token: unknown = message.properties.headers?.[RETURN_TOKEN_HEADER];
    if (typeof token !== 'string') return;
    // Bounded: every token is removed by its own publish; this only guards against a publish that
    // timed out after its return arrived.
    if (this.returned.size > 10_000) this.returned.clear();
    this.returned.add(token);
  }

  /**
   * Runs a publish as mandatory and fails it when the broker returned the message (the return comes
   * before the confirm that settles the publish, so it has been seen by then). The return is matched
   * by a token header of this publish's own, not by message id: a consumer forwards a message under
   * the id it was published with, maybe while that publish's confirm is still on its way.
   * `redeclare`: declare the publish topology again (at most every REDECLARE_EVERY_MS), which
   * restores a queue or binding removed behind our back.
   */
  private async routed(
    routingKey: string,
    properties: Options.Publish,
    send: (tagged: Options.Publish) => Promise<unknown>,
    options: { redeclare?: boolean } = {},
  ): Promise<void> {
    this.sequence += 1;
    const token = String(this.sequence);
    try {
      await send({ ...properties, mandatory: true, headers: { ...properties.headers, [RETURN_TOKEN_HEADER]: token } });
    } finally {
      if (this.returned.delete(token)) {
        if (options.redeclare) this.redeclareSoon();
        throw new UnroutableEventError(`nothing is bound to ${routingKey}: the broker returned the message`, {
          context: { routing_key: routingKey, event_id: properties.messageId },
        });
      }
    }
  }

  private redeclareSoon(): void {
    const now = Date.now();
    const channel = this.current;
    if (!channel || now - this.lastRedeclare < REDECLARE_EVERY_MS) return;
    this.lastRedeclare = now;
    this.declare(channel).catch((error: unknown) => this.options.logger.warn('could not declare the publish topology again', { error }));
  }
}
