import type { RequestHandler } from 'express';
import { Counter, Histogram } from 'prom-client';
import type { Pool } from '../../shared/db/pool.js';
import type { Logger } from '../../shared/logging/logger.js';
import { sampledGauge, type MetricsRegistry } from '../../shared/observability/metrics.js';
import type { OrderEnding, OrderObserver } from './domain/order-observer.js';

/** From a fast saga (tens of ms) to one that ran into its deadline (SAGA_TIMEOUT_MS, 5 min by default). */
const SAGA_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * order-service's own metrics: how sagas end and how long they take, the orders in progress and
 * past their deadline, and what the API refused or replayed.
 */
export class OrderMetrics implements OrderObserver {
  private readonly duration: Histogram<'order_status'>;
  private readonly ends: Counter<'order_status' | 'cancellation_reason'>;
  private readonly placements: Counter;
  private readonly admissionRejections: Counter;
  private readonly replays: Counter;
  private readonly rateLimited: Counter<'limiter'>;

  constructor(registry: MetricsRegistry, pool: Pool, logger: Logger) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'order_saga_duration_seconds',
      help: 'Time from an order being placed to its saga ending (completed or cancelled).',
      labelNames: ['order_status'],
      buckets: SAGA_DURATION_BUCKETS,
      registers,
    });
    this.ends = new Counter({
      name: 'order_sagas_ended_total',
      help: 'Orders that reached completed or cancelled, by status and cancellation reason (empty when completed).',
      labelNames: ['order_status', 'cancellation_reason'],
      registers,
    });
    this.placements = new Counter({ name: 'orders_placed_total', help: 'Orders accepted by POST /orders (replays not counted).', registers });
    this.admissionRejections = new Counter({
      name: 'order_admission_rejections_total',
      help: 'POST /orders refused with 503 overloaded by admission control.',
      registers,
    });
    this.replays = new Counter({
      name: 'idempotency_replays_total',
      help: 'Requests answered from an earlier one with the same Idempotency-Key (Idempotent-Replayed: true).',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused with 429 by the rate limit, by limiter (customer: with a token; anonymous: by address).',
      labelNames: ['limiter'],
      registers,
    });
    // One query for both gauges, on the partial index of open orders.
    let open: Promise<{ in_progress: number; past_deadline: number }> | undefined;
    const readOpen = () =>
      (open ??= pool
        .query<{ in_progress: number; past_deadline: number }>(
          `SELECT count(*)::int AS in_progress, (count(*) FILTER (WHERE deadline_at < clock_timestamp()))::int AS past_deadline
           FROM orders WHERE status NOT IN ('completed', 'cancelled')`,
        )
        .then((result) => result.rows[0] ?? { in_progress: 0, past_deadline: 0 })
        .finally(() => setTimeout(() => (open = undefined), 100).unref()));
    sampledGauge({
      registry,
      name: 'orders_in_progress',
      help: 'Orders accepted and not yet completed or cancelled.',
      logger,
      read: async () => [{ value: (await readOpen()).in_progress }],
    });
    sampledGauge({
      registry,
      name: 'orders_past_deadline',
      help: 'Orders in progress past their saga deadline: the deadline sweeper should cancel them within DEADLINE_SWEEP_MS.',
      logger,
      read: async () => [{ value: (await readOpen()).past_deadline }],
    });
  }

  placed(): void {
    this.placements.inc();
  }

  ended(ending: OrderEnding): void {
    const seconds = Math.max(0, (Date.now() - ending.created_at.getTime()) / 1000);
    this.duration.observe({ order_status: ending.status }, seconds);
    this.ends.inc({ order_status: ending.status, cancellation_reason: ending.status === 'cancelled' ? (ending.cancellation_reason ?? '') : '' });
  }

  /**
   * Counts, from each answer, admission-control refusals (503 overloaded), rate-limit refusals (429)
   * and Idempotency-Key replays: wherever in the chain they were decided, the answer tells.
   */
  apiOutcomes(): RequestHandler {
    return (_req, res, next) => {
      res.once('finish', () => {
        if (res.getHeader('Idempotent-Replayed') === 'true') this.replays.inc();
        else if (res.statusCode === 503 && res.locals.overloaded === true) this.admissionRejections.inc();
        else if (res.statusCode === 429) this.rateLimited.inc({ limiter: res.locals.principal ? 'customer' : 'anonymous' });
      });
      next();
    };
  }
}
