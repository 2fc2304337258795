import { assertPostgresConnects } from '../../shared/db/check-postgres.js';
import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool } from '../../shared/db/pool.js';
import { pruneJob } from '../../shared/db/prune-job.js';
import { durationSetting } from '../../shared/config/retention-env.js';
import { queueName } from '../../shared/jobs/job-names.js';
import { jobMetrics } from '../../shared/jobs/job-metrics.js';
import { JobRunner } from '../../shared/jobs/job-runner.js';
import { pruneCron } from '../../shared/jobs/prune-schedule.js';
import { listen } from '../../shared/http/health-server.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { httpServerMetrics } from '../../shared/observability/http-metrics.js';
import { createMetricsRegistry, startMetricsServer, type MetricsRegistry, type MetricsServer } from '../../shared/observability/metrics.js';
import { assertReachable } from '../../shared/startup/check-dependencies.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import { providerSchema, type PaymentProviderConfig } from './config.js';
import { expiredKeysPrune } from './data-access/idempotency-repository.js';
import { Faults } from './domain/faults.js';
import { createProviderApp } from './entry-points/http/create-app.js';
import { HeldResponses } from './entry-points/http/held-responses.js';

export const SERVICE = 'payment-provider';

export interface PaymentProviderOptions {
  /** @defaultValue a logger for the service at the configured LOG_LEVEL */
  logger?: Logger;
}

/**
 * Starts the mock payment provider: Stripe-like HTTP API over its own Postgres ledger.
 * Checks Postgres is reachable, migrates the `<NAMESPACE>payment_provider` schema, opens the pool,
 * listens on HOST:PORT (PORT 0 picks a free port; `url` has the real one) and starts its one job,
 * the prune of expired Idempotency-Keys (pg-boss, in the namespace's jobs schema, where
 * `npm run jobs` sees it when the provider shares the services' database).
 */
export async function startPaymentProvider(config: PaymentProviderConfig, options: PaymentProviderOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  // First: a port already taken stops the start before anything is connected or migrated.
  const metrics = createMetricsRegistry();
  const metricsServer = await startMetricsServer({ registry: metrics, port: config.METRICS_PORT, host: config.HOST, logger });
  try {
    return await startProvider(config, logger, metrics, metricsServer);
  } catch (error) {
    await metricsServer.close();
    throw error;
  }
}

async function startProvider(config: PaymentProviderConfig, logger: Logger, metrics: MetricsRegistry, metricsServer: MetricsServer): Promise<RunningService> {
  await assertReachable('PostgreSQL', config.DATABASE_URL);
  await assertPostgresConnects(config.DATABASE_URL);
  const schema = providerSchema(config);
  // The ledger has no outbox or inbox: only its own folder of migrations.
  await migrate({ connectionString: config.DATABASE_URL, schema, dir: migrationDirs(SERVICE)[1] as string, logger });
  const pool = createPool({ connectionString: config.DATABASE_URL, schema, max: config.DB_POOL_SIZE, logger });
  const held = new HeldResponses();
  const app = createProviderApp({
    pool,
    apiKey: config.PAYMENT_PROVIDER_API_KEY,
    faults: config.FAULT_INJECTION_ENABLED ? new Faults() : undefined,
    held,
    keyTtlSeconds: config.IDEMPOTENCY_TTL_S,
    logger,
    observers: [httpServerMetrics(metrics)],
  });
  let http: Awaited<ReturnType<typeof listen>>;
  try {
    http = await listen(app, config.PORT, config.HOST);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const jobs = new JobRunner({
    pool,
    namespace: config.NAMESPACE,
    service: SERVICE,
    logger,
    pollIntervalMs: config.JOBS_POLL_MS,
    observe: jobMetrics(metrics),
  }).define(
    pruneJob({
      name: 'idempotency-key-prune',
      cron: pruneCron(durationSetting('RETENTION_INTERVAL', config.RETENTION_INTERVAL), queueName(SERVICE, 'idempotency-key-prune')),
      pool,
      statement: expiredKeysPrune(config.IDEMPOTENCY_TTL_S),
    }),
  );
  try {
    await jobs.start();
  } catch (error) {
    await jobs.stop().catch(() => undefined);
    await http.close();
    await pool.end();
    throw error;
  }
  logger.info('service started', { url: http.url, metrics: metricsServer.url, fault_injection: config.FAULT_INJECTION_ENABLED });
  return {
    url: http.url,
    async stop() {
      await jobs.stop();
      // Requests held unanswered by fault injection would otherwise keep close() waiting.
      held.destroyAll();
      await http.close();
      await pool.end();
      await metricsServer.close();
      logger.info('service stopped');
    },
  };
}
