import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { FaultRun } from './fault-run.js';
import { commitThenFail } from './scenarios.js';

const PROVIDER_TIMEOUT_MS = 1_000;
const PREFETCH = 16;
const COMPENSATION_PREFETCH = 4;

const run = FaultRun.forFile({
  PAYMENT_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
  AMQP_PREFETCH: String(PREFETCH),
  AMQP_COMPENSATION_PREFETCH: String(COMPENSATION_PREFETCH),
});

/** The payment-service breaker's transitions logged since `from` (an index into its log lines). */
function breakerStates(from = 0): string[] {
  return run.stack
    .logLines(['payment-service'])
    .slice(from)
    .filter((line) => line.includes('circuit changed state'))
    .map((line) => (JSON.parse(line) as { state: string }).state);
}

describe('scenario 3: the provider commits, then fails to answer', () => {
  it.each(['500', 'timeout'] as const)('when every charge and refund is committed and then answered %s, then nothing is charged twice or refunded blindly', async (mode) => {
    const figures = await commitThenFail(run, mode);
    expect(figures.violations).toEqual([]);
  });
});

describe('scenario 4: the provider fails half its calls, then goes down', () => {
  const FLAKY_MS = Number(process.env.FAULT_FLAKY_MS ?? 30_000);
  const DOWN_MS = Number(process.env.FAULT_DOWN_MS ?? 60_000);

  it('when half the calls fail for 30 s and the provider is then down for 60 s, then the breaker opens, orders wait or are cancelled and compensated, and it closes after the heal', async () => {
    const logFrom = run.stack.logLines(['payment-service']).length;
    const figures = await run.scenario('provider-flaky-then-down', { durationMs: FLAKY_MS + DOWN_MS + 5_000, rate: 5 }, async () => {
      await run.stack.setProviderFaults({ error_rate: 0.5, match: 'all' });
      await sleep(FLAKY_MS);
      await run.stack.kill('payment-provider', 'SIGKILL');
      await sleep(DOWN_MS);
      await run.stack.launch('payment-provider'); // a restart clears the faults
    });
    // Opened while the provider was down, closed again once it was back.
    const states = breakerStates(logFrom);
    expect(states).toContain('OPEN');
    await waitFor(async () => breakerStates(logFrom).at(-1) === 'CLOSED', { timeoutMs: 30_000, what: 'the breaker to close' });
    expect(figures.violations).toEqual([]);
  });
});

describe('scenario 5: the provider answers after 5 s', () => {
  it('when every charge and refund takes 5 s, then the client timeouts abandon the calls and concurrent calls stay within the two lanes\' prefetch', async () => {
    const logFrom = run.stack.logLines(['payment-service']).length;
    let calls = { in_flight: 0, max_in_flight: 0, abandoned: 0 };
    const figures = await run.scenario('provider-slow', { durationMs: 15_000, warmup: 1 }, async () => {
      await run.stack.providerCalls(true);
      await run.stack.setProviderFaults({ latency_ms: 5_000, match: 'all' });
      await sleep(12_000);
      await run.stack.setProviderFaults({});
      calls = await run.stack.providerCalls();
      return { provider_max_in_flight: calls.max_in_flight, provider_calls_abandoned: calls.abandoned };
    });
    expect(figures.violations).toEqual([]);
    // Each call was cut at the client's timeout (the provider saw the connection close) ...
    expect(calls.abandoned).toBeGreaterThan(0);
    // ... at most one call per message in hand, charges (step lane) and refunds (compensation lane) ...
    expect(calls.max_in_flight).toBeLessThanOrEqual(PREFETCH + COMPENSATION_PREFETCH);
    // ... and the timeouts opened the breaker, which paused the calls until the provider was fast again.
    expect(breakerStates(logFrom)).toContain('OPEN');
  });
});
