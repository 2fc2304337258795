import { HTTPClient } from '../../shared/http/http-client.js';
import { timeRequests } from '../../shared/http/request-timing.js';
import type { ServiceConsumer } from '../../shared/messaging/service-consumer.js';
import type { Lane } from '../../shared/messaging/topology-names.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { CircuitBreaker } from '../../shared/resilience/circuit-breaker.js';
import { startParticipant, type RunningParticipant } from '../../shared/startup/start-participant.js';
import { tokenSettings } from '../../shared/auth/tokens.js';
import { reconcileGraceMs, reconcileSchedule, type PaymentConfig } from './config.js';
import { HttpOrderDirectory } from './data-access/order-directory.js';
import { ProviderPaymentService, type ProviderOperation } from './data-access/payment-provider/provider-payment-service.js';
import { countUnsettled } from './data-access/reconciliation-repository.js';
import { reconcileJob } from './entry-points/jobs/reconcile-job.js';
import { paymentHandlers } from './entry-points/messaging/payment-handlers.js';
import { PaymentMetrics, ReconciliationMetrics } from './payment-metrics.js';

export const SERVICE = 'payment-service';

/** The provider calls each lane's handlers make: a lane pauses while one of their circuits is open. */
const LANE_NEEDS: Record<Lane, ProviderOperation[]> = { step: ['charge', 'lookup'], compensation: ['refund', 'lookup'] };

/**
 * Starts payment-service: charges and refunds through the adapter layer, each provider call
 * composed, outermost first, as bulkhead (the operation's slots and bounded queue) → circuit breaker
 * (declines and 4xx never count) → retry (look-ups on transient errors; charges and refunds only
 * when the provider certainly did nothing, e.g. connection refused) → timeout (aborts the request);
 * the declaration and its reasons are in ProviderPaymentService. A charge or refund whose outcome
 * is unknown is settled by the domain, by looking the payment up.
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
    // A socket for every call the operations' bulkheads let through: none waits for another's.
    maxSockets: config.PROVIDER_CHARGE_CONCURRENCY + config.PROVIDER_REFUND_CONCURRENCY + config.PROVIDER_LOOKUP_CONCURRENCY,
  });
  // Each attempt on the wire, apart from the time calls spend queued in a bulkhead or backing off.
  timeRequests(client, (timing) => metrics?.providerRequest(timing));
  // Charges, refunds and look-ups each have their circuit (and their concurrency limit), so that
  // they do not share one fate: while charges fail and their circuit is open, refunds still flow.
  // A lane pauses while a circuit its handlers need is open — the step lane charges, the
  // compensation lane refunds, and both look payments up to settle unknown outcomes — so its
  // messages wait in their durable queue instead of spending their attempts on calls that would
  // fail fast, and an outage longer than the retry schedule dead-letters nothing. While such a
  // circuit is HALF_OPEN the lane takes one message at a time; the breaker lets the first call
  // through as the trial and refuses the others without calling the provider (retried later).
  let consumer: ServiceConsumer | undefined;
  // Made once the runtime (and its registry) exists, before the first provider call.
  let metrics: PaymentMetrics | undefined;
  const settleLanes = () => {
    for (const [lane, needs] of Object.entries(LANE_NEEDS) as [Lane, ProviderOperation[]][]) {
      const states = needs.map((operation) => breakers[operation].state);
      const step = states.includes('OPEN') ? consumer?.pause(lane) : consumer?.resume(states.includes('HALF_OPEN') ? 1 : undefined, lane);
      step?.catch((error: unknown) => logger.warn('could not pause or resume the consumer', { error, lane }));
    }
  };
  const breakerFor = (operation: ProviderOperation) => {
    const breaker: CircuitBreaker = new CircuitBreaker({
      name: `payment-provider-${operation}`,
      failureThreshold: config.BREAKER_FAILURE_THRESHOLD,
      resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
      onStateChange: (state) => {
        logger.warn('payment provider circuit changed state', { breaker: breaker.name, state });
        metrics?.breakerMoved(breaker.name, state);
        settleLanes();
      },
    });
    return breaker;
  };
  const breakers: Record<ProviderOperation, CircuitBreaker> = { charge: breakerFor('charge'), refund: breakerFor('refund'), lookup: breakerFor('lookup') };
  const payments = new ProviderPaymentService(client, breakers, {
    observe: (operation, outcome, seconds) => metrics?.providerCall(operation, outcome, seconds),
    limits: {
      charge: { maxConcurrent: config.PROVIDER_CHARGE_CONCURRENCY, maxQueued: config.PROVIDER_MAX_QUEUED },
      refund: { maxConcurrent: config.PROVIDER_REFUND_CONCURRENCY, maxQueued: config.PROVIDER_MAX_QUEUED },
      lookup: { maxConcurrent: config.PROVIDER_LOOKUP_CONCURRENCY, maxQueued: config.PROVIDER_MAX_QUEUED },
    },
  });
  const orders = new HttpOrderDirectory(config.ORDER_SERVICE_URL, tokenSettings(config), logger);
  let reconciliationMetrics: ReconciliationMetrics | undefined;
  return startParticipant({
    service: SERVICE,
    config,
    logger,
    prepare: async (runtime) => {
      metrics = new PaymentMetrics(runtime.metrics, Object.values(breakers));
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
      settleLanes();
    },
    onStop: async () => {
      for (const breaker of Object.values(breakers)) breaker.shutdown();
      orders.close();
    },
  });
}
