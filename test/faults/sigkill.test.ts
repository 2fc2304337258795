import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStack, type ProcessName } from '../support/process-stack.js';
import { checkInvariants } from './invariants.js';
import { waitFor } from '../support/wait-for.js';
import { emptyLoadResult, runLoad, type PlacedOrder } from './load-generator.js';
import { report } from './scenario-report.js';

let stack: ProcessStack;
const placed: PlacedOrder[] = [];

beforeAll(async () => {
  stack = await ProcessStack.start();
});

afterAll(async () => {
  await stack?.stop();
});

const RATE = Number(process.env.FAULT_LOAD_RATE ?? 10);

describe('scenario 1: SIGKILL under load', () => {
  it.each<ProcessName>(['order-service', 'inventory-service', 'payment-service', 'shipping-service', 'payment-provider'])(
    'when %s is SIGKILLed under load and restarted, then every invariant holds',
    async (victim) => {
      const progress = emptyLoadResult();
      const load = runLoad(stack.orderApi, { rate: RATE, durationMs: 6_000, progress });
      // The fault lands mid-load: once the system has taken a few orders.
      await waitFor(async () => progress.accepted.length >= 10, { what: 'load to be under way' });
      await stack.kill(victim, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // down for two seconds
      await stack.launch(victim);
      const result = await load;
      placed.push(...result.accepted);
      // Stock and money are checked over every order this stack has taken, not only this scenario's.
      const figures = await checkInvariants(stack, { ...result, accepted: [...placed] });
      report(`sigkill-${victim}`, { ...figures, statuses: result.statuses });
      expect(figures.violations).toEqual([]);
      expect(figures.accepted).toBeGreaterThan(0);
    },
  );
});
