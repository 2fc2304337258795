import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../../../../shared/logging/logger.js';
import type { Principal } from './auth.js';
import { ProblemError } from './problem.js';

export interface RateLimitOptions {
  redis: Redis;
  /** Redis key prefix (the namespace). */
  prefix: string;
  /** Requests a customer may make per window. */
  customerPoints: number;
  /** Requests an unauthenticated client address may make per window. */
  anonymousPoints: number;
  windowSeconds: number;
  logger: Logger;
}

/**
 * Fixed-window rate limits per customer (per client address when the request carries no valid
 * token), shared by every instance through Redis with rate-limiter-flexible, whose Redis limiter
 * counts atomically (one Lua script per request). Every answer carries `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` (seconds, draft-ietf-httpapi-ratelimit-headers);
 * over the limit → 429 with `Retry-After`.
 *
 * Redis down: each instance falls back to an in-memory limiter with the same limits (the
 * library's insurance limiter), so limits still hold per instance (fails open to that, not to
 * "unlimited") and a Redis outage does not take the API down.
 *
 * The client address is `req.ip`: `X-Forwarded-For` counts only from the proxies in
 * TRUSTED_PROXIES (express' `trust proxy`, set in create-app.ts).
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix: `${options.prefix}ratelimit:${name}`,
      points,
      duration: options.windowSeconds,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `ratelimit:${name}`, points, duration: options.windowSeconds }),
    });
  const customers = limiter('customer', options.customerPoints);
  const anonymous = limiter('address', options.anonymousPoints);

  return (req, res, next) => {
    const principal = res.locals.principal as Principal | undefined;
    const [limit, points, key] = principal
      ? [customers, options.customerPoints, `${principal.role}:${principal.subject}`]
      : [anonymous, options.anonymousPoints, req.ip ?? 'unknown'];
    const headers = (result: RateLimiterRes) => {
      res.setHeader('RateLimit-Limit', String(points));
      res.setHeader('RateLimit-Remaining', String(Math.max(0, result.remainingPoints)));
      res.setHeader('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
    };
    limit.consume(key).then(
      (result) => {
        headers(result);
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) {
          // Neither Redis nor the insurance limiter answered: let the request through rather than
          // refuse every client for an internal fault; logged so it is seen.
          options.logger.warn('rate limiter failed; request let through', { error: rejection });
          return next();
        }
        headers(rejection);
        const retryAfter = String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        next(new ProblemError('rate_limited', `too many requests; retry in ${retryAfter} s`, {}, { 'Retry-After': retryAfter }));
      },
    );
  };
}
