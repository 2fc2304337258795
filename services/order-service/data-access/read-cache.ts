import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { Logger } from '../../../shared/logging/logger.js';
import type { MetricsRegistry } from '../../../shared/observability/metrics.js';
import type { Change, ChangeFeed, ChangeListener } from './change-feed.js';

/** What is cached: the catalog, and orders by id. */
export type CacheName = 'products' | 'orders';

/** How one kind of read is cached. */
export interface CacheSpec<T> {
  name: CacheName;
  /** How long an entry is served; 0: not cached (every read loads). */
  ttlMs: number;
  /** Which loaded values may be kept. @defaultValue every value */
  cacheable?: (value: T) => boolean;
}

export interface ReadCacheOptions {
  redis: Redis;
  /** Keys' prefix in Redis (the namespace), so that stacks sharing a Redis do not share entries. */
  prefix: string;
  feed: Pick<ChangeFeed, 'connected' | 'listen'>;
  logger: Logger;
  metrics?: MetricsRegistry;
  /** Entries held in each instance's memory. @defaultValue 10 000 */
  memoryItems?: number;
}

/** An entry as stored: the value and when it was loaded (for warming). */
interface Stored<T> {
  v: T;
  at: number;
}

/** An entry past this share of its TTL is loaded again in the background when it is read. */
const WARM_AFTER = 0.8;
/** How long an invalidation is remembered, for loads that began before it. Longer than any load. */
const INVALIDATION_MEMORY_MS = 5 * 60_000;
/** How often a cache whose Redis copy may be stale tries to clear it. */
const CLEAR_RETRY_MS = 2_000;

/**
 * Cache-aside for the API's reads, in two tiers (bentocache): each instance's memory, then Redis,
 * shared by the instances; a miss loads from Postgres. Kept correct by the change feed rather than
 * by TTL alone: every instance hears every committed change (migration 008) and drops the entries
 * it touches, from memory and from Redis, whichever instance made it.
 *
 * - **One load per key** at a time per instance: readers that miss together share the load
 *   (stampede protection). Ours, in a map of loads in flight, rather than bentocache's
 *   `getOrSet`, whose lock makes waiters run their own load one after another when the value is
 *   not to be kept (an order not yet ended): those would queue instead of sharing.
 * - **No stale write-back**: a load that began before an invalidation of its key is returned to
 *   its readers and not stored, and readers arriving after the invalidation do not join it.
 * - **Warming**: read when past {@link WARM_AFTER} of its TTL, an entry is loaded again in the
 *   background, so a key read often never expires under its readers (bentocache 1.x has no eager
 *   refresh of its own); `warm()` loads a key at start.
 * - **Failures**: a read or write Redis fails is skipped (bentocache's `suppressL2Errors`); reads
 *   go to Postgres as without the cache. A drop Redis fails leaves its copy possibly stale: until a
 *   clear of the whole cache succeeds (tried every {@link CLEAR_RETRY_MS}), every read bypasses
 *   the cache. While the change feed is down nothing announces changes, so every read bypasses
 *   the cache too, and once it is back everything cached is dropped (changes were missed).
 *
 * Counted in `cache_requests_total{cache, result}`: `hit`, `miss` (loaded), `bypass` (cache off
 * or feed down); `cache_loads_total{cache}`, the loads from Postgres; and
 * `cache_invalidations_total{cache}`, the entries dropped for a change.
 */
export class ReadCache implements ChangeListener {
  private readonly bento: BentoCache<{ read: ReturnType<typeof bentostore> }>;
  private readonly loads = new Map<string, Promise<{ value: unknown; kept: boolean }>>();
  private readonly invalidated = new Map<string, number>();
  private allInvalidatedAt = -1;
  /** Redis may hold an entry a change should have dropped: bypass until a clear succeeds. */
  private clearTimer: NodeJS.Timeout | undefined;
  private readonly requests: Counter<'cache' | 'result'> | undefined;
  private readonly loadCount: Counter<'cache'> | undefined;
  private readonly drops: Counter<'cache'> | undefined;
  private readonly stopListening: () => void;

  constructor(private readonly options: ReadCacheOptions) {
    this.bento = new BentoCache({
      default: 'read',
      prefix: `${options.prefix}read`,
      // Reads and writes that fail on Redis go on without it; the deletes below ask to hear of it.
      suppressL2Errors: true,
      grace: false,
      stores: {
        read: bentostore()
          .useL1Layer(memoryDriver({ maxItems: options.memoryItems ?? 10_000 }))
          .useL2Layer(redisDriver({ connection: options.redis })),
      },
    });
    this.requests = options.metrics
      ? new Counter({
          name: 'cache_requests_total',
          help: 'Reads through the API cache: hit (from memory or Redis), miss (loaded from Postgres), bypass (cache off, or the change feed down).',
          labelNames: ['cache', 'result'],
          registers: [options.metrics],
        })
      : undefined;
    this.loadCount = options.metrics
      ? new Counter({
          name: 'cache_loads_total',
          help: 'Loads from Postgres for the API cache: one per key however many readers missed together, plus warming.',
          labelNames: ['cache'],
          registers: [options.metrics],
        })
      : undefined;
    this.drops = options.metrics
      ? new Counter({
          name: 'cache_invalidations_total',
          help: 'Entries of the API cache dropped because Postgres announced a change to them (on this instance; memory and Redis).',
          labelNames: ['cache'],
          registers: [options.metrics],
        })
      : undefined;
    this.stopListening = options.feed.listen(this);
  }

  /** The value at `key`: cached, shared with a load in flight, or loaded now (and kept if it may be). */
  async read<T>(spec: CacheSpec<T>, key: string, load: () => Promise<T>): Promise<T> {
    if (spec.ttlMs <= 0 || !this.options.feed.connected || this.clearTimer) {
      this.requests?.inc({ cache: spec.name, result: 'bypass' });
      return load();
    }
    const stored = (await this.bento.get<Stored<T>>({ key })) ?? undefined;
    if (stored) {
      this.requests?.inc({ cache: spec.name, result: 'hit' });
      if (Date.now() - stored.at > spec.ttlMs * WARM_AFTER && !this.loads.has(key)) {
        this.load(spec, key, load).catch((error: unknown) => this.options.logger.warn('cache warming failed; the entry expires as usual', { key, error }));
      }
      return stored.v;
    }
    this.requests?.inc({ cache: spec.name, result: 'miss' });
    return (await this.load(spec, key, load)).value;
  }

  /** Loads `key` now and keeps it (start-up). */
  async warm<T>(spec: CacheSpec<T>, key: string, load: () => Promise<T>): Promise<void> {
    if (spec.ttlMs > 0 && this.options.feed.connected && !this.clearTimer) await this.load(spec, key, load);
  }

  changed(change: Change): void {
    void this.drop(change.kind === 'catalog' ? 'products' : orderKey(change.orderId));
  }

  resync(): void {
    this.allInvalidatedAt = performance.now();
    this.loads.clear();
    this.bento.clear({ suppressL2Errors: false }).catch(() => this.clearLater());
  }

  async close(): Promise<void> {
    this.stopListening();
    clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
    await this.bento.disconnectAll();
  }

  /** Until Redis takes a clear, it may hold what a change dropped: bypass, and try again. */
  private clearLater(): void {
    if (this.clearTimer) return;
    this.options.logger.warn('the cache could not drop a changed entry from Redis; reads bypass the cache until it can be cleared');
    const attempt = () => {
      this.clearTimer = setTimeout(() => {
        this.allInvalidatedAt = performance.now();
        this.bento.clear({ suppressL2Errors: false }).then(
          () => {
            this.clearTimer = undefined;
            this.options.logger.info('cache cleared; reads use it again');
          },
          () => attempt(),
        );
      }, CLEAR_RETRY_MS);
      this.clearTimer.unref();
    };
    attempt();
  }

  private load<T>(spec: CacheSpec<T>, key: string, load: () => Promise<T>): Promise<{ value: T; kept: boolean }> {
    const inFlight = this.loads.get(key);
    if (inFlight) return inFlight as Promise<{ value: T; kept: boolean }>;
    const started = performance.now();
    this.loadCount?.inc({ cache: spec.name });
    const loading = (async () => {
      const value = await load();
      const kept = (spec.cacheable?.(value) ?? true) && !this.invalidatedSince(key, started);
      if (kept) {
        await this.bento.set({ key, value: { v: value, at: Date.now() } satisfies Stored<T>, ttl: spec.ttlMs });
        // A change heard while it was being written: its drop may have run first.
        if (this.invalidatedSince(key, started)) await this.drop(key);
      }
      return { value, kept };
    })();
    this.loads.set(key, loading);
    const forget = () => {
      if (this.loads.get(key) === loading) this.loads.delete(key);
    };
    loading.then(forget, forget);
    return loading;
  }

  private invalidatedSince(key: string, started: number): boolean {
    return this.allInvalidatedAt >= started || (this.invalidated.get(key) ?? -1) >= started;
  }

  private async drop(key: string): Promise<void> {
    const now = performance.now();
    this.invalidated.delete(key); // re-inserted last: the map stays in time order for the sweep below
    this.invalidated.set(key, now);
    for (const [old, at] of this.invalidated) {
      if (now - at < INVALIDATION_MEMORY_MS) break;
      this.invalidated.delete(old);
    }
    this.loads.delete(key);
    await this.bento.delete({ key, suppressL2Errors: false }).catch(() => this.clearLater());
    this.drops?.inc({ cache: key === PRODUCTS_KEY ? 'products' : 'orders' });
  }
}

export const orderKey = (orderId: string) => `order:${orderId}`;
export const PRODUCTS_KEY = 'products';
