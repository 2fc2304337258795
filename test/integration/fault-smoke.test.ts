import { describe, expect, it } from 'vitest';
import { FaultRun } from '../faults/fault-run.js';
import { closeAllConnections, commitThenFail, sigkill } from '../faults/scenarios.js';

/**
 * A short version of the fault suite (`npm run test:faults`): three of its scenarios, shorter,
 * against every service as its own process, each checked against all the invariants.
 */
const run = FaultRun.forFile({ PAYMENT_PROVIDER_TIMEOUT_MS: '1000' });

describe('fault smoke', () => {
  it('when payment-service is SIGKILLed under load and restarted, then every invariant holds', async () => {
    expect((await sigkill(run, 'payment-service', { durationMs: 4_000, downMs: 1_000 })).violations).toEqual([]);
  });

  it('when the provider commits charges and refunds and then times out, then nothing is charged twice', async () => {
    expect((await commitThenFail(run, 'timeout', { faultMs: 2_000 })).violations).toEqual([]);
  });

  it('when the broker closes every connection under load, then nothing is lost', async () => {
    expect((await closeAllConnections(run, { durationMs: 4_000 })).violations).toEqual([]);
  });
});
