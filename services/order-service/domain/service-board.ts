import type { BreakerState, ServiceStatus } from '../../../shared/observability/service-status.js';

/** An instance as the Services page lists it. */
export interface InstanceView {
  instance: string;
  started_at: string;
  last_seen: string;
  /** Reported within its last three intervals, and not stopping. */
  up: boolean;
  paused_lanes: string[];
  unacked: number;
  breakers: ServiceStatus['breakers'];
}

/** One minute of a service's message handling, all its instances together. */
export interface MinuteView {
  start: string;
  handled: number;
  failed: number;
  /** Estimated from the duration buckets, as Prometheus's histogram_quantile does; null: nothing handled. */
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface ServiceView {
  service: string;
  instances_up: number;
  instances: InstanceView[];
  /** The broker's figures (ready, consumers) and the instances' (unacked summed, paused counted). */
  lanes: Array<{ lane: string; queue: string; ready: number | null; consumers: number | null; unacked: number; paused_instances: number }>;
  retry_queues: ServiceStatus['retry_queues'];
  dead_letter_queue: ServiceStatus['dead_letter_queue'];
  /** Dead letters archived and waiting for an operator (the Dead letters page). */
  open_dead_letters: number;
  outbox: ServiceStatus['outbox'];
  /** Each circuit's worst state over the instances up (each instance has its own circuit). */
  breakers: Array<{ name: string; state: BreakerState; open_instances: number }>;
  minutes: MinuteView[];
}

/** Instances gone this long ago are no longer listed. */
const FORGET_MS = 15 * 60_000;
const WORST: BreakerState[] = ['closed', 'half_open', 'open'];

/**
 * The last status report of every instance of every service, as received from the status
 * exchange, and the Services page's view of them. Held in memory: it is telemetry each instance
 * repeats every few seconds, so a restarted order-service has the whole picture again within one
 * interval (and each report carries its last 15 minutes).
 */
export class ServiceBoard {
  private readonly reports = new Map<string, { status: ServiceStatus; receivedAt: number }>();

  constructor(
    private readonly services: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  receive(status: ServiceStatus): void {
    this.reports.set(`${status.service} ${status.instance}`, { status, receivedAt: this.now() });
  }

  view(openDeadLetters: ReadonlyMap<string, number>): ServiceView[] {
    const now = this.now();
    for (const [key, report] of this.reports) if (now - report.receivedAt > FORGET_MS) this.reports.delete(key);
    const known = [...new Set([...this.services, ...[...this.reports.values()].map((report) => report.status.service)])];
    return known.map((service) => {
      const reports = [...this.reports.values()].filter((report) => report.status.service === service).sort((a, b) => b.receivedAt - a.receivedAt);
      const isUp = (report: (typeof reports)[number]) => !report.status.stopping && now - report.receivedAt <= 3 * Math.max(report.status.interval_ms, 1_000);
      const up = reports.filter(isUp).map((report) => report.status);
      // Broker and table figures are the same whoever reads them: the latest report's are the freshest.
      const latest = reports[0]?.status;
      return {
        service,
        instances_up: up.length,
        instances: reports.map((report) => instanceView(report.status, report.receivedAt, isUp(report))),
        lanes: (latest?.lanes ?? []).map((lane) => {
          const of = up.map((status) => status.lanes.find((each) => each.lane === lane.lane)).filter((each) => each !== undefined);
          return {
            lane: lane.lane,
            queue: lane.queue,
            ready: lane.ready,
            consumers: lane.consumers,
            unacked: of.reduce((sum, each) => sum + each.unacked, 0),
            paused_instances: of.filter((each) => each.paused).length,
          };
        }),
        retry_queues: latest?.retry_queues ?? [],
        dead_letter_queue: latest?.dead_letter_queue ?? { queue: '', ready: null },
        open_dead_letters: openDeadLetters.get(service) ?? 0,
        outbox: latest?.outbox ?? { unpublished: null, oldest_age_seconds: null },
        breakers: breakersOf(up),
        minutes: minutesOf(reports.map((report) => report.status)),
      };
    });
  }
}

function instanceView(status: ServiceStatus, receivedAt: number, up: boolean): InstanceView {
  return {
    instance: status.instance,
    started_at: status.started_at,
    last_seen: new Date(receivedAt).toISOString(),
    up,
    paused_lanes: status.lanes.filter((lane) => lane.paused).map((lane) => lane.lane),
    unacked: status.lanes.reduce((sum, lane) => sum + lane.unacked, 0),
    breakers: status.breakers,
  };
}

function breakersOf(up: ServiceStatus[]): ServiceView['breakers'] {
  const byName = new Map<string, BreakerState[]>();
  for (const status of up) for (const breaker of status.breakers) byName.set(breaker.name, [...(byName.get(breaker.name) ?? []), breaker.state]);
  return [...byName].map(([name, states]) => ({
    name,
    state: WORST[Math.max(...states.map((state) => WORST.indexOf(state)))]!,
    open_instances: states.filter((state) => state === 'open').length,
  }));
}

/** Every instance's minutes added up (instances gone since still count for the minutes they reported). */
function minutesOf(statuses: ServiceStatus[]): MinuteView[] {
  const merged = new Map<string, { handled: number; failed: number; buckets: number[]; bounds: number[] }>();
  for (const status of statuses) {
    for (const minute of status.minutes) {
      const into = merged.get(minute.start) ?? { handled: 0, failed: 0, buckets: [], bounds: status.bucket_bounds };
      into.handled += minute.handled;
      into.failed += minute.failed;
      minute.buckets.forEach((count, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + count));
      merged.set(minute.start, into);
    }
  }
  return [...merged]
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(-15)
    .map(([start, minute]) => ({
      start,
      handled: minute.handled,
      failed: minute.failed,
      p50_ms: quantileMs(0.5, minute.bounds, minute.buckets),
      p95_ms: quantileMs(0.95, minute.bounds, minute.buckets),
    }));
}

/**
 * The q-quantile of a histogram's cumulative buckets (`buckets[i]` counts values ≤ `bounds[i]`, the
 * last one all), interpolated linearly inside its bucket like Prometheus's histogram_quantile; in
 * the +Inf bucket it is the highest bound.
 */
export function quantileMs(q: number, bounds: number[], buckets: number[]): number | null {
  const total = buckets[buckets.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  const i = buckets.findIndex((count) => count >= rank);
  if (i >= bounds.length) return bounds[bounds.length - 1]! * 1000;
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : buckets[i - 1]!;
  const inBucket = buckets[i]! - below;
  return (lower + (bounds[i]! - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1)) * 1000;
}
