import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LookupCache } from './lookup-cache.js';

// Only Date is faked: the cache reads Date.now() and runs no timer, and a real setImmediate lets a
// test wait for the callers' continuations to run.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
});
afterEach(() => vi.useRealTimers());

/** Lets every pending promise continuation run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A loader whose runs the test answers by hand: `runs[i]` is the i-th run, still to settle. */
function manual<T = string>() {
  const runs: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const load = vi.fn(() => new Promise<T>((resolve, reject) => runs.push({ resolve, reject })));
  return { load, runs };
}

/** A loader that answers at once: `<name>#1`, then `<name>#2`… */
function answering(name: string) {
  let runs = 0;
  return vi.fn(async () => `${name}#${(runs += 1)}`);
}

describe('LookupCache: sharing and expiry', () => {
  it('when identical look-ups overlap, then they share one load and every caller gets its answer', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000 });
    const { load, runs } = manual();
    const callers = [cache.get('payments?order_id=o-1', load), cache.get('payments?order_id=o-1', load), cache.get('payments?order_id=o-1', load)];
    expect(load).toHaveBeenCalledTimes(1);
    const other = answering('o-2');
    expect(await cache.get('payments?order_id=o-2', other)).toBe('o-2#1'); // another key has its own load
    runs[0]?.resolve('answer');
    expect(await Promise.all(callers)).toEqual(['answer', 'answer', 'answer']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('when an answer is kept, then it is served, the same object, until ttlMs has passed, then loaded again', async () => {
    const cache = new LookupCache<{ n: number }>({ ttlMs: 1_000 });
    let n = 0;
    const load = vi.fn(async () => ({ n: (n += 1) }));
    const first = await cache.get('k', load);
    vi.advanceTimersByTime(999);
    expect(await cache.get('k', load)).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(await cache.get('k', load)).toEqual({ n: 2 });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('when an answer takes a while to come, then its ttlMs counts from when it arrived, not from when it was asked', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000 });
    const { load, runs } = manual();
    const asked = cache.get('k', load);
    vi.advanceTimersByTime(500);
    runs[0]?.resolve('v1');
    expect(await asked).toBe('v1');
    vi.advanceTimersByTime(999); // 1 499 ms after the question, 999 after the answer
    const served = cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(1);
    expect(await served).toBe('v1');
    vi.advanceTimersByTime(1);
    void cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
    runs[1]?.resolve('v2');
  });

  it('when a load fails, then every caller sharing it gets the error, nothing is kept, and the next caller loads again', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000 });
    const { load, runs } = manual();
    const failure = new Error('provider unavailable');
    const callers = [cache.get('k', load), cache.get('k', load)].map((call) => call.catch((e: unknown) => e));
    runs[0]?.reject(failure);
    await settled();
    expect(load).toHaveBeenCalledTimes(1); // the caller that joined does not ask again
    const [first, second] = await Promise.all(callers);
    expect(first).toBe(failure);
    expect(second).toBe(failure);
    const next = cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
    runs[1]?.resolve('recovered');
    expect(await next).toBe('recovered');
    expect(await cache.get('k', load)).toBe('recovered'); // and that answer is kept
    expect(load).toHaveBeenCalledTimes(2);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('when ttlMs is %s, then it is refused', (ttlMs) => {
    expect(() => new LookupCache<string>({ ttlMs })).toThrow(RangeError);
  });
});

describe('LookupCache: the keep rule', () => {
  const keepFound = (value: string) => value !== 'none';

  it('when keep refuses an answer, then the caller whose request it was gets it, it is not kept, and the next caller loads again', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, keep: keepFound });
    const { load, runs } = manual();
    const asked = cache.get('k', load);
    runs[0]?.resolve('none');
    expect(await asked).toBe('none');
    const next = cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
    runs[1]?.resolve('found');
    expect(await next).toBe('found');
  });

  it('when keep refuses an answer, then callers that joined its request in flight do not get it: they share one fresh load', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, keep: keepFound });
    const { load, runs } = manual();
    const owner = cache.get('k', load);
    const joined = [cache.get('k', load), cache.get('k', load)];
    expect(load).toHaveBeenCalledTimes(1);
    runs[0]?.resolve('none');
    expect(await owner).toBe('none');
    await settled();
    // The request they joined left before they asked: its refused answer may be older than their question.
    expect(load).toHaveBeenCalledTimes(2);
    runs[1]?.resolve('found');
    expect(await Promise.all(joined)).toEqual(['found', 'found']);
    expect(await cache.get('k', load)).toBe('found'); // kept, as keep allows
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('when the fresh load of callers that joined a refused answer is refused too, then they take it as it is, without a third load', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, keep: keepFound });
    const { load, runs } = manual();
    const owner = cache.get('k', load);
    const joined = [cache.get('k', load), cache.get('k', load)];
    runs[0]?.resolve('none');
    await owner;
    await settled();
    runs[1]?.resolve('none');
    await settled();
    // That load began after they asked, so its answer is not older than their question.
    expect(load).toHaveBeenCalledTimes(2);
    expect(await Promise.all(joined)).toEqual(['none', 'none']);
  });

  it('when keep accepts an answer, then callers that joined its request get that same answer, without a second load', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, keep: keepFound });
    const { load, runs } = manual();
    const callers = [cache.get('k', load), cache.get('k', load)];
    runs[0]?.resolve('found');
    expect(await Promise.all(callers)).toEqual(['found', 'found']);
    await settled();
    expect(load).toHaveBeenCalledTimes(1);
  });
});

describe('LookupCache: clear()', () => {
  it('when clear() is called, then kept answers are forgotten and the next caller loads again', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000 });
    const load = answering('k');
    expect(await cache.get('k', load)).toBe('k#1');
    cache.clear();
    expect(await cache.get('k', load)).toBe('k#2');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('when clear() is called while a request is in flight, then it still answers its callers, is neither shared with later callers nor kept', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000 });
    const { load, runs } = manual();
    const before = cache.get('k', load);
    cache.clear();
    const after = cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2); // the request before clear() is not shared
    runs[0]?.resolve('old');
    expect(await before).toBe('old');
    // 'old' did not take the place of the request in flight: a new caller still shares that one.
    const later = cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
    runs[1]?.resolve('new');
    expect(await Promise.all([after, later])).toEqual(['new', 'new']);

    const { load: reload, runs: reloads } = manual();
    const inFlight = cache.get('j', reload);
    cache.clear();
    reloads[0]?.resolve('old');
    expect(await inFlight).toBe('old');
    const next = cache.get('j', reload);
    expect(reload).toHaveBeenCalledTimes(2); // 'old' was not kept
    reloads[1]?.resolve('new');
    await next;
  });
});

describe('LookupCache: maxEntries', () => {
  it('when the cache is full, then an expired answer makes room before any live one, even a live one older than it', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, maxEntries: 2 });
    // 'slow' is asked first but answers at 900 ms, so it expires after 'fast', asked and answered at 10 ms.
    const slow = manual();
    const slowAsked = cache.get('slow', slow.load);
    vi.advanceTimersByTime(10);
    const fast = answering('fast');
    await cache.get('fast', fast);
    vi.advanceTimersByTime(890);
    slow.runs[0]?.resolve('slow#1');
    await slowAsked;
    vi.advanceTimersByTime(600); // 1 500 ms: 'fast' expired at 1 010, 'slow' lives until 1 900
    await cache.get('new', answering('new'));
    const again = cache.get('slow', slow.load);
    expect(slow.load).toHaveBeenCalledTimes(1);
    expect(await again).toBe('slow#1');
  });

  it('when the cache is full and nothing has expired, then the oldest kept answer goes, and a request in flight never does, even an older one', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, maxEntries: 3 });
    const inFlight = manual();
    const waiting = cache.get('in-flight', inFlight.load);
    const [k1, k2, k3] = [answering('k1'), answering('k2'), answering('k3')];
    await cache.get('k1', k1);
    await cache.get('k2', k2);
    await cache.get('k3', k3); // full: 'in-flight' is older, but 'k1' goes
    expect(await cache.get('k2', k2)).toBe('k2#1');
    expect(await cache.get('k3', k3)).toBe('k3#1');
    const joined = cache.get('in-flight', inFlight.load);
    expect(inFlight.load).toHaveBeenCalledTimes(1);
    inFlight.runs[0]?.resolve('answer');
    expect(await Promise.all([waiting, joined])).toEqual(['answer', 'answer']);
    expect(await cache.get('k1', k1)).toBe('k1#2');
  });

  it('when every entry is a request in flight, then none is dropped: a new key goes over maxEntries rather than split a request', async () => {
    const cache = new LookupCache<string>({ ttlMs: 1_000, maxEntries: 2 });
    const [a, b, c] = [manual(), manual(), manual()];
    const first = [cache.get('a', a.load), cache.get('b', b.load), cache.get('c', c.load)];
    const again = [cache.get('a', a.load), cache.get('b', b.load)];
    expect([a.load.mock.calls.length, b.load.mock.calls.length, c.load.mock.calls.length]).toEqual([1, 1, 1]);
    a.runs[0]?.resolve('a');
    b.runs[0]?.resolve('b');
    c.runs[0]?.resolve('c');
    expect(await Promise.all([...first, ...again])).toEqual(['a', 'b', 'c', 'a', 'b']);
  });
});
