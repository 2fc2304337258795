import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { killBroker, startBroker, startBrokerApp, stopBrokerApp, waitForBroker } from '../support/servers.js';
import { FaultRun } from './fault-run.js';
import { closeAllConnections } from './scenarios.js';

const run = FaultRun.forFile({}, { restore: waitForBroker });

describe('scenario 6: the broker stops and comes back', () => {
  it('when the broker application is stopped for 20 s under load, then the API keeps accepting orders and every service resubscribes and finishes them', async () => {
    const figures = await run.scenario('broker-stop-app', { durationMs: 26_000 }, async (progress) => {
      await stopBrokerApp();
      const before = progress.accepted.length;
      try {
        await sleep(20_000);
      } finally {
        await startBrokerApp();
      }
      return { accepted_during_outage: progress.accepted.length - before };
    });
    expect(figures.violations).toEqual([]);
    expect(figures.accepted_during_outage).toBeGreaterThan(0);
  }, 180_000);

  it('when the broker closes every connection under load, then every service reconnects and nothing is lost', async () => {
    const figures = await closeAllConnections(run);
    expect(figures.violations).toEqual([]);
  });
});

describe('scenario 7: the broker is killed', () => {
  it('when RabbitMQ is SIGKILLed under load and started again, then confirmed messages survive and unconfirmed ones are sent again from the outbox', async () => {
    const figures = await run.scenario('broker-sigkill', { durationMs: 15_000 }, async () => {
      try {
        await killBroker();
        await sleep(2_000);
      } finally {
        await startBroker();
      }
    });
    expect(figures.violations).toEqual([]);
  }, 180_000);
});
