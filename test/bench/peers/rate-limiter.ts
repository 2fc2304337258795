import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { rateLimit } from '../../../services/order-service/entry-points/http/rate-limit.js';
import { createLogger } from '../../../shared/logging/logger.js';
import { closedLoop, type Send } from '../http-load.js';
import { withTimeout } from '../with-timeout.js';

export interface RateLimiterPeers {
  durationMs: number;
  concurrency: number;
  /** Our express middleware, called directly. */
  oursOpsPerSecond: number;
  /** Bare `RateLimiterRedis.consume` of rate-limiter-flexible. */
  libraryOpsPerSecond: number;
}

/** Never reached in a run, so every call takes the same (allowed) path. */
const POINTS = 1_000_000_000;
const WINDOW_SECONDS = 60;
/** Distinct customers; each call takes the next, so several keys are hot at once. */
const CUSTOMERS = 64;

/**
 * Our rate limiter beside the library it is built on. `rateLimit()` is rate-limiter-flexible's
 * RateLimiterRedis (with an in-memory insurance limiter) plus the RateLimit-* headers and the
 * express glue, so the ratio is the overhead of our layer, not a contest between two limiters.
 * Both run closed-loop at the same concurrency for the same time against the same Redis, each
 * under a random key prefix of its own with the same points and window; the middleware gets
 * minimal fake req/res objects. The two alternate in two rounds each (after a warm-up) so drift
 * on the machine falls on both; every key is deleted afterwards.
 */
export async function rateLimiterPeers(redisUrl: string, durationMs: number, concurrency: number): Promise<RateLimiterPeers> {
  const namespace = `bench_${randomBytes(4).toString('hex')}_`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect(), 10_000, 'Redis');
    const clients: Record<'ours' | 'library', Send> = { ours: ourMiddleware(redis, `${namespace}ours:`), library: bareLibrary(redis, `${namespace}library:`) };
    for (const send of Object.values(clients)) await closedLoop(concurrency, Math.min(1_000, durationMs / 4), send);
    const totals = { ours: { ok: 0, ms: 0 }, library: { ok: 0, ms: 0 } };
    for (let round = 0; round < 2; round += 1) {
      for (const name of ['library', 'ours'] as const) {
        const result = await closedLoop(concurrency, durationMs / 2, clients[name]);
        totals[name].ok += result.ok;
        totals[name].ms += result.durationMs;
      }
    }
    const perSecond = ({ ok, ms }: { ok: number; ms: number }) => Math.round((ok * 1000) / ms);
    return { durationMs, concurrency, oursOpsPerSecond: perSecond(totals.ours), libraryOpsPerSecond: perSecond(totals.library) };
  } finally {
    await withTimeout(deleteKeys(redis, `${namespace}*`), 10_000, 'deleting the rate-limit keys').catch(() => undefined);
    redis.disconnect();
  }
}

function ourMiddleware(redis: Redis, prefix: string): Send {
  const middleware = rateLimit({
    redis,
    prefix,
    customerPoints: POINTS,
    anonymousPoints: POINTS,
    windowSeconds: WINDOW_SECONDS,
    logger: createLogger({ service: 'bench-rate-limit', level: 'error' }),
  });
  const request = { ip: '127.0.0.1' } as Request;
  let n = 0;
  return () =>
    new Promise<boolean>((resolve) => {
      n += 1;
      const response = { locals: { principal: { role: 'customer', subject: `c${n % CUSTOMERS}` } }, setHeader: () => response } as unknown as Response;
      void middleware(request, response, (error?: unknown) => resolve(error === undefined));
    });
}

function bareLibrary(redis: Redis, prefix: string): Send {
  // Same key prefix and key shape as the middleware builds, so keys and Lua calls match.
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}ratelimit:customer`, points: POINTS, duration: WINDOW_SECONDS });
  let n = 0;
  return async () => {
    n += 1;
    await limiter.consume(`customer:c${n % CUSTOMERS}`);
    return true;
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
