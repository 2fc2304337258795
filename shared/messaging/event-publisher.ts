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

/** Carries a publish's own token, so that a returned message is matched to its publish. */
const RETURN_TOKEN_HEADER = 'x-publish-token';

/** After a returned message, the publish topology is declared again at most this often. */
const REDECLARE_EVERY_MS = 5_000;

/** How often publishes on the open channel are checked against the publish timeout. */
const TIMEOUT_CHECK_MS = 1_000;

interface Unconfirmed {
  since: number;
  reject(error: Error): void;
}

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
 *
 * While the channel is open, a publish goes straight onto it with a confirm callback; only while it
 * is not (connecting, reconnecting) does it go through amqp-connection-manager's wrapper, which
 * queues it until the channel is back. The wrapper's own path costs a queue entry, a worker pass and
 * a timer per message. On the bench's messaging peers, where the broker is the bottleneck, the two
 * paths measured the same; in the whole saga, where five processes publish on two busy cores, the
 * wrapper's path cost half as much CPU again per saga, back to back (README, Performance). A
 * publish in flight when the channel closes fails at once ('channel closed'), and one the broker
 * leaves unconfirmed past the publish timeout (a blocked connection) fails then: callers keep the
 * work and send it again (outbox sweep, requeue).
 */
export class EventPublisher {
  private readonly channel: ChannelWrapper;
  /** Tokens of returned publishes whose confirm has not been looked at yet. */
  private readonly returned = new Set<string>();
  /** Numbers this publisher's publishes, to match a return to its publish (see `routed`). */
  private sequence = 0;
  /** The raw channel of the current connection (set up again on every reconnect). */
  private current: ConfirmChannel | undefined;
  /** Whether `current` is set up and open, so publishes can go straight onto it. */
  private open = false;
  private lastRedeclare = 0;
  private readonly recovery: ChannelRecovery;
  /** Direct publishes awaiting their confirm, by number, for the publish timeout. */
  private readonly unconfirmed = new Map<number, Unconfirmed>();
  private unconfirmedSequence = 0;
  private readonly timeoutCheck: NodeJS.Timeout;
  private readonly publishTimeoutMs: number;

  constructor(private readonly options: EventPublisherOptions) {
    const { logger } = options;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.recovery = new ChannelRecovery({ connection: options.connection, logger, name: 'publisher' });
    this.channel = options.connection.createChannel({
      name: 'publisher',
      confirm: true,
      publishTimeout: this.publishTimeoutMs,
      setup: async (channel: ConfirmChannel) => {
        this.open = false;
        channel.on('error', (error) => logger.warn('publisher channel error', { error }));
        channel.on('return', (message: Message) => this.onReturn(message));
        channel.once('close', () => {
          if (this.current === channel) this.open = false;
        });
        this.recovery.watch(channel);
        this.current = channel;
        await this.declare(channel);
        this.open = true;
        this.recovery.ready();
      },
    });
    this.channel.on('error', (error) => logger.warn('publisher channel wrapper error', { error }));
    this.timeoutCheck = setInterval(() => this.failOverdue(), TIMEOUT_CHECK_MS);
    this.timeoutCheck.unref();
  }

  /**
   * Resolves when the broker has confirmed the event and routed it to at least one queue; rejects
   * with an UnroutableEventError when it was returned.
   */
  async publish(envelope: EventEnvelope): Promise<void> {
    const body = Buffer.from(JSON.stringify(envelope));
    const properties = envelopeProperties(envelope);
    const { exchange } = this.options.names;
    await this.routed(
      envelope.type,
      properties,
      (tagged) =>
        this.direct((channel, done) => channel.publish(exchange, envelope.type, body, tagged, done)) ??
        this.channel.publish(exchange, envelope.type, body, tagged),
      { redeclare: true },
    );
  }

  /**
   * Publishes raw content to one queue through the default exchange (retries, dead letters,
   * replays), confirmed. Mandatory too: when the queue is missing (or, on a cluster, unreachable)
   * the broker returns the message, and a message with an id is then reported as not sent, so the
   * caller keeps the original instead of acking it.
   */
  async sendToQueue(queue: string, content: Buffer, properties: Options.Publish): Promise<void> {
    await this.routed(
      queue,
      { ...properties, persistent: true },
      (tagged) =>
        this.direct((channel, done) => channel.sendToQueue(queue, content, tagged, done)) ?? this.channel.sendToQueue(queue, content, tagged),
    );
  }

  /** Resolves once the channel is open (topology asserted). */
  async waitForConnect(): Promise<void> {
    await this.channel.waitForConnect();
  }

  async close(): Promise<void> {
    this.recovery.stop();
    clearInterval(this.timeoutCheck);
    this.open = false;
    await this.channel.close();
  }

  /**
   * Publishes on the open channel, resolving on the broker's confirm; undefined when the channel is
   * not open (or refused the publish before sending it), so the caller goes through the wrapper.
   */
  private direct(send: (channel: ConfirmChannel, done: (error: unknown) => void) => void): Promise<void> | undefined {
    const channel = this.current;
    if (!this.open || !channel) return undefined;
    const id = ++this.unconfirmedSequence;
    let settle!: (error: unknown) => void;
    const confirmed = new Promise<void>((resolve, reject) => {
      this.unconfirmed.set(id, { since: Date.now(), reject });
      settle = (error) => {
        if (!this.unconfirmed.delete(id)) return;
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve();
      };
    });
    try {
      send(channel, settle);
    } catch {
      // Closed under us (amqplib throws before writing anything): the wrapper waits for the reconnect.
      this.unconfirmed.delete(id);
      this.open = false;
      return undefined;
    }
    return confirmed;
  }

  private failOverdue(): void {
    const overdue = Date.now() - this.publishTimeoutMs;
    for (const [id, entry] of this.unconfirmed) {
      if (entry.since > overdue) break; // in order of publishing
      this.unconfirmed.delete(id);
      entry.reject(new Error(`publish not confirmed within ${this.publishTimeoutMs} ms`));
    }
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
