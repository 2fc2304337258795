import { describe, expect, it } from 'vitest';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { ALL_PROCESSES, type ProcessName } from '../support/process-stack.js';
import { waitFor } from '../support/wait-for.js';
import { FaultRun } from './fault-run.js';
import { sigkill } from './scenarios.js';

const run = FaultRun.forFile();

describe('scenario 1: SIGKILL under load', () => {
  it.each<ProcessName>(['order-service', 'inventory-service', 'payment-service', 'shipping-service', 'payment-provider'])(
    'when %s is SIGKILLed under load and restarted, then every invariant holds',
    async (victim) => {
      const figures = await sigkill(run, victim);
      expect(figures.violations).toEqual([]);
      expect(figures.accepted).toBeGreaterThan(0);
    },
  );
});

describe('scenario 2: payment-service dies between the provider charge and its own commit', () => {
  /** Charges the provider has committed while payment-service still has the order as 'charging'. */
  async function chargedButNotRecorded(): Promise<number> {
    const { rows } = await run.stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${run.stack.table('payment-provider', 'payments')} p
       JOIN ${run.stack.table('payment-service', 'payments')} s ON s.order_id::text = p.order_id
       WHERE p.status = 'succeeded' AND s.status = 'charging'`,
    );
    return rows[0]?.n ?? 0;
  }

  it('when payment-service is SIGKILLed while charges are committed at the provider but not in its database, then each order is charged once', async () => {
    const figures = await run.scenario('sigkill-payment-after-charge', { durationMs: 6_000 }, async () => {
      // The provider commits each charge and holds the answer: payment-service waits on it, its row
      // still 'charging', its message unacked.
      await run.stack.setProviderFaults({ commit_then_fail: 'timeout', match: 'payments' });
      let inDoubt = 0;
      try {
        inDoubt = await waitFor(async () => ((await chargedButNotRecorded()) >= 3 ? chargedButNotRecorded() : undefined), {
          timeoutMs: 20_000,
          intervalMs: 50,
          what: 'charges committed at the provider only',
        });
        await run.stack.kill('payment-service', 'SIGKILL');
      } finally {
        await run.stack.setProviderFaults({});
      }
      await run.stack.launch('payment-service');
      return { charged_but_unrecorded_at_kill: inDoubt };
    });
    expect(figures.violations).toEqual([]);
    expect(figures.charged_but_unrecorded_at_kill).toBeGreaterThanOrEqual(3);
  });
});

describe('scenario 12: rolling SIGTERM', () => {
  it('when every service is stopped gracefully and restarted in turn under load, then no 5xx and every invariant holds', async () => {
    const figures = await run.scenario('rolling-sigterm', { durationMs: 12_000, warmup: 1 }, async () => {
      for (const name of ALL_PROCESSES) {
        await run.stack.kill(name, 'SIGTERM');
        await run.stack.launch(name);
      }
    });
    expect(figures.violations).toEqual([]);
  });
});

describe('scenario 14: a delayed job and a SIGKILL', () => {
  it('when the only instance of a service is SIGKILLed with a delayed job queued, then the job runs after the restart', async () => {
    const store = await JobStore.open({
      connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      namespace: run.stack.namespace,
      logger: createLogger({ service: 'fault-test', level: 'error' }),
    });
    try {
      const { id } = await store.run('inventory-service.inbox-prune', {}, { startAfter: new Date(Date.now() + 2_000) });
      await run.stack.kill('inventory-service', 'SIGKILL');
      // Due while no instance runs: it waits in Postgres.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect((await store.get(id))?.state).toBe('created');
      const restartedAt = Date.now();
      await run.stack.launch('inventory-service');
      const job = await store.waitFor(id, 30_000);
      expect(job).toMatchObject({ state: 'completed', output: { deleted: 0 } });
      expect(Date.parse(job!.started_at!)).toBeGreaterThanOrEqual(restartedAt - 1_000);
    } finally {
      await store.close();
    }
  });
});
