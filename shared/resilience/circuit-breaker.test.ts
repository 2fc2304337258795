import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import { HttpNetworkError, HttpStatusError } from '../http/http-errors.js';
import { CircuitBreaker, isBrokenCircuitError, type CircuitState } from './circuit-breaker.js';

let breaker: CircuitBreaker;
let transitions: CircuitState[];

beforeEach(() => {
  vi.useFakeTimers();
  transitions = [];
  breaker = new CircuitBreaker({ name: 'test', failureThreshold: 3, resetTimeoutMs: 1_000, onStateChange: (s) => transitions.push(s) });
});

afterEach(() => {
  breaker.shutdown();
  vi.useRealTimers();
});

const unavailable = () => Promise.reject(new HttpStatusError(503, {}, undefined));
const ok = () => Promise.resolve('ok');

async function failTimes(n: number, fail: () => Promise<unknown> = unavailable) {
  for (let i = 0; i < n; i += 1) await breaker.execute(fail).catch(() => undefined);
}

describe('circuit breaker', () => {
  it('when failures reach the threshold in a row, then CLOSED → OPEN', async () => {
    await failTimes(2);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1, () => Promise.reject(new HttpNetworkError('reset', true)));
    expect(breaker.state).toBe('OPEN');
    expect(transitions).toEqual(['OPEN']);
  });

  it('when OPEN, then calls fail fast with BrokenCircuitError without reaching the dependency', async () => {
    await failTimes(3);
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
  });

  it('when the reset timeout passes, then OPEN → HALF_OPEN, and a successful trial closes it', async () => {
    await failTimes(3);
    await vi.advanceTimersByTimeAsync(999);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('CLOSED');
    expect(transitions).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('when the HALF_OPEN trial fails, then it opens again for another reset timeout', async () => {
    await failTimes(3);
    await vi.advanceTimersByTimeAsync(1_000);
    await failTimes(1);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(transitions).toEqual(['OPEN', 'HALF_OPEN', 'OPEN', 'HALF_OPEN']);
  });

  it('when HALF_OPEN, then only one trial goes through at a time', async () => {
    await failTimes(3);
    await vi.advanceTimersByTimeAsync(1_000);
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const second = await breaker.execute(ok).catch((e: unknown) => e);
    expect(isBrokenCircuitError(second)).toBe(true);
    release();
    await trial;
    expect(breaker.state).toBe('CLOSED');
  });

  it('when calls fail with declines or other 4xx, then they never count', async () => {
    await failTimes(5, () => Promise.reject(new NonRetryableError('card declined')));
    await failTimes(5, () => Promise.reject(new HttpStatusError(400, {}, undefined)));
    await failTimes(5, () => Promise.reject(new HttpStatusError(402, {}, undefined)));
    expect(breaker.state).toBe('CLOSED');
    expect(transitions).toEqual([]);
  });

  it('when a success comes between failures while CLOSED, then the count starts again (the Python never reset it)', async () => {
    await failTimes(2);
    await breaker.execute(ok);
    await failTimes(2);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1);
    expect(breaker.state).toBe('OPEN');
  });
});
