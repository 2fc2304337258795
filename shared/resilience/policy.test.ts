import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpStatusError, HttpTimeoutError, isHttpTimeoutError, isTransientHttpError } from '../http/http-errors.js';
import { Bulkhead, isBulkheadFullError } from './bulkhead.js';
import { CircuitBreaker, breakerPolicy, isBrokenCircuitError } from './circuit-breaker.js';
import { compose, type Policy, type PolicyContext } from './policy.js';
import { retryPolicy } from './retry-policy.js';
import { timeoutPolicy } from './timeout-policy.js';

let log: string[];
const breakers: CircuitBreaker[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  log = [];
});

afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
  vi.useRealTimers();
});

/** `policy` with its entry (`name>`) and exit (`<name`) written to the log. */
function traced(name: string, policy?: Policy): Policy {
  return {
    async execute(fn, signal) {
      log.push(`${name}>`);
      try {
        return await (policy ? policy.execute(fn, signal) : fn({}));
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

const unavailable = () => new HttpStatusError(503, {});

/** The adapter's declaration, each layer traced: bulkhead → breaker → retry → timeout. */
function declared(options: { limit?: number; queue?: number; threshold?: number; attempts?: number } = {}) {
  const bulkhead = new Bulkhead({ name: 'provider', maxConcurrent: options.limit ?? 1, maxQueued: options.queue ?? 1 });
  const breaker = new CircuitBreaker({ name: 'provider', failureThreshold: options.threshold ?? 5, resetTimeoutMs: 60_000 });
  breakers.push(breaker);
  const policy = compose(
    traced('bulkhead', bulkhead),
    traced('breaker', breakerPolicy(breaker)),
    traced('retry', retryPolicy({ maxAttempts: options.attempts ?? 3, baseDelayMs: 100, jitter: 'none', shouldRetry: isTransientHttpError })),
    traced('timeout', timeoutPolicy({ ms: 1_000, error: () => new HttpTimeoutError('timed out') })),
  );
  return { policy, bulkhead, breaker };
}

/** A call whose attempts answer in turn: a value after `ms`, an error after `ms`, or 'hang' (until aborted). */
function scripted(...answers: ({ ms: number; value?: string; error?: () => Error } | 'hang')[]) {
  const contexts: PolicyContext[] = [];
  const fn = vi.fn((context: PolicyContext) => {
    contexts.push(context);
    log.push(`fn#${context.attempt ?? '?'}`);
    const answer = answers[contexts.length - 1] ?? answers.at(-1)!;
    return new Promise<string>((resolve, reject) => {
      context.signal?.addEventListener('abort', () => reject(context.signal?.reason), { once: true });
      if (answer === 'hang') return;
      setTimeout(() => (answer.error ? reject(answer.error()) : resolve(answer.value ?? 'ok')), answer.ms);
    });
  });
  return { fn, contexts };
}

describe('compose', () => {
  it('when policies are composed, then a call enters them in the declared order and leaves them in reverse', async () => {
    const result = await compose(traced('a'), traced('b'), traced('c')).execute(async () => {
      log.push('fn');
      return 42;
    });
    expect(result).toBe(42);
    expect(log).toEqual(['a>', 'b>', 'c>', 'fn', '<c', '<b', '<a']);
  });

  it('when a retry sits between two layers, then the outer one is entered once and the inner one per attempt, with the attempt in the context', async () => {
    const { fn, contexts } = scripted({ ms: 10, error: unavailable }, { ms: 10, value: 'second' });
    const call = compose(traced('outer'), retryPolicy({ maxAttempts: 3, baseDelayMs: 100, jitter: 'none', shouldRetry: () => true }), traced('inner')).execute(fn);
    await vi.advanceTimersByTimeAsync(120);
    expect(await call).toBe('second');
    expect(log).toEqual(['outer>', 'inner>', 'fn#1', '<inner', 'inner>', 'fn#2', '<inner', '<outer']);
    expect(contexts.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('when the caller passes a signal, then every layer and the function get it', async () => {
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const spy: Policy = { execute: (fn, signal) => (seen.push(signal), fn({})) };
    await compose(spy, spy).execute(async ({ signal }) => void seen.push(signal), controller.signal);
    expect(seen).toEqual([controller.signal, controller.signal, controller.signal]);
  });
});

describe('the adapter’s declaration: bulkhead → breaker → retry → timeout', () => {
  it('when an attempt fails and the next succeeds, then the call holds one slot and one breaker entry, and each attempt has its own timeout', async () => {
    const { policy } = declared();
    const { fn } = scripted({ ms: 10, error: unavailable }, { ms: 10, value: 'ok' });
    const call = policy.execute(fn);
    await vi.advanceTimersByTimeAsync(120);
    expect(await call).toBe('ok');
    expect(log).toEqual(['bulkhead>', 'breaker>', 'retry>', 'timeout>', 'fn#1', '<timeout', 'timeout>', 'fn#2', '<timeout', '<retry', '<breaker', '<bulkhead']);
  });

  it('when an attempt times out, then its signal is aborted with the timeout error and the retry sends it again with a fresh timeout', async () => {
    const { policy } = declared();
    const { fn, contexts } = scripted('hang', { ms: 900, value: 'late but in time' });
    const started = Date.now();
    const call = policy.execute(fn);
    await vi.advanceTimersByTimeAsync(999);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(isHttpTimeoutError(contexts[0]?.signal?.reason)).toBe(true);
    await vi.advanceTimersByTimeAsync(100 + 900); // the backoff, then the second attempt's 900 ms (< its own 1 000)
    expect(await call).toBe('late but in time');
    expect(Date.now() - started).toBe(2_000);
    expect(contexts[1]?.signal?.aborted).toBe(false);
  });

  it('when the circuit is open, then the call is refused inside its slot, before the retry, the timeout and the function', async () => {
    const { policy, bulkhead } = declared({ threshold: 1, attempts: 1 });
    const opening = policy.execute(scripted({ ms: 1, error: unavailable }).fn).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1);
    await opening;
    log = [];
    const { fn } = scripted({ ms: 1, value: 'never' });
    const error = await policy.execute(fn).catch((e: unknown) => e);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
    expect(log).toEqual(['bulkhead>', 'breaker>', '<breaker', '<bulkhead']);
    expect(bulkhead.executionSlots).toBe(1);
  });

  it('when every attempt of a call fails, then the breaker outside the retries counts the call once', async () => {
    const { policy, breaker } = declared({ threshold: 2, attempts: 3 });
    const { fn } = scripted({ ms: 10, error: unavailable });
    const first = policy.execute(fn).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10 + 100 + 10 + 200 + 10);
    expect(await first).toBeInstanceOf(HttpStatusError);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(breaker.state).toBe('CLOSED');
    const second = policy.execute(fn).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(330);
    await second;
    expect(breaker.state).toBe('OPEN');
  });

  it('when a call backs off between attempts, then it keeps its slot: a queued call waits, and one beyond the queue is refused without reaching the breaker', async () => {
    const { policy } = declared({ limit: 1, queue: 1 });
    const a = scripted({ ms: 10, error: unavailable }, { ms: 10, value: 'a' });
    const b = scripted({ ms: 10, value: 'b' });
    const callA = policy.execute(a.fn);
    const callB = policy.execute(b.fn);
    await vi.advanceTimersByTimeAsync(60); // A failed once and is waiting 100 ms to retry
    expect(b.fn).not.toHaveBeenCalled();
    log = [];
    const refused = await policy.execute(scripted({ ms: 1 }).fn).catch((e: unknown) => e);
    expect(isBulkheadFullError(refused)).toBe(true);
    expect(log).toEqual(['bulkhead>', '<bulkhead']);
    await vi.advanceTimersByTimeAsync(55); // A's second attempt runs from 110 to 120 ms
    expect(b.fn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(5);
    expect(await callA).toBe('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(await callB).toBe('b');
  });

  it('when the bulkhead refuses a call, then the breaker neither counts it nor takes it for a success', async () => {
    const { policy, breaker } = declared({ limit: 1, queue: 0, threshold: 2, attempts: 1 });
    const failing = () => policy.execute(scripted({ ms: 10, error: unavailable }).fn).catch((e: unknown) => e);
    const first = failing();
    await vi.advanceTimersByTimeAsync(10);
    await first;
    expect(breaker.state).toBe('CLOSED');
    const second = failing();
    expect(isBulkheadFullError(await failing())).toBe(true); // refused while the second runs
    await vi.advanceTimersByTimeAsync(10);
    await second;
    // Two failures in a row: had the refusal between them been taken for a success, the count
    // would have restarted and the circuit stayed closed.
    expect(breaker.state).toBe('OPEN');
  });
});
