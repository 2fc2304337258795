import { createHash, randomUUID } from 'node:crypto';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logging/logger.js';
import { decodeBody } from '../messaging/body-encoding.js';
import { DEAD_LETTER_HEADERS } from '../messaging/dead-letter-headers.js';
import type { TopologyNames } from '../messaging/topology-names.js';
import type { DeadLetterStore } from './dead-letter-store.js';

export interface DeadLetterArchiverOptions {
  connection: AmqpConnectionManager;
  names: TopologyNames;
  /** The services whose dead-letter queues are archived. */
  services: readonly string[];
  store: DeadLetterStore;
  logger: Logger;
}

/**
 * Moves messages from every service's dead-letter queue into the dead-letter archive in Postgres
 * (insert, then ack: a crash re-archives, and the archive key collapses the copy), where they can
 * be listed, filtered, replayed and purged.
 *
 * A gzip'd body (content_encoding gzip) is archived gunzipped, as the JSON it carries, with
 * `contentEncoding: utf-8` (and `receivedContentEncoding: gzip`) in its properties: the admin API
 * and console then show it with its secrets masked, its order is found, and a replay sends it
 * uncompressed, which every consumer takes. A body that cannot be decoded is archived as it came,
 * with its own content encoding, and a replay sends it back as it is.
 */
export class DeadLetterArchiver {
  private readonly channel: ChannelWrapper;
  private current: Channel | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: DeadLetterArchiverOptions) {
    const { names, services, logger } = options;
    this.channel = options.connection.createChannel({
      name: 'dead-letter-archiver',
      setup: async (channel: Channel) => {
        channel.on('error', (error) => logger.warn('archiver channel error', { error }));
        this.current = channel;
        for (const service of services) {
          // Same arguments as the service topology declares, so either may declare it first.
          await channel.assertQueue(names.deadLetterQueue(service), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        }
      },
    });
    this.channel.on('error', (error) => logger.warn('archiver channel wrapper error', { error }));
  }

  async start(): Promise<void> {
    await this.channel.waitForConnect();
    for (const service of this.options.services) {
      await this.channel.consume(this.options.names.deadLetterQueue(service), (message) => this.track(service, message), { prefetch: 50 });
    }
  }

  async stop(): Promise<void> {
    await this.channel.cancelAll().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.channel.close().catch(() => undefined);
  }

  private track(service: string, message: ConsumeMessage): void {
    const origin = this.current;
    const work = this.archive(service, message)
      .then(() => origin?.ack(message))
      .catch((error: unknown) => {
        // Left unacked: it is redelivered when the channel closes, and archived then.
        this.options.logger.warn('dead letter not archived yet', { error, service });
      });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async archive(service: string, message: ConsumeMessage): Promise<void> {
    const headers = message.properties.headers ?? {};
    const at = typeof headers[DEAD_LETTER_HEADERS.at] === 'string' ? new Date(headers[DEAD_LETTER_HEADERS.at] as string) : new Date();
    const queue = this.options.names.deadLetterQueue(service);
    const messageId = (message.properties.messageId as string | undefined) ?? null;
    const received: unknown = message.properties.contentEncoding;
    const decoded = decodeBody(message.content, received);
    const gunzipped = decoded.ok && decoded.encoding === 'gzip';
    const body = gunzipped ? decoded.json : message.content;
    await this.options.store.archive({
      id: randomUUID(),
      archive_key: createHash('sha256')
        .update(`${queue}\n${messageId}\n${String(headers[DEAD_LETTER_HEADERS.at])}\n`)
        .update(message.content)
        .digest('hex'),
      service,
      queue,
      routing_key: (headers[DEAD_LETTER_HEADERS.routingKey] as string | undefined) ?? message.fields.routingKey,
      event_type: (message.properties.type as string | undefined) ?? eventTypeOf(body),
      message_id: messageId,
      reason: (headers[DEAD_LETTER_HEADERS.reason] as string | undefined) ?? brokerReason(headers),
      error: (headers[DEAD_LETTER_HEADERS.error] as string | undefined) ?? null,
      properties: {
        messageId,
        type: message.properties.type ?? null,
        contentType: message.properties.contentType ?? null,
        contentEncoding: gunzipped ? 'utf-8' : (received ?? null),
        ...(gunzipped ? { receivedContentEncoding: received } : {}),
        correlationId: message.properties.correlationId ?? null,
        timestamp: message.properties.timestamp ?? null,
        headers,
      },
      body,
      dead_lettered_at: Number.isNaN(at.getTime()) ? new Date() : at,
    });
  }
}

function eventTypeOf(content: Buffer): string | null {
  try {
    const type = (JSON.parse(content.toString('utf8')) as { type?: unknown }).type;
    return typeof type === 'string' ? type.slice(0, 100) : null;
  } catch {
    return null;
  }
}

/** A letter the broker dead-lettered itself (delivery limit reached) carries `x-death`. */
function brokerReason(headers: Record<string, unknown>): string {
  const death = (headers['x-death'] as { reason?: string }[] | undefined)?.[0];
  return death?.reason ? `broker_${death.reason}` : 'broker_dead_lettered';
}
