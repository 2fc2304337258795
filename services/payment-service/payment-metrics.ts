import { Counter, Gauge, Histogram } from 'prom-client';
import { HTTP_DURATION_BUCKETS, type MetricsRegistry } from '../../shared/observability/metrics.js';
import type { CircuitBreaker, CircuitState } from '../../shared/resilience/circuit-breaker.js';
import type { ProviderCallOutcome, ProviderOperation } from './data-access/payment-provider/provider-payment-service.js';

/** `circuit_breaker_state`'s values. */
const STATE_VALUE: Record<CircuitState, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };
const STATE_LABEL: Record<CircuitState, string> = { CLOSED: 'closed', HALF_OPEN: 'half_open', OPEN: 'open' };

/** payment-service's own metrics: the provider's circuit breaker and the provider calls. */
export class PaymentMetrics {
  private readonly transitions: Counter<'breaker' | 'state'>;
  private readonly calls: Histogram<'operation' | 'outcome'>;

  constructor(registry: MetricsRegistry, breaker: CircuitBreaker) {
    const registers = [registry];
    new Gauge({
      name: 'circuit_breaker_state',
      help: 'State of a circuit breaker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['breaker'],
      registers,
      collect() {
        this.set({ breaker: breaker.name }, STATE_VALUE[breaker.state]);
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
  }

  breakerMoved(breaker: string, state: CircuitState): void {
    this.transitions.inc({ breaker, state: STATE_LABEL[state] });
  }

  providerCall(operation: ProviderOperation, outcome: ProviderCallOutcome, seconds: number): void {
    this.calls.observe({ operation, outcome }, seconds);
  }
}
