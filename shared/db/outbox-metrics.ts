import type { Logger } from '../logging/logger.js';
import { sampledGauge, type MetricsRegistry } from '../observability/metrics.js';
import type { Pool } from './pool.js';

/**
 * `outbox_unpublished_events` and `outbox_oldest_unpublished_age_seconds` (0 when every event is
 * out): how far the relay is behind. Both come from one query on the partial index of unpublished
 * rows, run when Prometheus scrapes (scrapes that come together share it).
 */
export function outboxMetrics(options: { registry: MetricsRegistry; pool: Pool; logger: Pick<Logger, 'debug'> }): void {
  interface Lag {
    count: number;
    age: number;
  }
  let latest: Promise<Lag> | undefined;
  let latestAt = 0;
  // Both gauges are sampled from the same row: whichever Prometheus collects first runs the query.
  const read = (): Promise<Lag> => {
    if (!latest || Date.now() - latestAt > 100) {
      latestAt = Date.now();
      const query = options.pool
        .query<Lag>(
          `SELECT count(*)::int AS count,
                  COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8 AS age
           FROM outbox WHERE published_at IS NULL`,
        )
        .then((result) => result.rows[0] ?? { count: 0, age: 0 });
      query.catch(() => {
        if (latest === query) latest = undefined;
      });
      latest = query;
    }
    return latest;
  };
  sampledGauge({
    registry: options.registry,
    name: 'outbox_unpublished_events',
    help: 'Events written to the outbox and not yet confirmed by the broker.',
    logger: options.logger,
    read: async () => [{ value: (await read()).count }],
  });
  sampledGauge({
    registry: options.registry,
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest event not yet confirmed by the broker (0 when none is waiting).',
    logger: options.logger,
    read: async () => [{ value: (await read()).age }],
  });
}
