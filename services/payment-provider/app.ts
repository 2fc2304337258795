import { migrate, migrationDirs } from '../../shared/db/migrate.js';
import { createPool } from '../../shared/db/pool.js';
import { listen } from '../../shared/http/health-server.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { assertReachable } from '../../shared/startup/check-dependencies.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import type { PaymentProviderConfig } from './config.js';
import { expireKeys } from './data-access/idempotency-repository.js';
import { Faults } from './domain/faults.js';
import { createProviderApp } from './entry-points/http/create-app.js';

export const SERVICE = 'payment-provider';

/** Starts the mock payment provider: Stripe-like HTTP API over its own Postgres ledger. */
export async function startPaymentProvider(config: PaymentProviderConfig, options: { logger?: Logger } = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  await assertReachable('PostgreSQL', config.DATABASE_URL);
  const schema = `${config.NAMESPACE}payment_provider`;
  // The ledger has no outbox or inbox: only its own folder of migrations.
  await migrate({ connectionString: config.DATABASE_URL, schema, dir: migrationDirs(SERVICE)[1] as string, logger });
  const pool = createPool({ connectionString: config.DATABASE_URL, schema, max: config.DB_POOL_SIZE, logger });
  const app = createProviderApp({
    pool,
    apiKey: config.PAYMENT_PROVIDER_API_KEY,
    faults: config.FAULT_INJECTION_ENABLED ? new Faults() : undefined,
    logger,
  });
  const http = await listen(app, config.PORT, config.HOST);
  const expiry = setInterval(() => {
    expireKeys(pool).catch((error: unknown) => logger.warn('idempotency key expiry failed', { error }));
  }, 10 * 60_000);
  expiry.unref();
  logger.info('service started', { url: http.url, fault_injection: config.FAULT_INJECTION_ENABLED });
  return {
    url: http.url,
    async stop() {
      clearInterval(expiry);
      await http.close();
      await pool.end();
    },
  };
}
