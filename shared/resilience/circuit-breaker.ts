import type { EventEmitter } from 'node:events';
import Opossum from 'opossum';
import { AppError } from '../errors/app-error.js';
import { isNonRetryableError } from '../errors/non-retryable-error.js';
import { isTransientHttpError } from '../http/http-errors.js';
import type { Policy } from './policy.js';

/** The Python class's states. */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** Thrown without calling the dependency while the circuit is open (or the breaker is shut down). */
export class BrokenCircuitError extends AppError {
  readonly code = 'circuit_open';
}

/** Type guard for {@link BrokenCircuitError}. */
export const isBrokenCircuitError = (e: unknown): e is BrokenCircuitError => e instanceof BrokenCircuitError;

/** Options of {@link CircuitBreaker}; the mapping from the Python parameters is on the class. */
export interface CircuitBreakerOptions {
  /** Names the circuit in errors and opossum's stats. */
  name: string;
  /** Consecutive counted failures that open the circuit (Python `failure_threshold`). @defaultValue 5 */
  failureThreshold?: number;
  /** Time OPEN before one trial call is let through (Python `reset_timeout`). @defaultValue 60000 */
  resetTimeoutMs?: number;
  /**
   * Longest time a HALF_OPEN trial may stay unsettled before the circuit re-opens. Not the Python
   * `half_open_timeout` (see the class comment). @defaultValue undefined (no deadline: the HTTP
   * client's own timeout already bounds every trial)
   */
  halfOpenTimeoutMs?: number;
  /** Failures older than this stop counting; also opossum's stats window. @defaultValue 60000 */
  rollingWindowMs?: number;
  /** Which errors count as failures. @defaultValue {@link defaultIsFailure} */
  isFailure?: (error: unknown) => boolean;
  /** Told of every transition, e.g. to log it. Must not throw (a throw is swallowed). */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

/** Transient HTTP failures (network, timeout, 429, 5xx) count; a NonRetryableError or other 4xx never does. */
export const defaultIsFailure = (error: unknown): boolean => !isNonRetryableError(error) && isTransientHttpError(error);

type Action = (fn: (signal?: AbortSignal) => Promise<unknown>, signal: AbortSignal | undefined) => Promise<unknown>;

/**
 * Port, on opossum 9, of the `CircuitBreaker` of the payment adapter's Python design (an asyncio
 * class with CLOSED/OPEN/HALF_OPEN states guarding the provider calls). Parameter mapping:
 *
 * - `failure_threshold` → `failureThreshold`, counted here as consecutive counted failures;
 *   reaching it calls opossum's `open()`. opossum's own trip is switched off
 *   (`errorThresholdPercentage: 100`, which a rate must exceed, and
 *   `volumeThreshold: MAX_SAFE_INTEGER`): its rule is "error percentage over a rolling window
 *   once `volumeThreshold` calls were seen", which cannot express "N failures in a row". With
 *   `volumeThreshold = N` and a high percentage, one old success in the window keeps the circuit
 *   closed through any number of failures; with a low one, it opens on failures that were not
 *   consecutive.
 * - Fixed Python defect: its count never reset while CLOSED, so five failures spread over a week
 *   opened it. Here any success resets the count, and a failure older than `rollingWindowMs`
 *   (opossum's `rollingCountTimeout`, also used for its stats) stops counting.
 * - `reset_timeout` → opossum `resetTimeout`: OPEN → HALF_OPEN after it.
 * - `half_open_timeout` has no opossum equivalent. In the Python a HALF_OPEN circuit closed once
 *   that much time had passed since the last failure, without any call succeeding (and with its
 *   defaults, 30 s < 60 s, it closed at once). opossum's HALF_OPEN instead lets exactly one trial
 *   through, rejects the rest meanwhile, and goes → CLOSED on the trial's success and → OPEN on its
 *   failure. `halfOpenTimeoutMs` here is a different, optional guard: a trial that has not settled
 *   in time re-opens the circuit, so a call that never ends cannot wedge it HALF_OPEN.
 * - opossum's `timeout` is disabled (`false`): it only stops waiting and leaves the call running,
 *   while the HTTP client's AbortSignal timeout really cancels the request (destroys the socket).
 * - Declines and other 4xx are not failures (opossum `errorFilter` = not `isFailure`); opossum
 *   treats a filtered error as a success: the dependency answered, so it resets the count and a
 *   HALF_OPEN trial that gets one closes the circuit.
 * - The Python's asyncio.Lock is not needed: opossum changes state synchronously.
 *
 * State is per process, as opossum's is.
 */
export class CircuitBreaker {
  /** What it guards, e.g. `payment-provider` (logs, metrics). */
  readonly name: string;
  private readonly breaker: Opossum<Parameters<Action>, unknown>;
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly halfOpenTimeoutMs: number | undefined;
  private readonly onStateChange: CircuitBreakerOptions['onStateChange'];
  /** Times of the counted failures since the last success (the Python's `_failure_count`). */
  private failures: number[] = [];
  private reported: CircuitState = 'CLOSED';
  private readonly trialTimers = new Set<NodeJS.Timeout>();

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    const isFailure = options.isFailure ?? defaultIsFailure;
    this.threshold = positive('failureThreshold', options.failureThreshold ?? 5);
    this.windowMs = positive('rollingWindowMs', options.rollingWindowMs ?? 60_000);
    this.halfOpenTimeoutMs = options.halfOpenTimeoutMs === undefined ? undefined : positive('halfOpenTimeoutMs', options.halfOpenTimeoutMs);
    this.onStateChange = options.onStateChange;
    const action: Action = (fn, signal) => fn(signal);
    this.breaker = new Opossum(action, {
      name: options.name,
      timeout: false,
      resetTimeout: positive('resetTimeoutMs', options.resetTimeoutMs ?? 60_000),
      rollingCountTimeout: this.windowMs,
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      // A call the caller aborted says nothing about the dependency: it is neither a success (which
      // would close a HALF_OPEN circuit the dependency never answered) nor a counted failure. opossum
      // hands the call's arguments (fn, signal) to errorFilter and to 'failure' listeners.
      errorFilter: (error: unknown, ...args: unknown[]) => !(args[1] as AbortSignal | undefined)?.aborted && !isFailure(error),
    });
    this.breaker.on('success', () => (this.failures = []));
    this.breaker.on('failure', (_error: unknown, _latency: number, args?: unknown[]) => {
      if (!(args?.[1] as AbortSignal | undefined)?.aborted) this.countFailure();
    });
    this.breaker.on('open', () => this.moved('OPEN'));
    this.breaker.on('halfOpen', () => this.moved('HALF_OPEN'));
    this.breaker.on('close', () => this.moved('CLOSED'));
    // opossum 9 emits no 'error' event, but an EventEmitter without an 'error' listener kills the
    // process if one is ever emitted; the caller already gets every call's error from execute().
    (this.breaker as EventEmitter).on('error', () => undefined);
  }

  /** OPEN also while shut down: every call is rejected then too. */
  get state(): CircuitState {
    if (this.breaker.opened || this.breaker.isShutdown) return 'OPEN';
    if (this.breaker.halfOpen) return 'HALF_OPEN';
    return 'CLOSED';
  }

  /**
   * Runs `fn` through the breaker, handing it `signal`. Rejects with {@link BrokenCircuitError}
   * while OPEN (or HALF_OPEN with the trial in flight) without calling `fn`. An already aborted
   * signal rejects with its reason without counting or using up a HALF_OPEN trial.
   */
  async execute<T>(fn: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw signal.reason;
    // opossum clears pendingClose synchronously inside fire(): read it first to know this is the trial.
    const isTrial = this.breaker.halfOpen && this.breaker.pendingClose;
    const call = this.breaker.fire(fn, signal) as Promise<T>;
    if (isTrial) this.guardTrial(call);
    try {
      return await call;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') {
        throw new BrokenCircuitError(`circuit ${this.breaker.name} is ${code === 'ESHUTDOWN' ? 'shut down' : 'open'}`, {
          context: { circuit: this.breaker.name },
        });
      }
      throw error;
    }
  }

  /** Stops its timers and rejects every later call (shutdown, tests). */
  shutdown(): void {
    for (const timer of this.trialTimers) clearTimeout(timer);
    this.trialTimers.clear();
    this.breaker.shutdown();
  }

  private countFailure(): void {
    const now = Date.now();
    this.failures = this.failures.filter((at) => now - at < this.windowMs);
    this.failures.push(now);
    // Only a CLOSED circuit trips on the count; opossum itself re-opens on a failed HALF_OPEN trial.
    if (this.breaker.closed && this.failures.length >= this.threshold) this.breaker.open();
  }

  private guardTrial(call: Promise<unknown>): void {
    if (this.halfOpenTimeoutMs === undefined) return;
    const timer = setTimeout(() => {
      this.trialTimers.delete(timer);
      if (this.breaker.halfOpen) this.breaker.open();
    }, this.halfOpenTimeoutMs);
    this.trialTimers.add(timer);
    const clear = () => {
      clearTimeout(timer);
      this.trialTimers.delete(timer);
    };
    call.then(clear, clear);
  }

  private moved(state: CircuitState): void {
    this.failures = [];
    const previous = this.reported;
    if (previous === state) return;
    this.reported = state;
    try {
      this.onStateChange?.(state, previous);
    } catch {
      // Swallowed on purpose: opossum emits from inside a call's settlement, and a throw there
      // would leave that call's promise pending forever.
    }
  }
}

/**
 * The breaker as a {@link Policy}, to compose with others. opossum is not a cockatiel `IPolicy`,
 * and {@link CircuitBreaker.execute} hands its function the signal rather than a context; this
 * adapts one to the other and changes nothing else.
 */
export function breakerPolicy(breaker: CircuitBreaker): Policy {
  return {
    execute: (fn, signal) => breaker.execute((inner) => fn(inner ? { signal: inner } : {}), signal),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
  return value;
}
