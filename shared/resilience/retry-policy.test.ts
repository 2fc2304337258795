import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import { DEFAULT_RETRY_OPTIONS, computeDelay, retry } from './retry-policy.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const transient = (retryAfterMs?: number) => Object.assign(new Error('503'), { retryAfterMs });

/** mulberry32: a small seeded PRNG, so that jitter is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A call that fails transiently every time and records when (fake clock) it ran. */
function alwaysFailing(error: () => Error = () => transient()) {
  const at: number[] = [];
  const fn = vi.fn(async () => {
    at.push(Date.now());
    throw error();
  });
  return { fn, at };
}

describe('retry policy', () => {
  it('when attempts grow, then the delay ceiling doubles from the base and stops at the cap', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 500, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((attempt) => computeDelay(attempt, options))).toEqual([100, 200, 400, 500, 500]);
  });

  it('when the attempt number is huge, then the delay is still the cap (no overflow to Infinity)', () => {
    expect(computeDelay(5_000, { baseDelayMs: 100, maxDelayMs: 500, jitter: 'none' })).toBe(500);
  });

  it('when full jitter is on, then every delay lies in [0, ceiling] and the draws spread over it', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 2_000 }, () => computeDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000 }, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
    expect(Math.min(...delays)).toBeLessThan(40);
    expect(Math.max(...delays)).toBeGreaterThan(360);
    // Same seed, same schedule.
    const again = seeded(42);
    expect(computeDelay(3, { baseDelayMs: 100 }, again)).toBe(delays[0]);
  });

  it('when the defaults are used, then they follow the Python tenacity settings (3 attempts, 4 s base, 10 s cap)', () => {
    expect(DEFAULT_RETRY_OPTIONS).toMatchObject({ maxAttempts: 3, baseDelayMs: 4_000, maxDelayMs: 10_000, jitter: 'full' });
    expect([1, 2, 3].map((attempt) => computeDelay(attempt, { jitter: 'none' }))).toEqual([4_000, 8_000, 10_000]);
  });

  it('when a call keeps failing transiently, then it runs on the backoff schedule and stops at maxAttempts', async () => {
    const { fn, at } = alwaysFailing();
    const start = Date.now();
    const done = retry(fn, { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300, jitter: 'none', shouldRetry: () => true }).catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await done).toBeInstanceOf(Error);
    expect(at.map((t) => t - start)).toEqual([0, 100, 300, 600]); // waits 100, 200, then capped at 300
    expect(vi.getTimerCount()).toBe(0);
  });

  it('when full jitter is on, then the waits follow the seeded draws within their ceilings', async () => {
    const { fn, at } = alwaysFailing();
    const onRetry = vi.fn();
    const start = Date.now();
    const done = retry(fn, { maxAttempts: 4, baseDelayMs: 1_000, shouldRetry: () => true, onRetry, random: seeded(7) }).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    const waits = onRetry.mock.calls.map((call) => call[2] as number);
    expect(waits).toHaveLength(3);
    waits.forEach((wait, i) => expect(wait).toBeLessThanOrEqual(1_000 * 2 ** i));
    const expected = seeded(7);
    expect(waits).toEqual([1_000, 2_000, 4_000].map((ceiling) => Math.round(expected() * ceiling)));
    expect(at.map((t) => t - start)).toEqual([0, waits[0], waits[0]! + waits[1]!, waits[0]! + waits[1]! + waits[2]!]);
  });

  it('when the server sends Retry-After, then the wait is the longer of backoff and Retry-After, capped', async () => {
    const onRetry = vi.fn();
    const errors = [transient(2_000), transient(600_000), transient(10)];
    const fn = async () => {
      const next = errors.shift();
      if (next) throw next;
      return 'ok';
    };
    const done = retry(fn, { maxAttempts: 4, baseDelayMs: 100, jitter: 'none', maxRetryAfterMs: 5_000, shouldRetry: () => true, onRetry });
    await vi.advanceTimersByTimeAsync(2_000 + 5_000 + 400);
    expect(await done).toBe('ok');
    // 2 s asked > 100 ms backoff; 600 s asked, capped at 5 s; 10 ms asked < 400 ms backoff.
    expect(onRetry.mock.calls.map((call) => call[2])).toEqual([2_000, 5_000, 400]);
  });

  it('when the error is not retryable, then there is exactly one attempt', async () => {
    const { fn } = alwaysFailing(() => new NonRetryableError('declined'));
    await expect(retry(fn, { maxAttempts: 5, shouldRetry: (e) => !(e instanceof NonRetryableError) })).rejects.toThrow('declined');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('when a sleep is injected, then it receives every wait and no timer is used', async () => {
    const sleep = vi.fn(async () => undefined);
    const { fn } = alwaysFailing();
    await retry(fn, { maxAttempts: 3, baseDelayMs: 50, jitter: 'none', shouldRetry: () => true, sleep }).catch(() => undefined);
    expect(sleep.mock.calls.map((call) => (call as unknown[])[0])).toEqual([50, 100]);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('when the caller aborts during a wait, then retrying stops at once with the abort reason', async () => {
    const controller = new AbortController();
    const { fn } = alwaysFailing();
    const done = retry(fn, { maxAttempts: 5, baseDelayMs: 1_000, jitter: 'none', shouldRetry: () => true, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('caller gave up'));
    expect(await done).toMatchObject({ message: 'caller gave up' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('when random is injected, then full jitter is random × ceiling, clamped to [0, ceiling]', () => {
    const options = { baseDelayMs: 1_000, maxDelayMs: 3_000 };
    expect(computeDelay(2, options, () => 0)).toBe(0);
    expect(computeDelay(2, options, () => 0.5)).toBe(1_000);
    expect(computeDelay(2, options, () => 0.999_999)).toBe(2_000);
    expect(computeDelay(4, options, () => 0.5)).toBe(1_500); // ceiling capped at 3 000 before jitter
    expect(computeDelay(2, options, () => 1.7)).toBe(2_000);
    expect(computeDelay(2, options, () => -0.3)).toBe(0);
  });

  it('when a call fails until the last attempt, then each retry starts exactly when its computed delay ends', async () => {
    let calls = 0;
    const fn = vi.fn(async () => {
      calls += 1;
      if (calls < 4) throw transient();
      return 'done';
    });
    const done = retry(fn, { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, jitter: 'none', shouldRetry: () => true });
    // Expected waits: 200, 400, 800 → attempts at t = 0, 200, 600, 1 400.
    for (const [advance, expected] of [
      [0, 1],
      [199, 1],
      [1, 2],
      [399, 2],
      [1, 3],
      [799, 3],
      [1, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(advance);
      expect(fn).toHaveBeenCalledTimes(expected);
    }
    expect(await done).toBe('done');
    expect(fn.mock.calls.map((call) => (call as unknown[])[0])).toEqual([1, 2, 3, 4]);
  });

  it('when Retry-After is longer than the backoff, then the next attempt waits for Retry-After (capped by maxRetryAfterMs)', async () => {
    const errors = [transient(3_000), transient(90_000)];
    const fn = vi.fn(async () => {
      const next = errors.shift();
      if (next) throw next;
      return 'ok';
    });
    const done = retry(fn, { maxAttempts: 3, baseDelayMs: 10, jitter: 'none', maxRetryAfterMs: 20_000, shouldRetry: () => true });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(19_999); // 90 s asked, 20 s honoured
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await done).toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it.each([Number.NaN, -5, Number.POSITIVE_INFINITY, '1000'])('when retryAfterMs is %s, then it is ignored and the backoff is used', async (retryAfterMs) => {
    const onRetry = vi.fn();
    const fn = vi.fn(async () => {
      throw Object.assign(new Error('503'), { retryAfterMs });
    });
    const done = retry(fn, { maxAttempts: 2, baseDelayMs: 100, jitter: 'none', shouldRetry: () => true, onRetry }).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(onRetry.mock.calls.map((call) => call[2])).toEqual([100]);
  });

  it('when shouldRetry turns false on a later error, then retrying stops there and that error is rethrown', async () => {
    const final = new NonRetryableError('now final');
    const errors: Error[] = [transient(), final];
    const fn = vi.fn(async () => {
      throw errors.shift()!;
    });
    const done = retry(fn, { maxAttempts: 5, baseDelayMs: 10, jitter: 'none', shouldRetry: (e) => !(e instanceof NonRetryableError) }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await done).toBe(final);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('when the signal is already aborted after a failure, then there is no wait and no second attempt', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      controller.abort(new Error('gone'));
      throw transient();
    });
    const error = await retry(fn, { maxAttempts: 3, baseDelayMs: 10_000, shouldRetry: () => true, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: '503' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN])('when maxAttempts is %s, then retry refuses to run unbounded or empty', async (maxAttempts) => {
    const fn = vi.fn(async () => 'ok');
    await expect(retry(fn, { maxAttempts, shouldRetry: () => true })).rejects.toBeInstanceOf(RangeError);
    expect(fn).not.toHaveBeenCalled();
  });
});
