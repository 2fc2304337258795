/** Options of {@link LookupCache}. */
export interface LookupCacheOptions<T> {
  /** How long a kept answer is served after it arrived; a finite number > 0. */
  ttlMs: number;
  /**
   * Which answers may be kept, and shared with callers that asked while they were on their way.
   * An answer it refuses reaches only the caller whose request it was; callers that joined that
   * request in flight ask again (their question came after the request left, so the answer may be
   * older than it). @defaultValue every answer
   */
  keep?: (value: T) => boolean;
  /** Most answers held; the oldest go first. @defaultValue 1000 */
  maxEntries?: number;
}

type Entry<T> = { kind: 'pending'; answer: Promise<T> } | { kind: 'kept'; value: T; expiresAt: number };

/**
 * A short-lived cache of idempotent look-ups (GETs), keyed by the caller (e.g. path and query):
 * concurrent identical look-ups share one request, and an answer is served for `ttlMs` after it
 * arrived. A failure is never kept: the next caller asks again. Answers are shared, not copied.
 *
 * A Map with expiry rather than lru-cache, which this project does not depend on directly (only
 * through other packages): the entries are few and short-lived, and what is needed beyond a map
 * — sharing requests in flight, and the `keep` rule for them — lru-cache's `fetch()` would not
 * give either. Expiry is read on access and swept when the map is full, so it runs no timer.
 */
export class LookupCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly keep: (value: T) => boolean;
  private readonly maxEntries: number;

  constructor(options: LookupCacheOptions<T>) {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) throw new RangeError(`ttlMs must be a finite number > 0, got ${options.ttlMs}`);
    this.ttlMs = options.ttlMs;
    this.keep = options.keep ?? (() => true);
    this.maxEntries = options.maxEntries ?? 1_000;
  }

  /** The answer for `key`: kept, shared with a request in flight, or `load`ed now. */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry?.kind === 'kept' && Date.now() < entry.expiresAt) return entry.value;
    if (entry?.kind !== 'pending') return this.load(key, load);
    const value = await entry.answer;
    if (this.keep(value)) return value;
    // That request left before this caller asked, so its answer may be older than the question: ask
    // again. Whatever is in the map now began after this caller asked (a key has one request in
    // flight at a time), so its answer is taken as it is.
    const next = this.entries.get(key);
    if (next?.kind === 'pending') return next.answer;
    if (next?.kind === 'kept' && Date.now() < next.expiresAt) return next.value;
    return this.load(key, load);
  }

  /** Forgets every answer; requests in flight still answer their callers, and are not kept. */
  clear(): void {
    this.entries.clear();
  }

  private load(key: string, load: () => Promise<T>): Promise<T> {
    const answer = load().then(
      (value) => {
        if (this.entries.get(key) !== entry) return value;
        // Deleted first, so the key moves to the end of the map's order (the newest), which
        // `makeRoom` relies on; a set alone would leave it where its first entry was.
        this.entries.delete(key);
        if (this.keep(value)) this.entries.set(key, { kind: 'kept', value, expiresAt: Date.now() + this.ttlMs });
        return value;
      },
      (error: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw error;
      },
    );
    const entry: Entry<T> = { kind: 'pending', answer };
    this.makeRoom();
    this.entries.delete(key); // an expired entry of the key: the new one goes to the end
    this.entries.set(key, entry);
    return answer;
  }

  /**
   * Drops expired answers, then the oldest kept ones (a Map iterates in insertion order). Requests
   * in flight are never dropped: they are as many as the look-ups running, and a key must keep its
   * one request in flight for the rule in {@link LookupCache.get} to hold.
   */
  private makeRoom(): void {
    if (this.entries.size < this.maxEntries) return;
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.kind === 'kept' && now >= entry.expiresAt) this.entries.delete(key);
    for (const [key, entry] of this.entries) {
      if (this.entries.size < this.maxEntries) break;
      if (entry.kind === 'kept') this.entries.delete(key);
    }
  }
}
