import { Counter, Gauge, Histogram } from 'prom-client';
import type { RequestTiming } from '../../shared/http/request-timing.js';
import type { Logger } from '../../shared/logging/logger.js';
import { HTTP_DURATION_BUCKETS, sampledGauge, type MetricsRegistry } from '../../shared/observability/metrics.js';
import type { CircuitBreaker, CircuitState } from '../../shared/resilience/circuit-breaker.js';
import type { ProviderCallOutcome, ProviderOperation } from './data-access/payment-provider/provider-payment-service.js';

/** `circuit_breaker_state`'s values. */
const STATE_VALUE: Record<CircuitState, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };
const STATE_LABEL: Record<CircuitState, string> = { CLOSED: 'closed', HALF_OPEN: 'half_open', OPEN: 'open' };

/**
 * payment-service's own metrics: the provider's circuit breakers (one per operation), the provider
 * calls, and the HTTP requests they make.
 */
export class PaymentMetrics {
  private readonly transitions: Counter<'breaker' | 'state'>;
  private readonly calls: Histogram<'operation' | 'outcome'>;
  private readonly requests: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code' | 'error_type'>;

  constructor(registry: MetricsRegistry, breakers: CircuitBreaker[]) {
    const registers = [registry];
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'State of a circuit breaker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['breaker'],
      registers,
      collect() {
        for (const breaker of breakers) this.set({ breaker: breaker.name }, STATE_VALUE[breaker.state]);
      },
    });
    this.transitions = new Counter({
      name: 'circuit_breaker_transitions_total',
      help: 'Times a circuit breaker entered a state.',
      labelNames: ['breaker', 'state'],
      registers,
    });
    this.calls = new Histogram({
      name: 'payment_provider_request_duration_seconds',
      help: 'Duration of calls to the payment provider (retries inside a call included), by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    // Labelled as http_server_request_duration_seconds is (semantic conventions); one attempt each.
    this.requests = new Histogram({
      name: 'http_client_request_duration_seconds',
      help: 'Duration of HTTP requests to the payment provider, one per attempt: no time queued for a slot or waiting to retry.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code', 'error_type'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
  }

  breakerMoved(breaker: string, state: CircuitState): void {
    this.transitions.inc({ breaker, state: STATE_LABEL[state] });
  }

  providerCall(operation: ProviderOperation, outcome: ProviderCallOutcome, seconds: number): void {
    this.calls.observe({ operation, outcome }, seconds);
  }

  /** `error_type` is '' when an answer came (its status says the rest), else why none came. */
  providerRequest(timing: RequestTiming): void {
    this.requests.observe(
      {
        http_request_method: timing.method,
        http_route: timing.route,
        http_response_status_code: timing.status === undefined ? '' : String(timing.status),
        error_type: timing.failure ?? '',
      },
      timing.seconds,
    );
  }
}

/**
 * The reconciliation's metrics: `payment_discrepancies{kind, status}` (pending and open ones, read
 * from the table when scraped), `reconciliation_runs_total{status}` and
 * `payment_discrepancies_healed_total{kind}`.
 */
export class ReconciliationMetrics {
  private readonly runs: Counter<'status'>;
  private readonly healed: Counter<'kind'>;

  constructor(registry: MetricsRegistry, read: () => Promise<{ kind: string; status: string; count: number }[]>, logger: Pick<Logger, 'debug'>) {
    const gauge = sampledGauge({
      registry,
      name: 'payment_discrepancies',
      help: 'Disagreements between the provider ledger and the payments table: pending (in their grace period) and open (for a person).',
      labelNames: ['kind', 'status'],
      minIntervalMs: 1_000,
      logger,
      read: async () => {
        gauge.reset();
        return (await read()).map((row) => ({ labels: { kind: row.kind, status: row.status }, value: row.count }));
      },
    });
    this.runs = new Counter({ name: 'reconciliation_runs_total', help: 'Reconciliation runs, by how they ended.', labelNames: ['status'], registers: [registry] });
    this.healed = new Counter({ name: 'payment_discrepancies_healed_total', help: 'Discrepancies the reconciliation healed by itself, by kind.', labelNames: ['kind'], registers: [registry] });
  }

  ran(report: { status: string; healed: { kind: string }[] }): void {
    this.runs.inc({ status: report.status });
    for (const healed of report.healed) this.healed.inc({ kind: healed.kind });
  }
}
