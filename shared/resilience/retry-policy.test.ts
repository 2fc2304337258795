import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import { computeDelay, retry } from './retry-policy.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const transient = (retryAfterMs?: number) => Object.assign(new Error('503'), { retryAfterMs });

describe('retry policy', () => {
  it('when attempts grow, then the delay ceiling doubles from the base and stops at the cap', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 500, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((attempt) => computeDelay(attempt, options))).toEqual([100, 200, 400, 500, 500]);
  });

  it('when full jitter is on, then each delay is uniform between 0 and the ceiling', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 10_000 };
    expect(computeDelay(3, options, () => 0)).toBe(0);
    expect(computeDelay(3, options, () => 0.5)).toBe(200);
    expect(computeDelay(3, options, () => 0.999)).toBe(400);
  });

  it('when the defaults are used, then they follow the Python tenacity settings (3 attempts, 4 s base, 10 s cap)', () => {
    expect([1, 2, 3].map((attempt) => computeDelay(attempt, { jitter: 'none' }))).toEqual([4000, 8000, 10_000]);
  });

  it('when a call keeps failing transiently, then it is retried on the computed schedule and stops at maxAttempts', async () => {
    const fn = vi.fn(async () => {
      throw transient();
    });
    const done = retry(fn, { maxAttempts: 3, baseDelayMs: 100, jitter: 'none' }, { shouldRetry: () => true }).catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(await done).toBeInstanceOf(Error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('when the server sends Retry-After, then the wait is the longer of backoff and Retry-After, capped', async () => {
    const onRetry = vi.fn();
    let calls = 0;
    const fn = async () => {
      calls += 1;
      if (calls === 1) throw transient(2_000);
      if (calls === 2) throw transient(600_000);
      return 'ok';
    };
    const done = retry(fn, { maxAttempts: 3, baseDelayMs: 100, jitter: 'none', maxRetryAfterMs: 5_000 }, { shouldRetry: () => true, onRetry });
    await vi.advanceTimersByTimeAsync(2_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await done).toBe('ok');
    expect(onRetry.mock.calls.map((call) => call[2])).toEqual([2_000, 5_000]);
  });

  it('when the error is not retryable, then there is exactly one attempt', async () => {
    const fn = vi.fn(async () => {
      throw new NonRetryableError('declined');
    });
    await expect(retry(fn, { maxAttempts: 5 }, { shouldRetry: (e) => !(e instanceof NonRetryableError) })).rejects.toThrow('declined');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('when the caller aborts during a wait, then retrying stops at once', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw transient();
    });
    const done = retry(fn, { maxAttempts: 5, baseDelayMs: 1_000, jitter: 'none' }, { shouldRetry: () => true, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('caller gave up'));
    expect(await done).toMatchObject({ message: 'caller gave up' });
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
