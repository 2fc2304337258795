import { context, trace } from '@opentelemetry/api';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { EventType, SagaEvent } from '../contracts/events.js';
import { isNonRetryableError } from '../errors/non-retryable-error.js';
import type { Logger } from '../logging/logger.js';
import type { MessagingMetrics } from '../observability/metrics.js';
import { endConsumeSpan, noteDecodedBodySize, startConsumeSpan } from '../observability/messaging-spans.js';
import { recordError } from '../observability/trace-context.js';
import { redactText } from '../logging/redact.js';
import { bodyEncodingOf } from './body-encoding.js';
import { DEAD_LETTER_HEADERS, type DeadLetterReason } from './dead-letter-headers.js';
import type { EventPublisher } from './event-publisher.js';
import { decodeEvent } from './message-decoder.js';
import { retryDelayMs } from './retry-schedule.js';
import { ChannelRecovery } from './channel-recovery.js';
import { assertConsumerTopology, lanesOf, type ConsumerTopology, type LaneBindings } from './service-topology.js';
import { isUnroutableEventError } from './unroutable-event-error.js';
import type { Lane, TopologyNames } from './topology-names.js';

export interface HandlerContext {
  logger: Logger;
  /** 0 on the first try, then the number of retries so far. */
  retryCount: number;
}

export type EventHandler<T extends EventType> = (event: SagaEvent<T>, context: HandlerContext) => Promise<void>;
export type HandlerMap = { [K in EventType]?: EventHandler<K> };

export interface EventConsumerOptions {
  connection: AmqpConnectionManager;
  names: TopologyNames;
  service: string;
  /**
   * Every event the service handles, whichever lane it arrives on: an event of the other lane's
   * role still turns up here when it was queued before the service had lanes, or replayed from a
   * dead letter of that time.
   */
  handlers: HandlerMap;
  /** The lane this consumer takes messages from. @defaultValue 'step' */
  lane?: Lane;
  /**
   * The routing keys bound to each lane's queue (the consumer declares every lane, so that either
   * lane's consumer may start first). @defaultValue every handler's key on the step lane
   */
  bindings?: LaneBindings;
  /** Used for retries and dead letters, so both are confirmed before the original is acked. */
  publisher: EventPublisher;
  logger: Logger;
  prefetch: number;
  /** Tries before dead-lettering, the first included. */
  maxAttempts: number;
  retryBaseDelayMs: number;
  /** Where consumed, retried and dead-lettered messages and handling durations are counted. */
  metrics?: MessagingMetrics;
  /** Told of each retry once its copy is in the delay queue (the status reports pass it on). */
  onRetry?: (retry: RetryNote) => void;
}

/** A handler failure sent to a delay queue to be tried again: for the order's timeline. */
export interface RetryNote {
  service: string;
  event_id: string;
  event_type: string;
  /** The saga's order (the envelope's correlation id). */
  order_id: string;
  /** 1 for the first retry. */
  attempt: number;
  error: string;
  retried_at: string;
}

/** What became of a delivery: the `outcome` label of messaging_process_duration_seconds. */
interface Settled {
  outcome: 'ack' | 'retry' | 'dead_letter' | 'requeue';
  /** Unset when the message could not be read. */
  eventType?: string;
  reason?: DeadLetterReason;
}

/** A consumer's lane as the status reports show it. */
export interface LaneState {
  lane: Lane;
  queue: string;
  retryQueues: string[];
  /** Not subscribed: paused while a dependency is down, or stopped. */
  paused: boolean;
  /** Messages delivered to this consumer and not settled yet. */
  unacked: number;
}

/**
 * Consumes one lane of a service's queues (see {@link Lane}; a service runs one consumer per lane,
 * each on its own channel with its own prefetch). Per message: decode and validate (unparseable or
 * schema-invalid → dead-letter queue at once), run the handler, then ack. A failing handler is
 * retried through the lane's own delay queues (it comes back to the lane it left) with exponential
 * backoff and jitter, and dead-lettered with its failure once the attempts are spent, or at once
 * when it throws a NonRetryableError. The ack always comes after the handler's own commit and after
 * any retry/dead-letter publish is confirmed, so a crash at any point redelivers instead of losing;
 * handlers are idempotent (inbox) for that reason.
 */
export class EventConsumer {
  private readonly channel: ChannelWrapper;
  private readonly inFlight = new Set<Promise<void>>();
  /** The raw channel of the current connection, captured in setup (re-run on every reconnect). */
  private current: Channel | undefined;
  private consuming = false;
  private prefetch = 0;
  private stopped = false;
  /** pause()/resume()/stop() run one after another, so a subscription is never made twice. */
  private transitions: Promise<void> = Promise.resolve();
  private readonly recovery: ChannelRecovery;
  private readonly topology: ConsumerTopology;
  /** The lane this consumer takes messages from. */
  readonly lane: Lane;
  private readonly logger: Logger;

  constructor(private readonly options: EventConsumerOptions) {
    const { names, service } = options;
    this.lane = options.lane ?? 'step';
    const logger = options.logger.child({ lane: this.lane });
    this.logger = logger;
    this.topology = {
      names,
      service,
      bindings: options.bindings ?? { step: Object.keys(options.handlers), compensation: [] },
      retryLevels: Math.max(0, options.maxAttempts - 1),
    };
    if (!lanesOf(this.topology.bindings).includes(this.lane)) {
      throw new RangeError(`${service} has no ${this.lane} lane: no routing key is bound to it`);
    }
    const name = this.lane === 'step' ? `${service}-consumer` : `${service}-${this.lane}-consumer`;
    this.recovery = new ChannelRecovery({ connection: options.connection, logger, name });
    this.channel = options.connection.createChannel({
      name,
      setup: async (channel: Channel) => {
        channel.on('error', (error) => logger.warn('consumer channel error', { error }));
        this.recovery.watch(channel);
        this.current = channel;
        await assertConsumerTopology(channel, this.topology);
        this.recovery.ready();
      },
    });
    this.channel.on('error', (error) => logger.warn('consumer channel wrapper error', { error }));
  }

  /** The lane's queue, its delay queues, and what this consumer holds: for the status reports. */
  get state(): LaneState {
    const { names, service } = this.options;
    return {
      lane: this.lane,
      queue: names.queue(service, this.lane),
      retryQueues: Array.from({ length: this.topology.retryLevels }, (_, i) => names.retryQueue(service, i + 1, this.lane)),
      paused: !this.consuming,
      unacked: this.inFlight.size,
    };
  }

  /** Declares the topology and starts consuming. */
  async start(): Promise<void> {
    await this.channel.waitForConnect();
    await this.resume();
  }

  /**
   * Stops taking new messages (they wait in the queue, durable, spending none of their attempts);
   * the ones in hand finish. Used while a dependency is known to be down (an open circuit).
   */
  pause(): Promise<void> {
    return this.transition(async () => {
      if (!this.consuming) return;
      this.consuming = false;
      await this.channel.cancelAll();
      this.logger.warn('consumer paused');
    });
  }

  /**
   * Subscribes again after pause(), taking at most `prefetch` unacked messages at a time (e.g. 1
   * while a circuit is half-open, so a single trial runs). Re-subscribes when the limit changes.
   */
  resume(prefetch: number = this.options.prefetch): Promise<void> {
    return this.transition(async () => {
      if (this.stopped || (this.consuming && this.prefetch === prefetch)) return;
      if (this.consuming) await this.channel.cancelAll();
      // The wrapper remembers the subscription and makes it again on every reconnect.
      const queue = this.options.names.queue(this.options.service, this.lane);
      await this.channel.consume(queue, (message) => this.track(message), { prefetch });
      this.consuming = true;
      this.prefetch = prefetch;
    });
  }

  /** Stops taking messages, lets the ones in hand finish (and be acked), then closes the channel. */
  async stop(): Promise<void> {
    this.recovery.stop();
    await this.transition(async () => {
      this.stopped = true;
      this.consuming = false;
      await this.channel.cancelAll().catch(() => undefined);
    });
    await Promise.allSettled([...this.inFlight]);
    await this.channel.close().catch(() => undefined);
  }

  private transition(step: () => Promise<void>): Promise<void> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }

  private track(message: ConsumeMessage): void {
    // The raw channel the message came on: after a reconnect its delivery tag means nothing on the
    // new channel (acking it there would close that channel), so acks go to the channel of origin.
    const origin = this.current;
    const started = performance.now();
    // The delivery's CONSUMER span, child of its publish's, from delivery to ack or forward; the
    // handler runs inside it, so the events it emits (their outbox rows) and its log lines belong to it.
    const { span, context: traced } = startConsumeSpan(message, this.options.names.queue(this.options.service, this.lane), originalRoutingKey(message));
    const processed = context.with(traced, () => this.process(message, origin));
    void processed.then(
      (settled) => endConsumeSpan(span, settled),
      () => endConsumeSpan(span, undefined),
    );
    const work = processed.then(
      (settled) => this.count(settled, started),
      (error: unknown) => {
        // process() handles its own failures; this is a last guard against an unhandled rejection.
        this.logger.error('message processing failed unexpectedly', { error });
      },
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async process(message: ConsumeMessage, origin: Channel | undefined): Promise<Settled> {
    const { logger } = this;
    // A gzip'd body (content_encoding gzip) is gunzipped; forwarded to a delay or dead-letter queue,
    // the message keeps its own bytes and properties, so body and content_encoding stay together.
    const decoded = decodeEvent(message.content, message.properties.contentEncoding);
    this.countBody(message, decoded.jsonBytes);
    if (decoded.jsonBytes !== undefined && decoded.jsonBytes !== message.content.length) noteDecodedBodySize(decoded.jsonBytes);
    if (!decoded.ok) {
      logger.warn('message rejected', { reason: decoded.reason, detail: redactText(decoded.detail) });
      return this.deadLetter(message, decoded.reason, decoded.detail, origin);
    }
    const event = decoded.event;
    const retryCount = Number(message.properties.headers?.[DEAD_LETTER_HEADERS.retryCount] ?? 0) || 0;
    const eventLogger = logger.child({ correlation_id: event.correlation_id, event_id: event.id, event_type: event.type });
    const handler = this.options.handlers[event.type] as EventHandler<EventType> | undefined;
    if (!handler) {
      // Only bound routing keys arrive here; anything else was routed by hand: not ours to keep.
      return this.deadLetter(message, 'unknown_type', `no handler for ${event.type}`, origin);
    }
    try {
      await handler(event, { logger: eventLogger, retryCount });
      this.ack(message, origin);
      return { outcome: 'ack', eventType: event.type };
    } catch (error) {
      // The active span is this delivery's (track runs process inside it).
      const span = trace.getActiveSpan();
      if (span) recordError(span, error);
      const detail = error instanceof Error ? error.message : String(error);
      if (isNonRetryableError(error)) {
        eventLogger.warn('handler rejected the event', { error });
        return this.deadLetter(message, 'handler_rejected', detail, origin, event.type);
      } else if (retryCount + 1 >= this.options.maxAttempts) {
        eventLogger.error('handler failed; retries exhausted', { error, retry_count: retryCount });
        return this.deadLetter(message, 'retries_exhausted', detail, origin, event.type);
      } else {
        eventLogger.warn('handler failed; retrying later', { error, retry_count: retryCount });
        const settled = await this.retryLater(message, retryCount + 1, detail, origin, event.type);
        if (settled.outcome === 'retry') {
          this.options.onRetry?.({
            service: this.options.service,
            event_id: event.id,
            event_type: event.type,
            order_id: event.correlation_id,
            attempt: retryCount + 1,
            error: redactText(detail).slice(0, 1000),
            retried_at: new Date().toISOString(),
          });
        }
        return settled;
      }
    }
  }

  private async retryLater(message: ConsumeMessage, retry: number, detail: string, origin: Channel | undefined, eventType: string): Promise<Settled> {
    const { names, service, retryBaseDelayMs } = this.options;
    const delay = retryDelayMs(retry, { baseDelayMs: retryBaseDelayMs });
    const forwarded = await this.forward(message, origin, names.retryQueue(service, retry, this.lane), {
      expiration: String(delay),
      headers: {
        ...message.properties.headers,
        [DEAD_LETTER_HEADERS.retryCount]: retry,
        [DEAD_LETTER_HEADERS.routingKey]: originalRoutingKey(message),
        [DEAD_LETTER_HEADERS.error]: redactText(detail).slice(0, 1000),
      },
    });
    return { outcome: forwarded ? 'retry' : 'requeue', eventType };
  }

  private async deadLetter(
    message: ConsumeMessage,
    reason: DeadLetterReason,
    detail: string,
    origin: Channel | undefined,
    eventType?: string,
  ): Promise<Settled> {
    const { names, service } = this.options;
    const forwarded = await this.forward(message, origin, names.deadLetterQueue(service), {
      headers: {
        ...message.properties.headers,
        [DEAD_LETTER_HEADERS.reason]: reason,
        [DEAD_LETTER_HEADERS.error]: redactText(detail).slice(0, 1000),
        [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
        [DEAD_LETTER_HEADERS.queue]: names.queue(service, this.lane),
        [DEAD_LETTER_HEADERS.routingKey]: originalRoutingKey(message),
      },
    });
    return forwarded ? { outcome: 'dead_letter', eventType, reason } : { outcome: 'requeue', eventType };
  }

  /** Copies the message to `queue` (confirmed), then acks the original; false when it was put back instead. */
  private async forward(
    message: ConsumeMessage,
    origin: Channel | undefined,
    queue: string,
    overrides: { expiration?: string; headers: Record<string, unknown> },
  ): Promise<boolean> {
    const { expiration: _dropped, ...properties } = message.properties;
    try {
      await this.options.publisher.sendToQueue(queue, message.content, {
        ...properties,
        ...(overrides.expiration === undefined ? {} : { expiration: overrides.expiration }),
        headers: overrides.headers,
      } as never);
    } catch (error) {
      // Not confirmed, or returned: give the original back to the queue; the broker's delivery
      // limit bounds the loop. A returned copy means the target queue is gone: declare this
      // consumer's queues again first, so the redelivery finds it.
      this.logger.warn('could not forward message; requeueing it', { error, queue });
      if (isUnroutableEventError(error) && origin) {
        await assertConsumerTopology(origin, this.topology).catch((declareError: unknown) =>
          this.logger.warn('could not declare the consumer topology again', { error: declareError }),
        );
      }
      try {
        origin?.nack(message, false, true);
      } catch {
        // channel gone: the broker redelivers anyway
      }
      return false;
    }
    this.ack(message, origin);
    return true;
  }

  /** Counts a settled delivery; an event type outside the saga's (a poison message's) is `unknown`. */
  private count(settled: Settled, startedAt: number): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const queue = this.options.names.queue(this.options.service, this.lane);
    const eventType = settled.eventType !== undefined && settled.eventType in this.options.handlers ? settled.eventType : 'unknown';
    metrics.consumed.inc({ messaging_destination_name: queue, event_type: eventType });
    metrics.processDuration.observe(
      { messaging_destination_name: queue, event_type: eventType, outcome: settled.outcome },
      (performance.now() - startedAt) / 1000,
    );
    if (settled.outcome === 'retry') metrics.retries.inc({ messaging_destination_name: queue, event_type: eventType });
    if (settled.outcome === 'dead_letter') metrics.deadLetters.inc({ messaging_destination_name: queue, reason: settled.reason ?? 'unknown' });
  }

  /** Counts a delivery's bytes as received, and as JSON when it could be decoded. */
  private countBody(message: ConsumeMessage, jsonBytes: number | undefined): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const labels = {
      messaging_operation_type: 'receive',
      messaging_destination_name: this.options.names.queue(this.options.service, this.lane),
      encoding: bodyEncodingOf(message.properties.contentEncoding),
    };
    metrics.wireBytes.inc(labels, message.content.length);
    if (jsonBytes !== undefined) metrics.bodyBytes.inc(labels, jsonBytes);
  }

  private ack(message: ConsumeMessage, origin: Channel | undefined): void {
    if (!origin) return;
    try {
      origin.ack(message);
    } catch (error) {
      // The channel closed since delivery: the broker redelivers the message; the inbox dedups it.
      this.logger.debug('ack on a closed channel skipped', { error });
    }
  }
}

/** The routing key the message was first published with (a retry arrives keyed by queue name). */
function originalRoutingKey(message: ConsumeMessage): string {
  const kept = message.properties.headers?.[DEAD_LETTER_HEADERS.routingKey];
  return typeof kept === 'string' ? kept : message.fields.routingKey;
}
