import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../shared/db/pool.js';
import { createBoss, JobRunner, type JobDefinition } from '../../shared/jobs/job-runner.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { OrderApi } from '../support/order-api.js';
import { TestStack } from '../support/test-stack.js';
import { waitFor } from '../support/wait-for.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger({ service: 'jobs-test', level: 'error' });
const root = path.resolve(import.meta.dirname, '../..');

describe('job runner (pg-boss) on the real Postgres', () => {
  const namespace = `j${randomBytes(4).toString('hex')}_`;
  const pools: Pool[] = [];
  const runners: JobRunner[] = [];
  let store: JobStore;

  /** An instance of a service: its own pool and runner, as a process would have. */
  async function instance(service: string, ...definitions: JobDefinition<object>[]): Promise<JobRunner> {
    const pool = createPool({ connectionString: DATABASE_URL, schema: 'public', max: 3, logger });
    pools.push(pool);
    const runner = new JobRunner({ pool, namespace, service, logger, pollIntervalMs: 500 }).define(...definitions);
    runners.push(runner);
    await runner.start();
    return runner;
  }

  beforeAll(async () => {
    await instance('boot');
    store = await JobStore.open({ connectionString: DATABASE_URL, namespace, logger });
  });

  afterAll(async () => {
    await store?.close();
    for (const runner of runners) await runner.stop();
    for (const pool of pools) await pool.end();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${namespace}jobs" CASCADE`);
    await db.end();
  });

  it('retries a failing job with growing delays, keeps it as failed with its error, and runs it again on retry', async () => {
    const attempts: number[] = [];
    let healthy = false;
    const runner = await instance('flaky-service', {
      name: 'flaky',
      policy: 'standard',
      retryLimit: 2,
      retryDelaySeconds: 1,
      run: async () => {
        attempts.push(Date.now());
        if (!healthy) throw new Error(`downstream refused attempt ${attempts.length}`);
        return { done: true };
      },
    });
    const id = (await runner.send('flaky', { n: 1 }))!;

    const failed = await waitFor(async () => {
      const job = await store.get(id);
      return job?.state === 'failed' ? job : undefined;
    }, { timeoutMs: 30_000, what: 'the job to fail for good' });
    expect(attempts).toHaveLength(3);
    expect(failed.retry_count).toBe(2);
    expect((failed.output as { message: string }).message).toBe('downstream refused attempt 3');
    // Backoff: each wait is the base delay times 2^n times a random factor, so never zero.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThan(0);
    const failedList = await store.list({ state: 'failed', name: 'flaky-service.flaky' });
    expect(failedList.map((job) => job.id)).toEqual([id]);

    healthy = true;
    expect(await store.retry(id)).toBe(true);
    const done = await waitFor(async () => {
      const job = await store.get(id);
      return job?.state === 'completed' ? job : undefined;
    }, { timeoutMs: 20_000, what: 'the retried job to complete' });
    expect(done.output).toEqual({ done: true });
    expect(attempts).toHaveLength(4);
    // Only a failed job can be retried.
    expect(await store.retry(id)).toBe(false);
  });

  it('runs waiting jobs highest priority first', async () => {
    // Queued before any worker takes the queue, so all three wait together.
    const boss = createBoss(pools[0]!, namespace);
    await boss.start();
    try {
      await boss.createQueue('prio-service.ordered', { name: 'prio-service.ordered', policy: 'standard' });
      for (const [n, priority] of [[1, 0], [2, 10], [3, 5]] as const) await boss.send('prio-service.ordered', { n }, { priority });
    } finally {
      await boss.stop({ graceful: false, close: false });
    }
    const ran: number[] = [];
    await instance('prio-service', { name: 'ordered', policy: 'standard', run: async (data) => ran.push((data as { n: number }).n) });
    await waitFor(async () => ran.length === 3, { what: 'the three jobs' });
    expect(ran).toEqual([2, 3, 1]);
  });

  it('runs a recurring job once per tick, however many instances run it', async () => {
    const runs: { instance: number; at: number }[] = [];
    const definition = (n: number): JobDefinition<object> => ({
      name: 'tick',
      cron: '* * * * *',
      run: async () => {
        runs.push({ instance: n, at: Date.now() });
        return {};
      },
    });
    await Promise.all([instance('twin-service', definition(1)), instance('twin-service', definition(2))]);
    await waitFor(async () => runs.length > 0, { timeoutMs: 20_000, what: 'the first tick' });
    // Both instances check the schedule every half second; let them check it many times over.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const minutes = runs.map((run) => Math.floor(run.at / 60_000));
    // One run per minute: a second one appears only if the wait crossed into the next minute.
    expect(new Set(minutes).size).toBe(runs.length);
    const [stats] = (await store.stats()).filter((q) => q.name === 'twin-service.tick');
    expect(stats).toMatchObject({ cron: '* * * * *', failed: 0 });
    expect(stats!.completed).toBe(runs.length);
  });

  it('runs a delayed job no earlier than asked, and a run of a recurring job waits while one is queued', async () => {
    const ran: number[] = [];
    await instance('delay-service', { name: 'later', run: async () => ran.push(Date.now()) });
    const at = new Date(Date.now() + 2_000);
    const first = await store.run('later', {}, { startAfter: at });
    expect(first).toMatchObject({ queue: 'delay-service.later', queued: true });
    // The job is stately: while one waits, asking again hands back the waiting one.
    const second = await store.run('delay-service.later');
    expect(second).toEqual({ ...first, queued: false });
    await waitFor(async () => ran.length === 1, { timeoutMs: 10_000, what: 'the delayed job' });
    expect(ran[0]).toBeGreaterThanOrEqual(at.getTime() - 50);
    await expect(store.run('no-such-job')).rejects.toThrow('no job named no-such-job');
  });
});

describe('jobs of the running services', () => {
  let stack: TestStack;
  const admin = () => new OrderApi(stack, 'admin');

  beforeAll(async () => {
    stack = await TestStack.start({ JOBS_POLL_MS: '500' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('prunes outbox and inbox rows past their retention, and nothing younger', async () => {
    const outbox = stack.table('shipping-service', 'outbox');
    const inbox = stack.table('shipping-service', 'inbox');
    const old = Array.from({ length: 2_500 }, () => randomUUID());
    const young = randomUUID();
    await stack.db.query(
      `INSERT INTO ${outbox} (id, routing_key, envelope, created_at, published_at)
       SELECT id, 'test', '{}'::jsonb, now() - interval '9 days', now() - interval '8 days' FROM unnest($1::uuid[]) id`,
      [old],
    );
    await stack.db.query(
      `INSERT INTO ${outbox} (id, routing_key, envelope, created_at, published_at) VALUES ($1, 'test', '{}', now() - interval '6 days', now() - interval '6 days')`,
      [young],
    );
    await stack.db.query(`INSERT INTO ${inbox} (event_id, event_type, handled_at) SELECT id, 'test', now() - interval '8 days' FROM unnest($1::uuid[]) id`, [old]);
    await stack.db.query(`INSERT INTO ${inbox} (event_id, event_type, handled_at) VALUES ($1, 'test', now() - interval '6 days')`, [young]);

    const store = await JobStore.open({ connectionString: DATABASE_URL, namespace: stack.namespace, logger });
    try {
      for (const job of ['shipping-service.outbox-prune', 'shipping-service.inbox-prune']) {
        const { id } = await store.run(job);
        const ended = await store.waitFor(id, 20_000);
        expect(ended).toMatchObject({ state: 'completed', output: { deleted: 2_500 } });
      }
    } finally {
      await store.close();
    }
    const left = async (table: string, column: string, ids: string[]) =>
      (await stack.db.query(`SELECT ${column} AS id FROM ${table} WHERE ${column} = ANY($1::uuid[])`, [ids])).rows.map((r) => r.id);
    expect(await left(outbox, 'id', [...old, young])).toEqual([young]);
    expect(await left(inbox, 'event_id', [...old, young])).toEqual([young]);
  });

  it('shows every service\'s jobs to an admin, runs one on demand, and refuses a retry of a job that has not failed', async () => {
    const queues = await waitFor(async () => {
      const response = await admin().request('GET', '/admin/jobs/queues');
      expect(response.status).toBe(200);
      const { data } = (await response.json()) as { data: { name: string; cron: string | null }[] };
      return data.length >= 9 ? data : undefined;
    }, { what: 'the queues of all four services' });
    const names = queues.map((q) => q.name);
    for (const service of ['order-service', 'inventory-service', 'payment-service', 'shipping-service']) {
      expect(names).toContain(`${service}.outbox-prune`);
      expect(names).toContain(`${service}.inbox-prune`);
    }
    expect(queues.find((q) => q.name === 'order-service.deadline-sweep')).toMatchObject({ cron: null });
    expect(queues.find((q) => q.name === 'payment-service.outbox-prune')?.cron).toMatch(/^\d+ \* \* \* \*$/);

    const run = await admin().request('POST', '/admin/jobs/queues/deadline-sweep/runs', {});
    expect(run.status).toBe(202);
    const { id, queue } = (await run.json()) as { id: string; queue: string };
    expect(queue).toBe('order-service.deadline-sweep');
    const job = await waitFor(async () => {
      const body = (await (await admin().request('GET', `/admin/jobs/${id}`)).json()) as { state: string; output: unknown };
      return body.state === 'completed' ? body : undefined;
    }, { what: 'the sweep to run' });
    expect(job.output).toEqual({ cancelled: 0 });

    const listed = (await (await admin().request('GET', '/admin/jobs?name=order-service.deadline-sweep&state=completed')).json()) as { data: { id: string }[] };
    expect(listed.data.map((j) => j.id)).toContain(id);

    const retry = await admin().request('POST', `/admin/jobs/${id}/retry`);
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { type: string }).type).toBe('urn:order-platform:problem:job_not_failed');
    expect((await admin().request('POST', '/admin/jobs/queues/no-such-job/runs', {})).status).toBe(404);
    expect((await admin().request('GET', `/admin/jobs/${randomUUID()}`)).status).toBe(404);
    expect((await new OrderApi(stack, 'cus_jobs').request('GET', '/admin/jobs/queues')).status).toBe(403);
  });

  it('npm run jobs: stats, run --wait and list, against the same jobs', async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'infra/scripts/jobs.ts'), ...args], {
        cwd: root,
        env: { ...process.env, NAMESPACE: stack.namespace, DATABASE_URL },
        timeout: 60_000,
      });
    const stats = JSON.parse((await cli('stats', '--json')).stdout) as { name: string }[];
    expect(stats.map((q) => q.name)).toContain('inventory-service.inbox-prune');
    // The mock provider's prune too: it keeps its jobs in the same schema when it shares the database.
    expect(stats.map((q) => q.name)).toContain('payment-provider.idempotency-key-prune');
    const ran = JSON.parse((await cli('run', 'inventory-service.inbox-prune', '--wait', '30', '--json')).stdout) as { state: string; output: unknown };
    expect(ran).toMatchObject({ state: 'completed', output: { deleted: 0 } });
    const listed = (await cli('list', '--name', 'inventory-service.inbox-prune')).stdout;
    expect(listed).toMatch(/inventory-service\.inbox-prune {2}completed/);
    await expect(cli('retry', randomUUID())).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^jobs: no job /) });
    await expect(cli('frobnicate')).rejects.toMatchObject({ code: 2 });
  });
});
