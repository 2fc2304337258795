import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeListener } from '../../services/order-service/data-access/change-feed.js';
import { ReadCache, type CacheSpec } from '../../services/order-service/data-access/read-cache.js';
import { createLogger } from '../../shared/logging/logger.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The read cache on its own, against the real Redis (and a Redis that is not there), with a change
 * feed the test drives: what it keeps, what it refuses to keep, warming, and Redis failures.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ service: 'read-cache-test', level: 'silent' });
const opened: { cache: ReadCache; redis: Redis }[] = [];

afterAll(async () => {
  for (const { cache, redis } of opened) {
    await cache.close().catch(() => undefined);
    redis.disconnect();
  }
});

/** A change feed the test drives: `listener` hears what the test announces. */
function feed() {
  const state = { connected: true, listener: undefined as ChangeListener | undefined };
  return Object.assign(state, {
    listen(listener: ChangeListener) {
      state.listener = listener;
      return () => (state.listener = undefined);
    },
  });
}

async function cacheOn(url: string, changes = feed()) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => undefined);
  await redis.connect().catch(() => undefined);
  const prefix = `rc${randomUUID().slice(0, 8)}:`;
  const cache = new ReadCache({ redis, prefix, feed: changes, logger });
  opened.push({ cache, redis });
  /** The keys the cache holds in Redis now. */
  const inRedis = () => redis.keys(`${prefix}*`);
  /** What the cache holds in Redis now, as text. */
  const storedInRedis = async () => (await Promise.all((await inRedis()).map((key) => redis.get(key)))).join('\n');
  return { cache, changes, inRedis, storedInRedis };
}

/** A loader that counts its calls, reads `value()` when called and answers it `ms` later (the first call `firstMs`). */
function loader<T>(value: () => T, ms = 0, firstMs = ms) {
  const calls = { n: 0 };
  const load = async () => {
    calls.n += 1;
    const read = value();
    await new Promise((resolve) => setTimeout(resolve, calls.n === 1 ? firstMs : ms));
    return read;
  };
  return { calls, load };
}

const spec = (ttlMs = 60_000): CacheSpec<{ v: number }> => ({ name: 'orders', ttlMs });

describe('the read cache', () => {
  it('when Redis cannot be reached, then every read loads from the source and none fails', async () => {
    const { cache } = await cacheOn('redis://127.0.0.1:1');
    let version = 1;
    const { calls, load } = loader(() => ({ v: version }));
    expect(await cache.read(spec(), 'order:a', load)).toEqual({ v: 1 });
    version = 2;
    // Memory still holds it: served without Redis.
    expect(await cache.read(spec(), 'order:a', load)).toEqual({ v: 1 });
    expect(calls.n).toBe(1);
  });

  it('when a change is announced while a load is on its way, then its value is answered but not kept, and later readers load again', async () => {
    const { cache, changes } = await cacheOn(REDIS_URL);
    let version = 1;
    // The early load is the slow one: it ends after the late one has stored the new value.
    const { calls, load } = loader(() => ({ v: version }), 0, 100);
    const early = cache.read(spec(), 'order:b', load);
    await waitFor(async () => calls.n === 1 || undefined, { what: 'the early load to begin' });
    version = 2;
    changes.listener!.changed({ kind: 'order', orderId: 'b' });
    // A reader after the change does not join the load that began before it.
    const late = cache.read(spec(), 'order:b', load);
    expect(await early).toEqual({ v: 1 });
    expect(await late).toEqual({ v: 2 });
    expect(await cache.read(spec(), 'order:b', load)).toEqual({ v: 2 });
    expect(calls.n).toBe(2);
  });

  it('when a value may not be kept, then concurrent readers still share one load, and the next read loads again', async () => {
    const { cache } = await cacheOn(REDIS_URL);
    const { calls, load } = loader(() => ({ v: 7 }), 50);
    const running: CacheSpec<{ v: number }> = { name: 'orders', ttlMs: 60_000, cacheable: () => false };
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.read(running, 'order:c', load)));
    expect(answers).toEqual(Array(20).fill({ v: 7 }));
    expect(calls.n).toBe(1);
    await cache.read(running, 'order:c', load);
    expect(calls.n).toBe(2);
  });

  it('when an entry is read past most of its TTL, then it is loaded again in the background and never expires under its readers', async () => {
    const { cache, storedInRedis } = await cacheOn(REDIS_URL);
    let version = 1;
    const { calls, load } = loader(() => ({ v: version }));
    const short = spec(500);
    expect(await cache.read(short, 'order:d', load)).toEqual({ v: 1 });
    version = 2;
    await new Promise((resolve) => setTimeout(resolve, 450));
    // Past 80 % of its TTL: the reader gets the entry at once, and a load starts behind it.
    expect(await cache.read(short, 'order:d', load)).toEqual({ v: 1 });
    await waitFor(async () => (await storedInRedis()).includes('"v":2') || undefined, { what: 'the warmed entry to be stored' });
    expect(calls.n).toBe(2);
    // Past the first entry's TTL, the warmed one answers: no miss.
    expect(await cache.read(short, 'order:d', load)).toEqual({ v: 2 });
    expect(calls.n).toBe(2);
  });

  it('when the change feed is down, then reads bypass the cache; when it is back, what was kept is dropped', async () => {
    const { cache, changes, inRedis } = await cacheOn(REDIS_URL);
    let version = 1;
    const { calls, load } = loader(() => ({ v: version }));
    await cache.read(spec(), 'order:e', load);
    expect(await inRedis()).not.toEqual([]);
    changes.connected = false;
    changes.listener!.resync();
    version = 2;
    expect(await cache.read(spec(), 'order:e', load)).toEqual({ v: 2 });
    expect(await cache.read(spec(), 'order:e', load)).toEqual({ v: 2 });
    expect(calls.n).toBe(3);
    changes.connected = true;
    changes.listener!.resync();
    await waitFor(async () => (await inRedis()).length === 0 || undefined, { what: 'the clear to reach Redis' });
    expect(await cache.read(spec(), 'order:e', load)).toEqual({ v: 2 });
    expect(await cache.read(spec(), 'order:e', load)).toEqual({ v: 2 });
    expect(calls.n).toBe(4);
  });
});
