import express from 'express';
import { healthRouter, listen } from '../http/health-server.js';
import type { JobDefinition } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import { httpServerMetrics } from '../observability/http-metrics.js';
import type { SagaService } from '../contracts/saga.js';
import { ServiceConsumer } from '../messaging/service-consumer.js';
import type { ServiceHandlers } from '../messaging/service-handlers.js';
import { sagaBindingsOf } from '../messaging/service-topology.js';
import type { RunningService } from './running-service.js';
import { startServiceRuntime, type RuntimeConfig, type ServiceRuntime } from './service-runtime.js';

export interface ParticipantConfig extends RuntimeConfig {
  PORT: number;
  HOST: string;
  AMQP_PREFETCH: number;
  AMQP_COMPENSATION_PREFETCH: number;
  MESSAGE_MAX_ATTEMPTS: number;
  MESSAGE_RETRY_BASE_MS: number;
}

export interface ParticipantOptions<S extends SagaService> {
  service: S;
  config: ParticipantConfig;
  logger: Logger;
  /** See startServiceRuntime. */
  readsSharedRows?: boolean;
  /** Seeds or checks the service's own data once the schema is migrated. */
  prepare?: (runtime: ServiceRuntime) => Promise<void>;
  handlers: (runtime: ServiceRuntime) => ServiceHandlers<S>;
  /** The service's own background jobs, beside the outbox and inbox pruning every service runs. */
  jobs?: (runtime: ServiceRuntime) => JobDefinition<object>[];
  /** Called with the consumer (both lanes) once it consumes, e.g. to pause it while a dependency is down. */
  onConsumer?: (consumer: ServiceConsumer) => void;
  /** Closed after the consumer and the jobs stopped, before the connections close. */
  onStop?: () => Promise<void>;
}

export interface RunningParticipant extends RunningService {
  readonly runtime: ServiceRuntime;
}

/**
 * The consumer of a service's queues, wired to its runtime and configured from its settings: the
 * step lane and the compensation lane, bound as the saga declares each subscription's role. Its
 * lanes and retries are part of the runtime's status reports.
 */
export function createServiceConsumer<S extends SagaService>(
  runtime: ServiceRuntime,
  options: { service: S; config: Omit<ParticipantConfig, 'PORT' | 'HOST'>; logger: Logger; handlers: ServiceHandlers<S> },
): ServiceConsumer {
  const consumer = new ServiceConsumer({
    connection: runtime.connection,
    names: runtime.names,
    service: options.service,
    handlers: options.handlers,
    bindings: sagaBindingsOf(options.service),
    publisher: runtime.publisher,
    logger: options.logger,
    prefetch: { step: options.config.AMQP_PREFETCH, compensation: options.config.AMQP_COMPENSATION_PREFETCH },
    maxAttempts: options.config.MESSAGE_MAX_ATTEMPTS,
    retryBaseDelayMs: options.config.MESSAGE_RETRY_BASE_MS,
    metrics: runtime.messagingMetrics,
    onRetry: (retry) => runtime.status.retried(retry),
  });
  runtime.status.track(consumer);
  return consumer;
}

/**
 * Starts a message-driven saga participant: runtime (schema, pool, broker, outbox relay), its
 * consumer, its background jobs, and a small HTTP listener for /healthz and /readyz. `stop()`
 * drains in order: consumer (no new messages, in-flight ones finish and are acked), jobs (running
 * ones are told to end, and finish), health listener, connections.
 */
export async function startParticipant<S extends SagaService>(options: ParticipantOptions<S>): Promise<RunningParticipant> {
  const { config, logger, service } = options;
  const runtime = await startServiceRuntime({ service, config, logger, readsSharedRows: options.readsSharedRows ?? false });
  await options.prepare?.(runtime);
  const consumer = createServiceConsumer(runtime, { service, config, logger, handlers: options.handlers(runtime) });
  await consumer.start();
  options.onConsumer?.(consumer);
  await runtime.jobs.define(...(options.jobs?.(runtime) ?? [])).start();
  const app = express();
  app.disable('x-powered-by');
  app.use(httpServerMetrics(runtime.metrics));
  app.use(healthRouter({ postgres_and_rabbitmq: () => runtime.isReady() }));
  // Read-only: what this instance also reports on the status exchange (for operators and the console).
  app.get('/status', async (_req, res) => {
    res.json(await runtime.status.snapshot());
  });
  const http = await listen(app, config.PORT, config.HOST);
  logger.info('service started', { url: http.url, metrics: runtime.metricsServer.url });
  return {
    url: http.url,
    runtime,
    async stop() {
      logger.info('service stopping');
      await consumer.stop();
      await runtime.jobs.stop();
      await options.onStop?.();
      await http.close();
      await runtime.close();
      logger.info('service stopped');
    },
  };
}
