import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROCESSES, ProcessStack } from '../support/process-stack.js';
import { checkInvariants } from './invariants.js';
import { runLoad, type PlacedOrder } from './load-generator.js';
import { report } from './scenario-report.js';

let stack: ProcessStack;
const placed: PlacedOrder[] = [];
const RATE = Number(process.env.FAULT_LOAD_RATE ?? 10);

beforeAll(async () => {
  stack = await ProcessStack.start({ PAYMENT_PROVIDER_TIMEOUT_MS: '1000' });
});

afterAll(async () => {
  await stack?.stop();
});

async function setFaults(faults: object): Promise<void> {
  const response = await fetch(`${stack.providerUrl}/_faults`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.providerApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(response.status).toBe(200);
}

describe('scenario 3: the provider commits, then fails to answer', () => {
  it.each(['500', 'timeout'])('when every charge and refund is committed and then answered %s, then nothing is charged twice or refunded blindly', async (mode) => {
    await setFaults({ commit_then_fail: mode, match: 'all' });
    let result;
    try {
      result = await runLoad(stack.orderApi, { rate: RATE, durationMs: 4_000 });
    } finally {
      await setFaults({});
    }
    placed.push(...result.accepted);
    const figures = await checkInvariants(stack, { ...result, accepted: [...placed] });
    report(`commit-then-${mode}`, { ...figures, statuses: result.statuses });
    expect(figures.violations).toEqual([]);
  });
});

describe('scenario 12: rolling SIGTERM', () => {
  it('when every service is stopped gracefully and restarted in turn under load, then no 5xx and every invariant holds', async () => {
    const load = runLoad(stack.orderApi, { rate: RATE, durationMs: 12_000 });
    for (const name of ALL_PROCESSES) {
      await stack.kill(name, 'SIGTERM');
      await stack.launch(name);
    }
    const result = await load;
    placed.push(...result.accepted);
    const figures = await checkInvariants(stack, { ...result, accepted: [...placed] });
    report('rolling-sigterm', { ...figures, statuses: result.statuses });
    expect(figures.violations).toEqual([]);
    expect(result.undeclared5xx).toBe(0);
  });
});
