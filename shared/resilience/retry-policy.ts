/**
 * Retry with exponential backoff and jitter, always bounded.
 *
 * The Python HTTPClient used tenacity `stop_after_attempt(3)` and
 * `wait_exponential(multiplier=1, min=4, max=10)` (seconds): 3 attempts, waits of 4 s then 4..10 s.
 * Mapped to the defaults here: maxAttempts 3, baseDelayMs 4000, maxDelayMs 10000. Unlike tenacity's
 * plain exponential wait, a full jitter spreads retries of many clients, and a server's
 * Retry-After is honoured (capped by maxRetryAfterMs).
 */
export interface RetryOptions {
  /** Attempts in all, the first included. @defaultValue 3 */
  maxAttempts?: number;
  /** @defaultValue 4000 */
  baseDelayMs?: number;
  /** @defaultValue 10000 */
  maxDelayMs?: number;
  /** 'full': uniform in [0, d]; 'none': exactly d. @defaultValue 'full' */
  jitter?: 'full' | 'none';
  /** Longest Retry-After honoured. @defaultValue 30000 */
  maxRetryAfterMs?: number;
}

/** Delay before retry number `attempt` (1 = the first retry). */
export function computeDelay(attempt: number, options: RetryOptions = {}, random: () => number = Math.random): number {
  const base = options.baseDelayMs ?? 4000;
  const ceiling = Math.min(options.maxDelayMs ?? 10_000, base * 2 ** (attempt - 1));
  return Math.round((options.jitter ?? 'full') === 'full' ? random() * ceiling : ceiling);
}

export interface RetryCall {
  shouldRetry: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  random?: () => number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the attempts are spent. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions, call: RetryCall): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 3;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !call.shouldRetry(error)) throw error;
      const backoff = computeDelay(attempt, options, call.random);
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
      const delay = retryAfter === undefined ? backoff : Math.max(backoff, Math.min(retryAfter, options.maxRetryAfterMs ?? 30_000));
      call.onRetry?.(error, attempt, delay);
      await sleep(delay, call.signal);
    }
  }
}
