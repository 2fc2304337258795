import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ALL_PROCESSES } from '../support/process-stack.js';
import { ADDRESS } from '../support/order-api.js';
import { startRedis, stopRedis, terminateBackends } from '../support/servers.js';
import { authHeader } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';
import { FaultRun } from './fault-run.js';
import { LOAD_CUSTOMER, type LoadResult } from './load-generator.js';

const run = FaultRun.forFile({}, { restore: () => startRedis().catch(() => undefined) });

const pids = () => Object.fromEntries(ALL_PROCESSES.map((name) => [name, run.stack.pid(name)]));

describe('scenario 8: Postgres backends terminated', () => {
  it('when every service backend is terminated again and again under load, then no process dies and the work resumes', async () => {
    const before = pids();
    const figures = await run.scenario('postgres-terminate-backends', { durationMs: 12_000 }, async () => {
      let terminated = 0;
      for (let round = 0; round < 8; round += 1) {
        terminated += await terminateBackends(run.stack.db, run.stack.namespace);
        await sleep(1_000);
      }
      return { backends_terminated: terminated };
    });
    expect(figures.violations).toEqual([]);
    expect(figures.backends_terminated).toBeGreaterThan(0);
    expect(pids()).toEqual(before);
  });
});

describe('scenario 9: Redis stopped, then back empty', () => {
  async function readiness(): Promise<{ status: number; body: { status: string; checks: Record<string, boolean> } }> {
    const response = await fetch(`${run.stack.orderApi}/readyz`);
    return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, boolean> } };
  }

  /** One order placed twice with one key, then the key with another body, while Redis is down. */
  async function retryWithOneKey(progress: LoadResult) {
    const key = randomUUID();
    const headers = { 'content-type': 'application/json', 'idempotency-key': key, ...(await authHeader(LOAD_CUSTOMER)) };
    const body = { items: [{ sku: 'STICKER-PACK', quantity: 1 }], currency: 'USD', payment_source: 'tok_visa', shipping_address: ADDRESS };
    const post = (b: object) => fetch(`${run.stack.orderApi}/orders`, { method: 'POST', headers, body: JSON.stringify(b) });
    const first = await post(body);
    const again = await post(body);
    const other = await post({ ...body, items: [{ sku: 'STICKER-PACK', quantity: 2 }] });
    const [firstOrder, againOrder] = (await Promise.all([first.json(), again.json()])) as { id: string }[];
    await other.body?.cancel();
    if (first.status === 202) progress.accepted.push({ id: firstOrder!.id, kind: 'success', sku: 'STICKER-PACK', quantity: 1 });
    return {
      statuses: [first.status, again.status, other.status],
      sameOrder: firstOrder?.id === againOrder?.id,
      replayed: again.headers.get('idempotent-replayed'),
    };
  }

  it('when Redis is down under load, then orders are still taken once per Idempotency-Key (on the orders table), /readyz reports degraded, and nothing crashes', async () => {
    const before = pids();
    let whileDown = await readiness();
    let oneKey = { statuses: [] as number[], sameOrder: false, replayed: null as string | null };
    const figures = await run.scenario('redis-down', { durationMs: 10_000 }, async (progress) => {
      await stopRedis();
      const acceptedBefore = progress.accepted.length;
      try {
        await sleep(2_000);
        oneKey = await retryWithOneKey(progress);
        await sleep(3_000);
        whileDown = await readiness();
      } finally {
        await startRedis();
      }
      return { accepted_while_redis_down: progress.accepted.length - acceptedBefore };
    });
    expect(figures.violations).toEqual([]);
    expect(whileDown).toEqual({ status: 200, body: { status: 'degraded', checks: { postgres_and_rabbitmq: true, redis: false } } });
    expect(oneKey).toEqual({ statuses: [202, 202, 422], sameOrder: true, replayed: 'true' });
    expect(figures.accepted_while_redis_down).toBeGreaterThan(1);
    await waitFor(async () => (await readiness()).body.status === 'ready', { what: 'order-service to see Redis again' });
    expect(pids()).toEqual(before);
  });
});
