export interface RetryScheduleOptions {
  /** Delay before the first retry; each later one doubles. */
  baseDelayMs: number;
  /** @defaultValue 5 minutes */
  maxDelayMs?: number;
}

/**
 * Delay before retry number `attempt` (1-based): base·2^(attempt-1), capped, with "equal jitter"
 * (uniform in [d/2, d]). Equal rather than full jitter keeps a floor under every delay, and keeps
 * messages of one delay queue close to FIFO by expiry: a message can wait behind an earlier one at
 * the queue's head (per-message TTL expires only at the head) by at most d/2.
 */
export function retryDelayMs(attempt: number, options: RetryScheduleOptions, random: () => number = Math.random): number {
  const cap = options.maxDelayMs ?? 300_000;
  const ceiling = Math.min(cap, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
