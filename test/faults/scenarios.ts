import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessName } from '../support/process-stack.js';
import { rabbitmqctl } from '../support/servers.js';
import type { FaultRun, ScenarioFigures } from './fault-run.js';

/** The scenarios both the full fault suite and the smoke run in `npm test` use. */

/** Scenario 1: `victim` SIGKILLed mid-load, down for `downMs`, restarted. */
export function sigkill(run: FaultRun, victim: ProcessName, options: { durationMs?: number; downMs?: number } = {}): Promise<ScenarioFigures> {
  return run.scenario(`sigkill-${victim}`, { durationMs: options.durationMs ?? 6_000 }, async () => {
    await run.stack.kill(victim, 'SIGKILL');
    await sleep(options.downMs ?? 2_000);
    await run.stack.launch(victim);
  });
}

/** Scenario 3: every charge and refund committed by the provider, then answered 500 or not at all. */
export function commitThenFail(run: FaultRun, mode: '500' | 'timeout', options: { faultMs?: number } = {}): Promise<ScenarioFigures> {
  const faultMs = options.faultMs ?? 3_000;
  return run.scenario(`commit-then-${mode}`, { durationMs: faultMs + 1_000, warmup: 1 }, async () => {
    await run.stack.setProviderFaults({ commit_then_fail: mode, match: 'all' });
    try {
      await sleep(faultMs);
    } finally {
      await run.stack.setProviderFaults({});
    }
  });
}

/** Scenario 6, second part: the broker closes every connection, twice, mid-load. */
export function closeAllConnections(run: FaultRun, options: { durationMs?: number } = {}): Promise<ScenarioFigures> {
  return run.scenario('broker-close-connections', { durationMs: options.durationMs ?? 8_000 }, async () => {
    await rabbitmqctl('close_all_connections', 'fault suite: connections closed on purpose');
    await sleep(1_000);
    await rabbitmqctl('close_all_connections', 'fault suite: connections closed on purpose, again');
  });
}
