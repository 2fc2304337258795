import express, { type RequestHandler } from 'express';
import { redisTlsOptions } from '../../shared/config/tls-options.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { DeadLetterArchiver } from '../../shared/dead-letters/dead-letter-archiver.js';
import { openDeadLetterStore } from '../../shared/dead-letters/open-dead-letter-store.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { createPool } from '../../shared/db/pool.js';
import { UnitOfWork } from '../../shared/db/unit-of-work.js';
import { readCatalog } from '../../shared/contracts/catalog.js';
import { listen } from '../../shared/http/health-server.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { assertReachable } from '../../shared/startup/check-dependencies.js';
import type { RunningService } from '../../shared/startup/running-service.js';
import { createServiceConsumer } from '../../shared/startup/start-participant.js';
import { httpServerMetrics } from '../../shared/observability/http-metrics.js';
import { startServiceRuntime, type ServiceRuntime } from '../../shared/startup/service-runtime.js';
import { backlogLimit, identityProvider, tokenSettings, type OrderConfig } from './config.js';
import { startTokenVerifier } from './entry-points/http/auth.js';
import { readBacklog } from './data-access/backlog-repository.js';
import { recordRetry } from './data-access/retry-repository.js';
import { connectRedis } from './data-access/redis-client.js';
import { seedCatalog } from './data-access/catalog-repository.js';
import { CatalogPrices } from './data-access/catalog-prices.js';
import { ChangeFeed } from './data-access/change-feed.js';
import { OrderWaits } from './data-access/order-waits.js';
import { PRODUCTS_KEY, ReadCache } from './data-access/read-cache.js';
import { loadProductsBody, productsCache } from './entry-points/http/products-router.js';
import { BacklogMonitor } from './domain/backlog-monitor.js';
import { DeadlineSweeper } from './domain/deadline-sweeper.js';
import { admission } from './entry-points/http/admission.js';
import { createApp } from './entry-points/http/create-app.js';
import { deadLettersRouter } from './entry-points/http/dead-letters-router.js';
import { jobsRouter } from './entry-points/http/jobs-router.js';
import { servicesRouter } from './entry-points/http/services-router.js';
import { StatusListener } from './entry-points/messaging/status-listener.js';
import { ServiceBoard } from './domain/service-board.js';
import { orderRetentionJobs } from './entry-points/jobs/retention-jobs.js';
import { reconciliationRouter } from './entry-points/http/reconciliation-router.js';
import { IdempotencyStore } from './entry-points/http/idempotency.js';
import { rateLimit } from './entry-points/http/rate-limit.js';
import { orderHandlers } from './entry-points/messaging/order-handlers.js';
import { OrderMetrics } from './order-metrics.js';
import { orderRetention } from './retention-config.js';

export const SERVICE = 'order-service';

export interface RunningOrderService extends RunningService {
  readonly runtime: ServiceRuntime;
  readonly sweeper: DeadlineSweeper;
}

/**
 * Starts order-service: the REST order API, order state (from the participants' events), the
 * outbox relay and the saga deadline sweeper.
 */
export async function startOrderService(config: OrderConfig, options: { logger?: Logger } = {}): Promise<RunningOrderService> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const redisTls = redisTlsOptions(config);
  await assertReachable('Redis', config.REDIS_URL, { tls: redisTls });
  const redis = await connectRedis({ url: config.REDIS_URL, tls: redisTls, logger });
  const runtime = await startServiceRuntime({ service: SERVICE, config, logger }).catch((error: unknown) => {
    redis.disconnect();
    throw error;
  });
  await seedCatalog(runtime.pool, readCatalog(config.CATALOG_FILE));

  const metrics = new OrderMetrics(runtime.metrics, runtime.pool, logger);
  const consumer = createServiceConsumer(runtime, {
    service: SERVICE,
    config,
    logger,
    handlers: orderHandlers(runtime.messageUnitOfWork, metrics),
  });
  await consumer.start();
  const sweeper = new DeadlineSweeper(runtime.unitOfWork, config.DEADLINE_SWEEP_MS, logger, metrics);
  sweeper.start();
  // order-service also hosts operations: it archives every service's dead letters for the admin API
  // (and prunes the archive).
  const deadLetters = await openDeadLetterStore({ connectionString: config.DATABASE_URL, namespace: config.NAMESPACE, logger });
  await runtime.jobs
    .define(sweeper.job(), ...orderRetentionJobs(SERVICE, { orders: runtime.pool, deadLetters: deadLetters.pool }, orderRetention(config)))
    .start();
  // order-service also hosts operations: the admin API shows and drives every service's jobs.
  const jobStore = await JobStore.open({ connectionString: config.DATABASE_URL, namespace: config.NAMESPACE, logger });

  const archiver = new DeadLetterArchiver({
    connection: runtime.connection,
    names: runtime.names,
    services: SAGA_SERVICES,
    store: deadLetters.store,
    logger,
  });
  await archiver.start();
  // …and the Services page: every instance's status reports, as they arrive.
  const board = new ServiceBoard(SAGA_SERVICES);
  const statusListener = new StatusListener({
    connection: runtime.connection,
    names: runtime.names,
    board,
    onRetry: (retry) => recordRetry(runtime.pool, retry),
    logger,
  });
  await statusListener.start();

  const redisPrefix = config.NAMESPACE ? `${config.NAMESPACE}:` : '';
  // What changes in Postgres, heard by every instance: the read cache drops it, waiting clients wake.
  const feed = new ChangeFeed({ connectionString: config.DATABASE_URL, schema: `${config.NAMESPACE}order_service`, logger });
  await feed.start();
  const cache = new ReadCache({ redis, prefix: redisPrefix, feed, logger, metrics: runtime.metrics });
  const waits = new OrderWaits(feed, { metrics: runtime.metrics });
  await cache
    .warm(productsCache(config.CACHE_PRODUCTS_TTL_MS), PRODUCTS_KEY, () => loadProductsBody(runtime.pool))
    .catch((error: unknown) => logger.warn('could not warm the catalog cache; it fills on the first read', { error }));
  const idempotency = new IdempotencyStore({ redis, prefix: redisPrefix, ttlSeconds: config.IDEMPOTENCY_TTL_S, logger });
  const admissionControl = await startAdmissionControl(config, idempotency, logger);
  const app = createApp({
    pool: runtime.pool,
    unitOfWork: runtime.unitOfWork,
    // Orders placed together share nothing but the catalog they read: their units interleave.
    placements: new UnitOfWork(runtime.pool, runtime.relay, { batchMax: config.DB_BATCH_MAX, lanes: config.DB_BATCH_LANES, interleave: true, logger }),
    sagaTimeoutMs: config.SAGA_TIMEOUT_MS,
    catalog: new CatalogPrices(),
    cache,
    productsTtlMs: config.CACHE_PRODUCTS_TTL_MS,
    ordersTtlMs: config.CACHE_ORDERS_TTL_MS,
    waits,
    maxWaitSeconds: config.ORDER_WAIT_MAX_S,
    observer: metrics,
    observers: [httpServerMetrics(runtime.metrics), metrics.apiOutcomes()],
    metrics: runtime.metrics,
    logger,
    console: config.CONSOLE_ENABLED,
    auth: await startTokenVerifier(tokenSettings(config), identityProvider(config), logger, runtime.metrics),
    idempotency,
    admission: admissionControl.handler,
    rateLimit: rateLimit({
      redis,
      prefix: redisPrefix,
      customerPoints: config.RATE_LIMIT_CUSTOMER,
      anonymousPoints: config.RATE_LIMIT_ANONYMOUS,
      windowSeconds: config.RATE_LIMIT_WINDOW_S,
      logger,
    }),
    trustProxy: config.TRUSTED_PROXIES.trim() || false,
    corsOrigins: config.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    deadLetters: deadLettersRouter({ store: deadLetters.store, publisher: runtime.publisher, names: runtime.names, idempotency }),
    deadLetterArchive: deadLetters.store,
    jobs: express.Router().use(jobsRouter(jobStore), reconciliationRouter(jobStore)),
    services: servicesRouter({ board, deadLetters: deadLetters.store }),
    readiness: { postgres_and_rabbitmq: () => runtime.isReady() },
    // Without Redis: idempotency falls back to the orders table, rate limits to each instance's memory.
    degradable: { redis: async () => (await redis.ping()) === 'PONG' },
  });
  const http = await listen(app, config.PORT, config.HOST);
  http.server.requestTimeout = config.REQUEST_TIMEOUT_MS; // receiving a whole request
  http.server.headersTimeout = Math.min(10_000, config.REQUEST_TIMEOUT_MS);
  logger.info('service started', { url: http.url, metrics: runtime.metricsServer.url });
  return {
    url: http.url,
    runtime,
    sweeper,
    async stop() {
      logger.info('service stopping');
      waits.close(); // long polls answer now, or the server's close would wait for them
      await http.close();
      await admissionControl.stop();
      await feed.stop();
      await consumer.stop();
      await archiver.stop();
      await statusListener.stop();
      await sweeper.stop();
      await deadLetters.pool.end();
      await jobStore.close();
      await runtime.close();
      await cache.close();
      redis.disconnect();
      logger.info('service stopped');
    },
  };
}

/**
 * Admission control for POST /orders (entry-points/http/admission.ts), unless it is off. Its
 * figures are read on a connection of their own, so that a read never queues behind the requests
 * for the API's pooled connections, precisely when they are all busy.
 */
async function startAdmissionControl(
  config: OrderConfig,
  idempotency: IdempotencyStore,
  logger: Logger,
): Promise<{ handler: RequestHandler; stop(): Promise<void> }> {
  const limit = backlogLimit(config);
  if (limit.kind === 'off') return { handler: (_req, _res, next) => next(), stop: async () => undefined };
  // The schema startServiceRuntime migrated and its pool works in.
  const pool = createPool({ connectionString: config.DATABASE_URL, schema: `${config.NAMESPACE}order_service`, max: 1, logger });
  const monitor = new BacklogMonitor({ read: (windowSeconds) => readBacklog(pool, windowSeconds), refreshMs: config.ADMISSION_REFRESH_MS, logger });
  await monitor.start();
  logger.info('admission control on', { limit });
  return {
    handler: admission({ limit, monitor, idempotency, logger }),
    async stop() {
      await monitor.stop();
      await pool.end();
    },
  };
}
