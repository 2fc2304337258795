import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead, isBulkheadFullError } from './bulkhead.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Calls that each take `ms` of fake time; `started` lists them in the order they began. */
function work(ms: number) {
  const started: string[] = [];
  const call = (name: string) => async () => {
    started.push(name);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return name;
  };
  return { started, call };
}

describe('Bulkhead', () => {
  it('when every slot and queue place is taken, then the next call is refused with BulkheadFullError, without running', async () => {
    const bulkhead = new Bulkhead({ name: 'provider-charge', maxConcurrent: 2, maxQueued: 1 });
    const { started, call } = work(1_000);
    const accepted = ['a', 'b', 'c'].map((name) => bulkhead.execute(call(name)));
    const error = await bulkhead.execute(call('d')).catch((e: unknown) => e);
    expect(isBulkheadFullError(error) && [error.code, error.context]).toEqual(['bulkhead_full', { bulkhead: 'provider-charge' }]);
    expect(started).toEqual(['a', 'b']);
    expect([bulkhead.executionSlots, bulkhead.queueSlots]).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await Promise.all(accepted)).toEqual(['a', 'b', 'c']);
  });

  it('when slots free, then the queued calls run in the order they came, one per freed slot', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1, maxQueued: 2 });
    const { started, call } = work(1_000);
    const calls = ['a', 'b', 'c'].map((name) => bulkhead.execute(call(name)));
    expect(started).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['a', 'b', 'c']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c']);
    // Room again: a new call starts at once.
    void bulkhead.execute(call('d'));
    expect(started.at(-1)).toBe('d');
  });

  it('when a queued caller aborts, then it is rejected at once with its reason, never runs, and the call behind it still gets the freed slot', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1, maxQueued: 2 });
    const { started, call } = work(1_000);
    const controller = new AbortController();
    const first = bulkhead.execute(call('a'));
    const abandoned = bulkhead.execute(call('b'), controller.signal).catch((e: unknown) => e);
    const last = bulkhead.execute(call('c'));
    controller.abort(new Error('shutting down'));
    expect(await abandoned).toMatchObject({ message: 'shutting down' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await first).toBe('a');
    expect(started).toEqual(['a', 'c']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await last).toBe('c');
  });

  it('when the signal is already aborted, then the call is rejected with its reason and takes no slot', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const fn = vi.fn(async () => 'x');
    const error = await bulkhead.execute(fn, AbortSignal.abort(new Error('gone'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'gone' });
    expect(fn).not.toHaveBeenCalled();
    expect(bulkhead.executionSlots).toBe(1);
  });

  it('when a running caller aborts, then the call gets the signal and decides how to end', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const controller = new AbortController();
    const call = bulkhead.execute(
      ({ signal }) => new Promise<string>((resolve) => signal?.addEventListener('abort', () => resolve('cleaned up'))),
      controller.signal,
    );
    controller.abort();
    expect(await call).toBe('cleaned up');
  });

  it('when a call fails, then its error passes unchanged and its slot is freed', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1 });
    const failure = new Error('boom');
    expect(await bulkhead.execute(() => Promise.reject(failure)).catch((e: unknown) => e)).toBe(failure);
    expect(bulkhead.executionSlots).toBe(1);
  });

  it('when maxQueued is 0, then a call finding every slot taken is refused at once', async () => {
    const bulkhead = new Bulkhead({ name: 'b', maxConcurrent: 1, maxQueued: 0 });
    const { call } = work(1_000);
    const running = bulkhead.execute(call('a'));
    expect(isBulkheadFullError(await bulkhead.execute(call('b')).catch((e: unknown) => e))).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    await running;
  });

  it.each([0, 1.5, -1, Number.NaN])('when maxConcurrent is %s, then it is refused', (maxConcurrent) => {
    expect(() => new Bulkhead({ name: 'b', maxConcurrent })).toThrow(RangeError);
  });
});
