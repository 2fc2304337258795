/**
 * Admission control's arithmetic, kept pure so that it reads (and is tested) apart from the
 * figures it is fed: how many orders may be in progress at once, and how long a refused client
 * should wait before it tries again.
 */

/** How the bound on orders in progress is set (from ADMISSION_MAX_BACKLOG and its companions). */
export type BacklogLimit =
  | { kind: 'off' }
  | { kind: 'fixed'; max: number }
  /** max(min, orders ending per second × targetSeconds): see {@link backlogBound}. */
  | { kind: 'adaptive'; min: number; targetSeconds: number };

export type AdmissionDecision =
  | { admit: true }
  | { admit: false; backlog: number; bound: number; retryAfterSeconds: number };

/** Retry-After never says less than a second (its unit) nor more than half a minute. */
export const RETRY_AFTER_MIN_S = 1;
export const RETRY_AFTER_MAX_S = 30;

/**
 * The most orders that may be accepted and not yet ended; Infinity when admission control is off.
 *
 * Adaptive: by Little's law the orders in progress L, the rate at which they end λ and the time
 * each spends in the saga W satisfy L = λ·W, so holding L at λ × targetSeconds holds the mean
 * order→terminal time near targetSeconds. λ is the measured completion rate, which cannot exceed
 * what the machine can do: the bound follows the machine, faster or slower, without a figure to
 * tune per host. Raising the bound does not lower λ, so the loop is stable; the floor `min` lets
 * orders in when nothing has ended lately (an idle system, a fresh start) and must stay above the
 * few dozen orders the pipeline needs in flight to run at full rate.
 */
export function backlogBound(limit: BacklogLimit, endedPerSecond: number): number {
  switch (limit.kind) {
    case 'off':
      return Infinity;
    case 'fixed':
      return limit.max;
    case 'adaptive':
      return Math.max(limit.min, Math.floor(Math.max(0, endedPerSecond) * limit.targetSeconds));
  }
}

/**
 * Seconds until `excess` orders have ended at `endedPerSecond`, clamped to
 * {@link RETRY_AFTER_MIN_S}..{@link RETRY_AFTER_MAX_S}. Nothing ending at all (a participant or
 * the payment provider down) gives the longest wait: the backlog is not draining.
 */
export function retryAfterSeconds(excess: number, endedPerSecond: number): number {
  if (!(endedPerSecond > 0)) return RETRY_AFTER_MAX_S;
  return Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil(excess / endedPerSecond)));
}

/**
 * Whether one more order may come in while `backlog` orders are in progress. Refused, the client
 * is told to wait for the excess to drain: one more order fits once backlog − bound + 1 have ended.
 */
export function decideAdmission(limit: BacklogLimit, backlog: number, endedPerSecond: number): AdmissionDecision {
  const bound = backlogBound(limit, endedPerSecond);
  if (backlog < bound) return { admit: true };
  return { admit: false, backlog, bound, retryAfterSeconds: retryAfterSeconds(backlog - bound + 1, endedPerSecond) };
}
