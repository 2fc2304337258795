import type { Policy } from './policy.js';

/**
 * Retry with exponential backoff and jitter, always bounded: the number of attempts, each wait,
 * and any server-requested wait are capped.
 *
 * Mapping from the payment adapter's Python design, whose `HTTPClient` retried with tenacity
 * `stop_after_attempt(3)` and `wait_exponential(multiplier=1, min=4, max=10)` (seconds):
 * - `stop_after_attempt(3)` → `maxAttempts: 3` (the first attempt included, as in tenacity).
 * - tenacity waits `clamp(1 s × 2^(n-1), 4 s, 10 s)` after attempt n, i.e. 4 s, 4 s, 4 s, 8 s, 10 s…
 *   Here the ceiling doubles from `baseDelayMs: 4000` up to `maxDelayMs: 10000`: 4 s, 8 s, 10 s…
 *   Deliberate differences: tenacity's `min` becomes the base of the doubling rather than a floor,
 *   and full jitter (uniform in [0, ceiling]) replaces fixed waits, so that many clients failing
 *   together do not come back in lock-step. `jitter: 'none'` gives the plain ceilings.
 * - Added: a `retryAfterMs` carried by the error (an HTTP Retry-After) is honoured: the wait is
 *   `max(backoff, min(retryAfterMs, maxRetryAfterMs))`.
 */
export interface RetryOptions {
  /** Attempts in all, the first included; must be a finite integer ≥ 1. @defaultValue 3 */
  maxAttempts?: number;
  /** Ceiling of the wait before the first retry; doubles per retry. @defaultValue 4000 */
  baseDelayMs?: number;
  /** Largest backoff ceiling. @defaultValue 10000 */
  maxDelayMs?: number;
  /** 'full': uniform in [0, ceiling]; 'none': exactly the ceiling. @defaultValue 'full' */
  jitter?: 'full' | 'none';
  /** Longest server-requested (Retry-After) wait that is honoured. @defaultValue 30000 */
  maxRetryAfterMs?: number;
}

/** What {@link retry} needs besides the policy: which errors to retry, and hooks. */
export interface RetryHooks {
  /** False stops at once and rethrows (e.g. a 4xx, a NonRetryableError). */
  shouldRetry: (error: unknown) => boolean;
  /** Called before each wait; `attempt` is the attempt that just failed (1-based). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborting stops a pending wait at once and prevents further attempts. */
  signal?: AbortSignal;
  /** Source of jitter; inject a seeded one in tests. @defaultValue Math.random */
  random?: () => number;
  /** How to wait; injectable for tests. @defaultValue a setTimeout that the signal cancels */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The defaults, mapped from the Python's tenacity settings (see the module comment). */
export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 4_000,
  maxDelayMs: 10_000,
  jitter: 'full',
  maxRetryAfterMs: 30_000,
});

/** Fills in defaults and rejects values that would make retrying unbounded or meaningless. */
export function resolveRetryOptions(options: RetryOptions = {}): Required<RetryOptions> {
  const d = DEFAULT_RETRY_OPTIONS;
  const resolved: Required<RetryOptions> = {
    maxAttempts: options.maxAttempts ?? d.maxAttempts,
    baseDelayMs: options.baseDelayMs ?? d.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? d.maxDelayMs,
    jitter: options.jitter ?? d.jitter,
    maxRetryAfterMs: options.maxRetryAfterMs ?? d.maxRetryAfterMs,
  };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a finite integer ≥ 1, got ${resolved.maxAttempts}`);
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(resolved[key]) || resolved[key] < 0) throw new RangeError(`${key} must be a finite number ≥ 0`);
  }
  return resolved;
}

/**
 * Backoff before retry number `attempt` (1 = the wait after the first failure): the ceiling
 * `min(maxDelayMs, baseDelayMs × 2^(attempt-1))`, jittered. Pure: `random` is the only input that varies.
 */
export function computeDelay(attempt: number, options: RetryOptions = {}, random: () => number = Math.random): number {
  const { baseDelayMs, maxDelayMs, jitter } = resolveRetryOptions(options);
  // The exponent is capped so that a large attempt number cannot overflow to Infinity.
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 52));
  if (jitter === 'none') return Math.round(ceiling);
  return Math.round(Math.min(Math.max(random(), 0), 1) * ceiling);
}

/**
 * Runs `fn` until it succeeds, fails with an error `shouldRetry` rejects, the attempts are spent,
 * or the signal aborts; then rethrows the last error unchanged.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions & RetryHooks): Promise<T> {
  const policy = resolveRetryOptions(options);
  const wait = options.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || options.signal?.aborted || !options.shouldRetry(error)) throw error;
      const delay = delayAfter(error, attempt, policy, options.random);
      options.onRetry?.(error, attempt, delay);
      await wait(delay, options.signal);
    }
  }
}

/**
 * {@link retry} as a {@link Policy}, to compose with others: each attempt gets `attempt` (1-based) in
 * its context, and the signal `execute` was given stops the retries.
 */
export function retryPolicy(options: RetryOptions & Omit<RetryHooks, 'signal'>): Policy {
  resolveRetryOptions(options);
  return {
    execute: (fn, signal) => retry((attempt) => fn({ attempt, ...(signal ? { signal } : {}) }), { ...options, ...(signal ? { signal } : {}) }),
  };
}

/** max(backoff, capped Retry-After): the server's wish is honoured but never waits forever. */
function delayAfter(error: unknown, attempt: number, policy: Required<RetryOptions>, random?: () => number): number {
  const backoff = computeDelay(attempt, policy, random);
  const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0) return backoff;
  return Math.max(backoff, Math.min(retryAfter, policy.maxRetryAfterMs));
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
