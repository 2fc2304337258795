import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { SagaService } from '../contracts/saga.js';
import { durationSetting } from '../config/retention-env.js';
import { amqpTlsOptions, type AmqpTlsConfig } from '../config/tls-options.js';
import { assertPostgresConnects } from '../db/check-postgres.js';
import { migrate, migrationDirs } from '../db/migrate.js';
import { outboxMetrics } from '../db/outbox-metrics.js';
import { OutboxRelay } from '../db/outbox-relay.js';
import { createPool, type Pool } from '../db/pool.js';
import { retentionJobs } from '../db/retention-jobs.js';
import { UnitOfWork } from '../db/unit-of-work.js';
import type { Logger } from '../logging/logger.js';
import { JobRunner } from '../jobs/job-runner.js';
import { jobMetrics } from '../jobs/job-metrics.js';
import { connectAmqp } from '../messaging/amqp-connection.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { lanesOf, sagaBindingsOf } from '../messaging/service-topology.js';
import { topologyNames, type TopologyNames } from '../messaging/topology-names.js';
import { createMetricsRegistry, MessagingMetrics, startMetricsServer, type MetricsRegistry, type MetricsServer } from '../observability/metrics.js';
import { queueDepthMetrics } from '../observability/queue-metrics.js';
import { ServiceStatusReporter } from '../observability/service-status.js';
import { QueueInspector } from '../messaging/queue-inspector.js';
import { assertReachable } from './check-dependencies.js';

/** Settings every message-driven service shares (from `commonEnv`). */
export interface RuntimeConfig extends AmqpTlsConfig {
  NAMESPACE: string;
  DATABASE_URL: string;
  DB_POOL_SIZE: number;
  DB_BATCH_MAX: number;
  DB_BATCH_LANES: number;
  OUTBOX_SWEEP_MS: number;
  MESSAGE_COMPRESS_BYTES: number;
  OUTBOX_RETENTION: string;
  INBOX_RETENTION: string;
  RETENTION_INTERVAL: string;
  JOBS_POLL_MS: number;
  STATUS_INTERVAL_MS: number;
  METRICS_PORT: number;
  HOST: string;
}

/** The connections and parts a service's domain is wired to. */
export interface ServiceRuntime {
  readonly pool: Pool;
  /** Units of work of requests (one transaction each). */
  readonly unitOfWork: UnitOfWork;
  /** Units of work of message handlers: those waiting together are committed together (batches). */
  readonly messageUnitOfWork: UnitOfWork;
  readonly publisher: EventPublisher;
  readonly relay: OutboxRelay;
  readonly connection: AmqpConnectionManager;
  readonly names: TopologyNames;
  /** The service's Prometheus registry, served on METRICS_PORT: services add their own metrics to it. */
  readonly metrics: MetricsRegistry;
  readonly messagingMetrics: MessagingMetrics;
  /** The metrics listener (its url is undefined when METRICS_PORT is 0). */
  readonly metricsServer: MetricsServer;
  /**
   * The service's background jobs (pg-boss), with the outbox and inbox pruning already defined:
   * the service adds its own, then starts it once it is ready to run them.
   */
  readonly jobs: JobRunner;
  /** This instance's status reports (started with the runtime; the service's consumer is tracked by createServiceConsumer). */
  readonly status: ServiceStatusReporter;
  /** Readiness: Postgres answers and the broker connection is up. */
  isReady(): Promise<boolean>;
  /** Stops the jobs and the relay and closes the broker connection and the pool (consumers stop first). */
  close(): Promise<void>;
}

/**
 * Brings up what every service needs, in order: checks that Postgres and RabbitMQ are reachable
 * and that TLS to them works where it is asked for (one clear line if not), migrates the service's
 * schema, opens the pool, connects to the broker, declares the queues of everyone the service
 * publishes to, and starts the outbox relay.
 */
export async function startServiceRuntime(options: {
  service: SagaService;
  /**
   * Whether the service's handlers read rows shared by many orders and then write them from what
   * they read (inventory's stock): their batches then run one at a time, their units one after
   * another (see UnitOfWork's `lanes` and `interleave`). @defaultValue false
   */
  readsSharedRows?: boolean;
  /** Migration folder under infra/migrations. @defaultValue service */
  migrations?: string;
  config: RuntimeConfig;
  logger: Logger;
}): Promise<ServiceRuntime> {
  const { config, logger, service } = options;
  // First: a port already taken stops the start before anything is connected or migrated.
  const metrics = createMetricsRegistry();
  const metricsServer = await startMetricsServer({ registry: metrics, port: config.METRICS_PORT, host: config.HOST, logger });
  try {
    return await connectRuntime(options, metrics, metricsServer);
  } catch (error) {
    await metricsServer.close();
    throw error;
  }
}

async function connectRuntime(
  options: Parameters<typeof startServiceRuntime>[0],
  metrics: MetricsRegistry,
  metricsServer: MetricsServer,
): Promise<ServiceRuntime> {
  const { config, logger, service } = options;
  // Before anything connects: TLS files that cannot be used stop the start with a ConfigError.
  const amqpTls = amqpTlsOptions(config);
  const retention = {
    outboxMs: durationSetting('OUTBOX_RETENTION', config.OUTBOX_RETENTION),
    inboxMs: durationSetting('INBOX_RETENTION', config.INBOX_RETENTION),
    intervalMs: durationSetting('RETENTION_INTERVAL', config.RETENTION_INTERVAL),
  };
  await assertReachable('PostgreSQL', config.DATABASE_URL);
  await assertReachable('RabbitMQ', config.AMQP_URL, { tls: amqpTls });
  await assertPostgresConnects(config.DATABASE_URL);
  const schema = `${config.NAMESPACE}${service.replace(/-/g, '_')}`;
  await migrate({
    connectionString: config.DATABASE_URL,
    schema,
    dir: migrationDirs(options.migrations ?? service),
    logger,
  });
  const pool = createPool({ connectionString: config.DATABASE_URL, schema, max: config.DB_POOL_SIZE, logger });
  const names = topologyNames(config.NAMESPACE);
  const connection = await connectAmqp({ url: config.AMQP_URL, name: service, logger, tls: amqpTls });
  const messagingMetrics = new MessagingMetrics(metrics);
  const publisher = new EventPublisher({
    connection,
    names,
    logger,
    service,
    metrics: messagingMetrics,
    compressAboveBytes: config.MESSAGE_COMPRESS_BYTES,
  });
  await publisher.waitForConnect();
  const relay = new OutboxRelay({ pool, publisher, logger, sweepIntervalMs: config.OUTBOX_SWEEP_MS });
  relay.start();
  outboxMetrics({ registry: metrics, pool, logger });
  const jobs = new JobRunner({
    pool,
    namespace: config.NAMESPACE,
    service,
    logger,
    pollIntervalMs: config.JOBS_POLL_MS,
    observe: jobMetrics(metrics),
  }).define(...retentionJobs(pool, service, retention));
  const inspector = new QueueInspector(connection);
  queueDepthMetrics({
    registry: metrics,
    inspector,
    queues: () => [...lanesOf(sagaBindingsOf(service)).map((lane) => names.queue(service, lane)), names.deadLetterQueue(service)],
    logger,
  });
  const status = new ServiceStatusReporter({ service, connection, names, registry: metrics, inspector, intervalMs: config.STATUS_INTERVAL_MS, logger });
  status.start();
  return {
    pool,
    unitOfWork: new UnitOfWork(pool, relay),
    messageUnitOfWork: new UnitOfWork(pool, relay, {
      batchMax: config.DB_BATCH_MAX,
      lanes: options.readsSharedRows ? 1 : config.DB_BATCH_LANES,
      interleave: !options.readsSharedRows,
      logger,
    }),
    publisher,
    relay,
    connection,
    names,
    metrics,
    messagingMetrics,
    metricsServer,
    jobs,
    status,
    async isReady() {
      if (!connection.isConnected()) return false;
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await status.stop();
      await jobs.stop();
      await relay.stop();
      await publisher.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await metricsServer.close();
    },
  };
}
