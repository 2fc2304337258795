import { HTTPClient } from '../../shared/http/http-client.js';
import type { ServiceConsumer } from '../../shared/messaging/service-consumer.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { CircuitBreaker } from '../../shared/resilience/circuit-breaker.js';
import { startParticipant, type RunningParticipant } from '../../shared/startup/start-participant.js';
import { tokenSettings } from '../../shared/auth/tokens.js';
import { reconcileGraceMs, reconcileSchedule, type PaymentConfig } from './config.js';
import { HttpOrderDirectory } from './data-access/order-directory.js';
import { ProviderPaymentService } from './data-access/payment-provider/provider-payment-service.js';
import { countUnsettled } from './data-access/reconciliation-repository.js';
import { reconcileJob } from './entry-points/jobs/reconcile-job.js';
import { paymentHandlers } from './entry-points/messaging/payment-handlers.js';
import { PaymentMetrics, ReconciliationMetrics } from './payment-metrics.js';

export const SERVICE = 'payment-service';

/**
 * Starts payment-service: charges and refunds through the adapter layer, composed as
 * timeout (HTTP client, aborts the request) → retry (look-ups on transient errors; charges and
 * refunds only when the provider certainly did nothing, e.g. connection refused) → circuit breaker
 * (declines and 4xx never count). A charge or refund whose outcome is unknown is settled by the
 * domain, by looking the payment up.
 */
export async function startPaymentService(config: PaymentConfig, options: { logger?: Logger } = {}): Promise<RunningParticipant> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const client = new HTTPClient({
    baseUrl: config.PAYMENT_PROVIDER_URL,
    apiKey: config.PAYMENT_PROVIDER_API_KEY,
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    // Short in-process retries: longer outages are retried by the message's delay queues instead,
    // which do not hold a consumer slot while waiting.
    retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
    logger,
  });
  // While the circuit is open the consumer pauses, both lanes: charges (step lane) and refunds
  // (compensation lane) wait in their durable queues instead of spending their attempts on calls
  // that would fail fast, so an outage longer than the retry schedule dead-letters nothing.
  // HALF_OPEN lets one message at a time through on each lane; the breaker lets the first call
  // through as the trial and refuses the other without calling the provider (retried later).
  let consumer: ServiceConsumer | undefined;
  // Made once the runtime (and its registry) exists, before the first provider call.
  let metrics: PaymentMetrics | undefined;
  const breaker = new CircuitBreaker({
    name: 'payment-provider',
    failureThreshold: config.BREAKER_FAILURE_THRESHOLD,
    resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
    onStateChange: (state) => {
      logger.warn('payment provider circuit changed state', { state });
      metrics?.breakerMoved(breaker.name, state);
      const step = state === 'OPEN' ? consumer?.pause() : consumer?.resume(state === 'HALF_OPEN' ? 1 : undefined);
      step?.catch((error: unknown) => logger.warn('could not pause or resume the consumer', { error }));
    },
  });
  const payments = new ProviderPaymentService(client, breaker, (operation, outcome, seconds) => metrics?.providerCall(operation, outcome, seconds));
  const orders = new HttpOrderDirectory(config.ORDER_SERVICE_URL, tokenSettings(config), logger);
  let reconciliationMetrics: ReconciliationMetrics | undefined;
  return startParticipant({
    service: SERVICE,
    config,
    logger,
    prepare: async (runtime) => {
      metrics = new PaymentMetrics(runtime.metrics, breaker);
      reconciliationMetrics = new ReconciliationMetrics(runtime.metrics, () => countUnsettled(runtime.pool), logger);
    },
    handlers: ({ messageUnitOfWork }) => paymentHandlers({ unitOfWork: messageUnitOfWork, payments, logger }),
    jobs: (runtime) => [
      reconcileJob(
        { pool: runtime.pool, unitOfWork: runtime.unitOfWork, payments, orders, logger, graceMs: reconcileGraceMs(config) },
        reconcileSchedule(config),
        (report) => reconciliationMetrics?.ran(report),
      ),
    ],
    onConsumer: (started) => {
      consumer = started;
      if (breaker.state === 'OPEN') void started.pause().catch(() => undefined);
    },
    onStop: async () => {
      breaker.shutdown();
      orders.close();
    },
  });
}
