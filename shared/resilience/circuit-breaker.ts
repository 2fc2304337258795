import Opossum from 'opossum';
import { AppError } from '../errors/app-error.js';
import { isNonRetryableError } from '../errors/non-retryable-error.js';
import { isTransientHttpError } from '../http/http-errors.js';

/** The Python class's states. */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** Thrown without calling the dependency while the circuit is open. */
export class BrokenCircuitError extends AppError {
  readonly code = 'circuit_open';
}
export const isBrokenCircuitError = (e: unknown): e is BrokenCircuitError => e instanceof BrokenCircuitError;

export interface CircuitBreakerOptions {
  name: string;
  /** Consecutive counted failures that open the circuit (Python `failure_threshold`). @defaultValue 5 */
  failureThreshold?: number;
  /** Time OPEN before one trial call is let through (Python `reset_timeout`). @defaultValue 60000 */
  resetTimeoutMs?: number;
  /** Which errors count as failures. @defaultValue transient HTTP errors; never a NonRetryableError */
  isFailure?: (error: unknown) => boolean;
  onStateChange?: (state: CircuitState) => void;
}

export const defaultIsFailure = (error: unknown): boolean => !isNonRetryableError(error) && isTransientHttpError(error);

/**
 * Port of the Python `CircuitBreaker` (seeds/003) on opossum 9. Parameter mapping:
 * - `failure_threshold` → a count of consecutive failures kept here; reaching it calls opossum's
 *   `open()`. opossum's own percentage trip is switched off (`errorThresholdPercentage: 100`,
 *   which a rate can never exceed), because its rolling-window percentage is not the Python's count.
 * - `reset_timeout` → opossum `resetTimeout`: OPEN → HALF_OPEN after it.
 * - `half_open_timeout` has no equivalent and is dropped on purpose: the Python closed a HALF_OPEN
 *   circuit merely because time passed; here (opossum) HALF_OPEN lets exactly one trial call
 *   through, closes on its success and re-opens on its failure.
 * - Fixed defect: the Python never reset its failure count while CLOSED, so five failures spread
 *   over a week opened it; here any success resets the count.
 * - opossum's `timeout` is disabled (`false`): it would only stop waiting, while the HTTP client's
 *   AbortSignal timeout really cancels the request. Declines and other 4xx are not failures
 *   (opossum `errorFilter`): the provider answered.
 * State is per process (as opossum's is).
 */
export class CircuitBreaker {
  private readonly breaker: Opossum<[() => Promise<unknown>], unknown>;
  private consecutiveFailures = 0;
  private readonly threshold: number;

  constructor(options: CircuitBreakerOptions) {
    const isFailure = options.isFailure ?? defaultIsFailure;
    this.threshold = options.failureThreshold ?? 5;
    this.breaker = new Opossum((fn: () => Promise<unknown>) => fn(), {
      name: options.name,
      timeout: false,
      resetTimeout: options.resetTimeoutMs ?? 60_000,
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      errorFilter: (error: unknown) => !isFailure(error),
    });
    this.breaker.on('success', () => (this.consecutiveFailures = 0));
    this.breaker.on('failure', () => {
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.threshold) this.breaker.open();
    });
    this.breaker.on('open', () => options.onStateChange?.('OPEN'));
    this.breaker.on('halfOpen', () => options.onStateChange?.('HALF_OPEN'));
    this.breaker.on('close', () => {
      this.consecutiveFailures = 0;
      options.onStateChange?.('CLOSED');
    });
  }

  get state(): CircuitState {
    if (this.breaker.opened) return 'OPEN';
    if (this.breaker.halfOpen) return 'HALF_OPEN';
    return 'CLOSED';
  }

  /** Runs `fn` through the breaker; rejects with BrokenCircuitError while OPEN. */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breaker.fire(fn)) as T;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new BrokenCircuitError(`circuit ${this.breaker.name} is open`, { cause: error });
      }
      throw error;
    }
  }

  /** Stops its timers (for tests and shutdown). */
  shutdown(): void {
    this.breaker.shutdown();
  }
}
