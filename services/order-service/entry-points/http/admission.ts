import type { Request, RequestHandler } from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';
import { decideAdmission, type BacklogLimit } from '../../domain/admission-policy.js';
import type { BacklogMonitor } from '../../domain/backlog-monitor.js';
import type { Principal } from './auth.js';
import { idempotencyKeyOf, type IdempotencyStore } from './idempotency.js';
import { ProblemError } from './problem.js';

export interface AdmissionOptions {
  limit: BacklogLimit;
  monitor: Pick<BacklogMonitor, 'figures' | 'track'>;
  idempotency: Pick<IdempotencyStore, 'hasRecord'>;
  logger: Logger;
  /** How long a refused request may wait for the look-up of its key's record. @defaultValue 25 */
  replayLookupMs?: number;
  /** At most one summary of refusals per this period. @defaultValue 10 000 */
  logEveryMs?: number;
}

/** `POST /orders` as the orders router matches it (case-insensitive, optional trailing slash). */
const PLACE_ORDER = /^\/orders\/?$/i;

/**
 * Admission control for `POST /orders`: while the orders accepted and not yet ended reach the
 * bound, a new order is refused with `503 overloaded` and a `Retry-After` that estimates how long
 * the excess takes to drain, before anything is written and before anything slow. It runs right
 * after the token is read (an anonymous request goes on to its 401) and before the rate limit: a
 * refusal costs no Redis write and does not use up the client's quota. Reads and cancels (which
 * shrink the backlog) are never refused.
 *
 * A refused request whose Idempotency-Key already has a record (its order was accepted, and the
 * client lost the answer) goes on in replay-only mode and gets that order's stored answer: one
 * Redis read, bounded by `replayLookupMs`, and no write. Without a record (or without Redis in
 * time), 503. A missing or invalid key gets its 400 from the route, as when not overloaded.
 */
export function admission(options: AdmissionOptions): RequestHandler {
  const lookupMs = options.replayLookupMs ?? 25;
  const logEveryMs = options.logEveryMs ?? 10_000;
  let refused = 0;
  let lastLog = 0;

  const noteRefusal = (decision: { backlog: number; bound: number; retryAfterSeconds: number }) => {
    refused += 1;
    const now = Date.now();
    if (now - lastLog < logEveryMs) return;
    // One line per period, not per refusal: at twice the saturation rate that would be hundreds a second.
    options.logger.warn('orders refused: the saga backlog is at its bound', { refused, ...decision, period_ms: logEveryMs });
    refused = 0;
    lastLog = now;
  };

  return (req, res, next) => {
    if (req.method !== 'POST' || !PLACE_ORDER.test(req.path)) return next();
    const principal = res.locals.principal as Principal | undefined;
    if (!principal) return next();
    const key = validKey(req);
    const figures = options.monitor.figures();
    const decision = figures ? decideAdmission(options.limit, figures.backlog, figures.endedPerSecond) : ({ admit: true } as const);
    if (decision.admit) {
      // Counted by customer and key: one order's retries count once. Without a valid key the
      // route answers 400 and writes nothing: nothing to count.
      if (key !== undefined) res.once('close', options.monitor.track(`${principal.subject}\n${key}`));
      return next();
    }
    noteRefusal(decision);
    res.locals.overloaded = true;
    res.locals.route = '/orders';
    const seconds = String(decision.retryAfterSeconds);
    const refusal = new ProblemError('overloaded', `too many orders are in progress; retry in ${seconds} s`, {}, { 'Retry-After': seconds });
    if (key === undefined) {
      // The route answers its 400 (after the rate limit, as always); replay-only, it could not write anyway.
      res.locals.replayOnly = refusal;
      return next();
    }
    return options.idempotency.hasRecord(principal.subject, key, lookupMs).then((known) => {
      if (!known) return next(refusal);
      res.locals.replayOnly = refusal;
      next();
    });
  };
}

/** The request's Idempotency-Key if it is one the route accepts; undefined otherwise (the route answers 400). */
function validKey(req: Request): string | undefined {
  try {
    return idempotencyKeyOf(req, true);
  } catch {
    return undefined;
  }
}

/** The refusal a request was let through with in replay-only mode (see {@link admission}), if any. */
export function replayOnlyRefusal(locals: Record<string, unknown>): ProblemError | undefined {
  return locals.replayOnly instanceof ProblemError ? locals.replayOnly : undefined;
}
