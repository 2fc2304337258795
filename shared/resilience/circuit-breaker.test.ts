import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import { HttpNetworkError, HttpStatusError, HttpTimeoutError } from '../http/http-errors.js';
import { CircuitBreaker, isBrokenCircuitError, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';

let breaker: CircuitBreaker;
let transitions: string[];

function create(options: Partial<CircuitBreakerOptions> = {}) {
  breaker?.shutdown();
  breaker = new CircuitBreaker({
    name: 'test',
    failureThreshold: 3,
    resetTimeoutMs: 1_000,
    onStateChange: (state: CircuitState, previous: CircuitState) => transitions.push(`${previous}→${state}`),
    ...options,
  });
  return breaker;
}

beforeEach(() => {
  vi.useFakeTimers();
  transitions = [];
  create();
});

afterEach(() => {
  breaker.shutdown();
  vi.useRealTimers();
});

const unavailable = () => Promise.reject(new HttpStatusError(503, {}));
const ok = () => Promise.resolve('ok');

async function failTimes(n: number, fail: () => Promise<unknown> = unavailable) {
  for (let i = 0; i < n; i += 1) await breaker.execute(fail).catch(() => undefined);
}

async function openThenWait() {
  await failTimes(3);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(breaker.state).toBe('HALF_OPEN');
}

describe('circuit breaker', () => {
  it('when transient failures reach the threshold in a row, then CLOSED → OPEN', async () => {
    await breaker.execute(() => Promise.reject(new HttpTimeoutError('timed out'))).catch(() => undefined);
    await failTimes(1);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1, () => Promise.reject(new HttpNetworkError('reset', { sent: true })));
    expect(breaker.state).toBe('OPEN');
    expect(transitions).toEqual(['CLOSED→OPEN']);
  });

  it('when OPEN, then calls fail fast with BrokenCircuitError without reaching the dependency', async () => {
    await failTimes(3);
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'circuit_open' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('when the reset timeout passes, then OPEN → HALF_OPEN, and not a moment before', async () => {
    await failTimes(3);
    await vi.advanceTimersByTimeAsync(999);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(transitions).toEqual(['CLOSED→OPEN', 'OPEN→HALF_OPEN']);
  });

  it('when the HALF_OPEN trial succeeds, then HALF_OPEN → CLOSED and calls flow again', async () => {
    await openThenWait();
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('CLOSED');
    expect(await breaker.execute(ok)).toBe('ok');
    expect(transitions).toEqual(['CLOSED→OPEN', 'OPEN→HALF_OPEN', 'HALF_OPEN→CLOSED']);
  });

  it('when the HALF_OPEN trial fails, then HALF_OPEN → OPEN for another reset timeout', async () => {
    await openThenWait();
    await failTimes(1);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(999);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(transitions).toEqual(['CLOSED→OPEN', 'OPEN→HALF_OPEN', 'HALF_OPEN→OPEN', 'OPEN→HALF_OPEN']);
  });

  it('when HALF_OPEN, then only one trial goes through at a time', async () => {
    await openThenWait();
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const second = vi.fn(ok);
    expect(isBrokenCircuitError(await breaker.execute(second).catch((e: unknown) => e))).toBe(true);
    expect(second).not.toHaveBeenCalled();
    release();
    await trial;
    expect(breaker.state).toBe('CLOSED');
  });

  it('when calls fail with declines, NonRetryableErrors or other 4xx, then they never count', async () => {
    await failTimes(5, () => Promise.reject(new NonRetryableError('card declined')));
    for (const status of [400, 401, 402, 404, 409, 422]) await failTimes(5, () => Promise.reject(new HttpStatusError(status, {})));
    expect(breaker.state).toBe('CLOSED');
    expect(transitions).toEqual([]);
  });

  it('when the HALF_OPEN trial gets a decline, then the dependency answered and HALF_OPEN → CLOSED', async () => {
    await openThenWait();
    await failTimes(1, () => Promise.reject(new HttpStatusError(402, {})));
    expect(breaker.state).toBe('CLOSED');
  });

  it('when a success comes between failures while CLOSED, then the count starts again (the Python never reset it)', async () => {
    await failTimes(2);
    await breaker.execute(ok);
    await failTimes(2);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1);
    expect(breaker.state).toBe('OPEN');
  });

  it('when failures are further apart than the rolling window, then the old ones stop counting', async () => {
    create({ rollingWindowMs: 5_000 });
    await failTimes(2);
    await vi.advanceTimersByTimeAsync(5_000);
    await failTimes(2);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1);
    expect(breaker.state).toBe('OPEN');
  });

  it('when isFailure is given, then it alone decides what counts', async () => {
    create({ isFailure: (e) => e instanceof Error && e.message === 'boom' });
    await failTimes(5);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(3, () => Promise.reject(new Error('boom')));
    expect(breaker.state).toBe('OPEN');
  });

  it('when a HALF_OPEN trial hangs past halfOpenTimeoutMs, then HALF_OPEN → OPEN', async () => {
    create({ halfOpenTimeoutMs: 200 });
    await openThenWait();
    void breaker.execute(() => new Promise(() => undefined));
    await vi.advanceTimersByTimeAsync(199);
    expect(breaker.state).toBe('HALF_OPEN');
    await vi.advanceTimersByTimeAsync(1);
    expect(breaker.state).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(await breaker.execute(ok)).toBe('ok');
  });

  it('when a signal is given, then fn receives it; when it is already aborted, then nothing runs, counts or uses the trial', async () => {
    const controller = new AbortController();
    const seen = vi.fn(async (signal?: AbortSignal) => signal);
    expect(await breaker.execute(seen, controller.signal)).toBe(controller.signal);
    await openThenWait();
    controller.abort(new Error('caller gave up'));
    const fn = vi.fn(ok);
    await expect(breaker.execute(fn, controller.signal)).rejects.toThrow('caller gave up');
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.state).toBe('HALF_OPEN');
    expect(await breaker.execute(ok)).toBe('ok');
  });

  it('when the state-change listener throws, then calls still settle', async () => {
    create({
      onStateChange: () => {
        throw new Error('listener bug');
      },
    });
    await failTimes(3);
    expect(breaker.state).toBe('OPEN');
    expect(isBrokenCircuitError(await breaker.execute(ok).catch((e: unknown) => e))).toBe(true);
  });

  it('when shut down, then it reports OPEN and rejects with BrokenCircuitError', async () => {
    breaker.shutdown();
    expect(breaker.state).toBe('OPEN');
    expect(isBrokenCircuitError(await breaker.execute(ok).catch((e: unknown) => e))).toBe(true);
  });

  it('when the threshold is 5 and 4 failures, 1 success, 4 failures come in, then it stays CLOSED; a 5th in a row opens it', async () => {
    create({ failureThreshold: 5 });
    const fail = () => Promise.reject(new HttpStatusError(503, {}, undefined));
    await failTimes(4, fail);
    expect(await breaker.execute(ok)).toBe('ok');
    await failTimes(4, fail);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(1, () => Promise.reject(new HttpNetworkError('refused', { sent: false, errorCode: 'ECONNREFUSED' })));
    expect(breaker.state).toBe('OPEN');
  });

  it('when a 4xx or a NonRetryableError comes between transient failures, then it resets the count like a success', async () => {
    await failTimes(2);
    await failTimes(1, () => Promise.reject(new HttpStatusError(404, {}, undefined)));
    await failTimes(2);
    await failTimes(1, () => Promise.reject(new NonRetryableError('invalid')));
    await failTimes(2);
    expect(breaker.state).toBe('CLOSED');
  });

  it('when calls are rejected while OPEN, then they neither call fn nor delay the move to HALF_OPEN', async () => {
    await failTimes(3);
    const fn = vi.fn(ok);
    for (let t = 0; t < 9; t += 1) {
      await vi.advanceTimersByTimeAsync(100);
      expect(isBrokenCircuitError(await breaker.execute(fn).catch((e: unknown) => e))).toBe(true);
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(fn).not.toHaveBeenCalled();
  });

  it('when the circuit goes round a full cycle, then onStateChange gets each (state, previous) pair once', async () => {
    const onStateChange = vi.fn();
    create({ onStateChange });
    await failTimes(3);
    await breaker.execute(ok).catch(() => undefined); // rejected while OPEN: no transition
    await vi.advanceTimersByTimeAsync(1_000);
    await failTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await breaker.execute(ok);
    expect(onStateChange.mock.calls).toEqual([
      ['OPEN', 'CLOSED'],
      ['HALF_OPEN', 'OPEN'],
      ['OPEN', 'HALF_OPEN'],
      ['HALF_OPEN', 'OPEN'],
      ['CLOSED', 'HALF_OPEN'],
    ]);
  });

  it('when the caller aborts the HALF_OPEN trial, then the circuit does not close on it', async () => {
    await openThenWait();
    const controller = new AbortController();
    const trial = breaker.execute(
      (signal) => new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort(new Error('caller gave up'));
    await trial.catch(() => undefined);
    expect(breaker.state).not.toBe('CLOSED');
  });

  it.each([0, -1, Number.NaN])('when failureThreshold is %s, then construction fails', (failureThreshold) => {
    expect(() => new CircuitBreaker({ name: 'bad', failureThreshold })).toThrow(RangeError);
  });
});
