import { hostname } from 'node:os';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { Logger } from '../logging/logger.js';
import type { LaneState, RetryNote } from '../messaging/event-consumer.js';
import type { QueueInspector } from '../messaging/queue-inspector.js';
import type { TopologyNames } from '../messaging/topology-names.js';
import { PROCESS_DURATION_BUCKETS, type MetricsRegistry } from './metrics.js';
import { MinuteHistory, type Cumulative } from './minute-history.js';

/** A queue and the messages ready in it (null: the broker could not be asked). */
export interface QueueStatus {
  queue: string;
  ready: number | null;
}

/**
 * What one instance of a service reports of itself every STATUS_INTERVAL_MS on the status
 * exchange (and at `GET /status` on a participant's health port): its lanes, queues, outbox,
 * circuit breakers, and the messages it handled in each of the last 15 minutes. Read by
 * order-service for the console's Services page.
 */
export interface ServiceStatus {
  service: string;
  /** `host:pid`, unique among the service's instances. */
  instance: string;
  started_at: string;
  sent_at: string;
  /** The instance reports this often: one silent for three intervals is gone. */
  interval_ms: number;
  /** The instance's last report: it is shutting down. */
  stopping: boolean;
  lanes: Array<QueueStatus & { lane: string; consumers: number | null; unacked: number; paused: boolean }>;
  retry_queues: QueueStatus[];
  dead_letter_queue: QueueStatus;
  outbox: { unpublished: number | null; oldest_age_seconds: number | null };
  breakers: Array<{ name: string; state: BreakerState }>;
  /** Upper bounds (seconds) of `minutes[].buckets`; one bucket more than bounds: the last is +Inf. */
  bucket_bounds: number[];
  /** Messages this instance settled per minute, oldest first, the current minute last. */
  minutes: Array<{ start: string; handled: number; failed: number; buckets: number[] }>;
}

/** The AMQP `type` of a status report, and of a retry note, on the status exchange. */
export const STATUS_TYPE = 'service.status';
export const RETRY_TYPE = 'service.retry';

export type BreakerState = 'closed' | 'half_open' | 'open';
const BREAKER_STATES: BreakerState[] = ['closed', 'half_open', 'open'];

/** Instances of one service in one process (the test stacks) get `#2`, `#3` … after `host:pid`. */
const instancesInProcess = new Map<string, number>();

/**
 * Publishes this instance's {@link ServiceStatus} on the status exchange (fanout) every interval,
 * as a transient message that expires after three intervals: telemetry, nothing waits for it and
 * nothing is lost without it. Most figures come from the service's own Prometheus registry
 * (outbox, breakers, message durations), the queues' from the broker, the lanes' from the consumer.
 */
export class ServiceStatusReporter {
  readonly instance: string;
  private readonly startedAt = new Date().toISOString();
  private readonly history = new MinuteHistory();
  private readonly channel: ChannelWrapper;
  private consumers: Array<{ lanes(): LaneState[] }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      service: string;
      connection: AmqpConnectionManager;
      names: TopologyNames;
      registry: MetricsRegistry;
      inspector: QueueInspector;
      /** 0: no reports are published (`GET /status` still answers). */
      intervalMs: number;
      logger: Logger;
    },
  ) {
    const base = `${hostname()}:${process.pid}`;
    const seen = (instancesInProcess.get(`${options.service}@${base}`) ?? 0) + 1;
    instancesInProcess.set(`${options.service}@${base}`, seen);
    this.instance = seen === 1 ? base : `${base}#${seen}`;
    this.channel = options.connection.createChannel({
      name: 'status-reporter',
      setup: (channel: Channel) => channel.assertExchange(options.names.statusExchange, 'fanout', { durable: true }),
    });
    this.channel.on('error', (error) => options.logger.debug('status channel error', { error }));
  }

  /** The consumer whose lanes the reports show (a participant has one; order-service too). */
  track(consumer: { lanes(): LaneState[] }): void {
    this.consumers.push(consumer);
  }

  start(): void {
    if (this.options.intervalMs === 0 || this.timer) return;
    const tick = () => void this.publish(false);
    this.timer = setInterval(tick, this.options.intervalMs).unref();
    tick();
  }

  /** Stops reporting, after a last report that says the instance is going (the console drops it at once). */
  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.publish(true);
    }
    await this.channel.close().catch(() => undefined);
  }

  /**
   * Passes a retry on (type `service.retry`), for the order's timeline in the console: best effort,
   * like the reports — skipped while the broker is away, and not sent when reports are off.
   */
  retried(retry: RetryNote): void {
    if (this.options.intervalMs === 0 || !this.options.connection.isConnected()) return;
    this.channel
      .publish(this.options.names.statusExchange, '', Buffer.from(JSON.stringify(retry)), {
        contentType: 'application/json',
        type: RETRY_TYPE,
        persistent: false,
        expiration: '60000',
      })
      .catch((error: unknown) => this.options.logger.debug('retry note not published', { error }));
  }

  async snapshot(stopping = false): Promise<ServiceStatus> {
    const { names, service, intervalMs } = this.options;
    const now = Date.now();
    const lanes = this.consumers.flatMap((consumer) => consumer.lanes());
    const [laneFigures, retryQueues, deadLetterQueue, outbox, breakers, cumulative] = await Promise.all([
      Promise.all(lanes.map((lane) => this.figures(lane.queue))),
      Promise.all(lanes.flatMap((lane) => lane.retryQueues).map(async (queue) => ({ queue, ready: (await this.figures(queue))?.ready ?? null }))),
      this.figures(names.deadLetterQueue(service)),
      this.outbox(),
      this.breakers(),
      this.processed(),
    ]);
    this.history.record(now, cumulative);
    return {
      service,
      instance: this.instance,
      started_at: this.startedAt,
      sent_at: new Date(now).toISOString(),
      interval_ms: intervalMs,
      stopping,
      lanes: lanes.map((lane, i) => ({
        lane: lane.lane,
        queue: lane.queue,
        ready: laneFigures[i]?.ready ?? null,
        consumers: laneFigures[i]?.consumers ?? null,
        unacked: lane.unacked,
        paused: lane.paused,
      })),
      retry_queues: retryQueues,
      dead_letter_queue: { queue: names.deadLetterQueue(service), ready: deadLetterQueue?.ready ?? null },
      outbox,
      breakers,
      bucket_bounds: PROCESS_DURATION_BUCKETS,
      minutes: this.history.minutes(now).map((minute) => ({
        start: new Date(minute.start).toISOString(),
        handled: minute.count,
        failed: minute.failed,
        buckets: minute.buckets,
      })),
    };
  }

  private async publish(stopping: boolean): Promise<void> {
    // While the broker is away a report would wait in memory: it is skipped instead.
    if (!this.options.connection.isConnected()) return;
    try {
      const status = await this.snapshot(stopping);
      await this.channel.publish(this.options.names.statusExchange, '', Buffer.from(JSON.stringify(status)), {
        contentType: 'application/json',
        type: STATUS_TYPE,
        persistent: false,
        expiration: String(Math.max(3 * this.options.intervalMs, 1_000)),
      });
    } catch (error) {
      this.options.logger.debug('status not published', { error });
    }
  }

  private async figures(queue: string) {
    try {
      return await this.options.inspector.figures(queue);
    } catch {
      return undefined;
    }
  }

  private async gauge(name: string) {
    const metric = this.options.registry.getSingleMetric(name);
    return metric ? (await metric.get()).values : [];
  }

  private async outbox(): Promise<ServiceStatus['outbox']> {
    const [unpublished, age] = await Promise.all([this.gauge('outbox_unpublished_events'), this.gauge('outbox_oldest_unpublished_age_seconds')]);
    return { unpublished: unpublished[0]?.value ?? null, oldest_age_seconds: age[0]?.value ?? null };
  }

  /** payment-service's circuits (`circuit_breaker_state`: 0 closed, 1 half-open, 2 open); none elsewhere. */
  private async breakers(): Promise<ServiceStatus['breakers']> {
    return (await this.gauge('circuit_breaker_state')).map((sample) => ({
      name: String(sample.labels.breaker),
      state: BREAKER_STATES[sample.value] ?? 'open',
    }));
  }

  /** `messaging_process_duration_seconds` summed over queues, event types and outcomes. */
  private async processed(): Promise<Cumulative> {
    const bounds = [...PROCESS_DURATION_BUCKETS, Number.POSITIVE_INFINITY];
    const reading: Cumulative = { count: 0, failed: 0, buckets: bounds.map(() => 0) };
    for (const sample of await this.gauge('messaging_process_duration_seconds')) {
      const name = (sample as { metricName?: string }).metricName ?? '';
      if (name.endsWith('_count')) {
        reading.count += sample.value;
        if (sample.labels.outcome === 'retry' || sample.labels.outcome === 'dead_letter') reading.failed += sample.value;
      } else if (name.endsWith('_bucket')) {
        const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
        const i = bounds.indexOf(le);
        if (i >= 0) reading.buckets[i]! += sample.value;
      }
    }
    return reading;
  }
}
