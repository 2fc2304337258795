import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool } from '../../shared/db/pool.js';
import { listen } from '../../shared/http/health-server.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { httpServerMetrics } from '../../shared/observability/http-metrics.js';
import { createMetricsRegistry, startMetricsServer, type MetricsRegistry, type MetricsServer } from '../../shared/observability/metrics.js';
import { assertReachable } from '../../shared/startup/check-dependencies.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import { providerSchema, type PaymentProviderConfig } from './config.js';
import { expireKeys } from './data-access/idempotency-repository.js';
import { Faults } from './domain/faults.js';
import { createProviderApp } from './entry-points/http/create-app.js';
import { HeldResponses } from './entry-points/http/held-responses.js';

export const SERVICE = 'payment-provider';

/** How often records of Idempotency-Keys past their 24 hours are swept (they are also ignored on use). */
const KEY_SWEEP_MS = 10 * 60_000;

export interface PaymentProviderOptions {
  /** @defaultValue a logger for the service at the configured LOG_LEVEL */
  logger?: Logger;
}

/**
 * Starts the mock payment provider: Stripe-like HTTP API over its own Postgres ledger.
 * Checks Postgres is reachable, migrates the `<NAMESPACE>payment_provider` schema, opens the pool
 * and listens on HOST:PORT (PORT 0 picks a free port; `url` has the real one).
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
  // Opportunistic expiry: once at start and then every KEY_SWEEP_MS, in the background. Nothing
  // depends on its timing, since an expired key is claimed afresh on use (claimKey); the sweep
  // only keeps the table small. Failures are logged and the next sweep tries again.
  const sweep = () => {
    expireKeys(pool)
      .then((expired) => expired > 0 && logger.debug('idempotency keys expired', { expired }))
      .catch((error: unknown) => logger.warn('idempotency key expiry failed', { error }));
  };
  sweep();
  const expiry = setInterval(sweep, KEY_SWEEP_MS);
  expiry.unref();
  logger.info('service started', { url: http.url, metrics: metricsServer.url, fault_injection: config.FAULT_INJECTION_ENABLED });
  return {
    url: http.url,
    async stop() {
      clearInterval(expiry);
      // Requests held unanswered by fault injection would otherwise keep close() waiting.
      held.destroyAll();
      await http.close();
      await pool.end();
      await metricsServer.close();
      logger.info('service stopped');
    },
  };
}
