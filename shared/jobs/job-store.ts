import type PgBoss from 'pg-boss';
import { createPool, type Pool } from '../db/pool.js';
import type { Logger } from '../logging/logger.js';
import { createBoss } from './job-runner.js';
import { jobSchema } from './job-names.js';

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
export const JOB_STATES: readonly JobState[] = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'];

/** One queue's figures: its jobs by state (live and archived), its schedule and its last run. */
export interface QueueStats {
  name: string;
  /** Cron expression (UTC) if the job is recurring. */
  cron: string | null;
  /** Waiting to run: created, or failed once and waiting for its next attempt. */
  pending: number;
  active: number;
  /** Ended well in the retention period (a week). */
  completed: number;
  /** Retries spent: kept with their error for inspection and `retry`. */
  failed: number;
  cancelled: number;
  last_completed_at: string | null;
}

export interface JobView {
  id: string;
  name: string;
  state: JobState;
  priority: number;
  /** Attempts made after the first, and how many are allowed. */
  retry_count: number;
  retry_limit: number;
  data: unknown;
  /** What a completed run returned, or a failed one's error (message and stack). */
  output: unknown;
  created_at: string;
  start_after: string;
  started_at: string | null;
  completed_at: string | null;
}

export interface JobFilter {
  state?: JobState;
  name?: string;
  /** @defaultValue 20 */
  limit?: number;
}

/** A job name the store does not know, or one that matches several services' jobs. */
export class UnknownJobError extends Error {}

const JOB_COLUMNS = `id, name, state, priority, retry_count, retry_limit, data, output,
  created_on AS created_at, start_after, started_on AS started_at, completed_on AS completed_at`;
const INTERNAL_QUEUE = '__pgboss__%';

/**
 * What operators see of the jobs of every service in a namespace, and what they can do with them:
 * figures per queue, jobs by state with their output or error, retry a failed one, run one now.
 * Used by `npm run jobs` and order-service's admin API. Reads pg-boss's tables (they are plain,
 * documented tables) for what its API does not offer, such as counts that include archived jobs.
 */
export class JobStore {
  private readonly schema: string;

  private constructor(
    private readonly pool: Pool,
    private readonly boss: PgBoss,
    namespace: string,
  ) {
    this.schema = jobSchema(namespace);
  }

  /**
   * Opens the store on its own small pool. Throws a clear error if no service has created the jobs
   * schema yet.
   */
  static async open(options: { connectionString: string; namespace: string; logger: Logger }): Promise<JobStore> {
    const schema = jobSchema(options.namespace);
    const pool = createPool({ connectionString: options.connectionString, schema, max: 2, logger: options.logger });
    try {
      const { rows } = await pool.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [`${schema}.version`]);
      if (!rows[0]?.ok) throw new Error(`no jobs schema "${schema}" yet: start the services once (they create it)`);
      const boss = createBoss(pool, options.namespace, { supervise: false, schedule: false, migrate: false });
      boss.on('error', (error) => options.logger.warn('job store error', { error }));
      await boss.start();
      return new JobStore(pool, boss, options.namespace);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false, wait: true });
    await this.pool.end();
  }

  async stats(): Promise<QueueStats[]> {
    const s = this.schema;
    const { rows } = await this.pool.query<QueueStats>(
      `SELECT q.name, sc.cron,
         count(j.state) FILTER (WHERE j.state IN ('created', 'retry'))::int AS pending,
         count(j.state) FILTER (WHERE j.state = 'active')::int AS active,
         count(j.state) FILTER (WHERE j.state = 'completed')::int AS completed,
         count(j.state) FILTER (WHERE j.state = 'failed')::int AS failed,
         count(j.state) FILTER (WHERE j.state = 'cancelled')::int AS cancelled,
         max(j.completed_on) FILTER (WHERE j.state = 'completed') AS last_completed_at
       FROM "${s}".queue q
       LEFT JOIN "${s}".schedule sc ON sc.name = q.name
       LEFT JOIN (SELECT name, state, completed_on FROM "${s}".job
                  UNION ALL SELECT name, state, completed_on FROM "${s}".archive) j ON j.name = q.name
       WHERE q.name NOT LIKE $1
       GROUP BY q.name, sc.cron ORDER BY q.name`,
      [INTERNAL_QUEUE],
    );
    return rows.map((row) => ({ ...row, last_completed_at: iso(row.last_completed_at) }));
  }

  /** Newest first; the live table and the archive (completed jobs move there after a day). */
  async list(filter: JobFilter = {}): Promise<JobView[]> {
    const s = this.schema;
    const name = filter.name === undefined ? null : await this.resolve(filter.name);
    const { rows } = await this.pool.query(
      `SELECT * FROM (SELECT ${JOB_COLUMNS} FROM "${s}".job UNION ALL SELECT ${JOB_COLUMNS} FROM "${s}".archive) j
       WHERE name NOT LIKE $1 AND ($2::text IS NULL OR state::text = $2) AND ($3::text IS NULL OR name = $3)
       ORDER BY created_at DESC, id LIMIT $4`,
      [INTERNAL_QUEUE, filter.state ?? null, name, filter.limit ?? 20],
    );
    return rows.map(view);
  }

  async get(id: string): Promise<JobView | null> {
    const s = this.schema;
    const { rows } = await this.pool.query(
      `SELECT ${JOB_COLUMNS} FROM "${s}".job WHERE id = $1
       UNION ALL SELECT ${JOB_COLUMNS} FROM "${s}".archive WHERE id = $1 LIMIT 1`,
      [id],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  /** Runs a failed job again (one more attempt); false if it is not (or no longer) failed. */
  async retry(id: string): Promise<boolean> {
    const job = await this.get(id);
    if (!job || job.state !== 'failed') return false;
    // pg-boss 10 answers with counts its type declarations leave out.
    const result = (await this.boss.retry(job.name, id)) as unknown as { affected: number };
    return result.affected === 1;
  }

  /**
   * Sends a job, to run now or at `startAfter` (a delayed job). `name` is a queue (`payment-service.reconcile`) or a job name that only one
   * service has (`reconcile`). A recurring job's queue holds one waiting run at most: if one is
   * already waiting, its id is returned instead (`queued: false`).
   */
  async run(
    name: string,
    data: object = {},
    options: { priority?: number; startAfter?: Date } = {},
  ): Promise<{ id: string; queue: string; queued: boolean }> {
    const queue = await this.resolve(name);
    const id = await this.boss.send(queue, data, { priority: options.priority ?? 0, ...(options.startAfter ? { startAfter: options.startAfter } : {}) });
    if (id) return { id, queue, queued: true };
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM "${this.schema}".job WHERE name = $1 AND state IN ('created', 'retry') ORDER BY created_on LIMIT 1`,
      [queue],
    );
    if (!rows[0]) throw new Error(`could not queue ${queue}: try again`);
    return { id: rows[0].id, queue, queued: false };
  }

  /** Waits until a job ends (completed, failed or cancelled), polling; null if it has not within the time. */
  async waitFor(id: string, timeoutMs: number, pollMs = 250): Promise<JobView | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.get(id);
      if (job && (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled')) return job;
      if (Date.now() >= deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** The queue a name means: itself, or the one queue whose job part is that name. */
  async resolve(name: string): Promise<string> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT name FROM "${this.schema}".queue WHERE (name = $1 OR right(name, length($1) + 1) = '.' || $1) AND name NOT LIKE $2 ORDER BY name`,
      [name, INTERNAL_QUEUE],
    );
    const exact = rows.find((row) => row.name === name);
    if (exact) return exact.name;
    if (rows.length === 1) return rows[0]!.name;
    if (rows.length === 0) throw new UnknownJobError(`no job named ${name}`);
    throw new UnknownJobError(`${name} is ambiguous: ${rows.map((row) => row.name).join(', ')}`);
  }
}

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : value === null || value === undefined ? null : String(value);
}

function view(row: Record<string, unknown>): JobView {
  return {
    id: String(row.id),
    name: String(row.name),
    state: row.state as JobState,
    priority: Number(row.priority),
    retry_count: Number(row.retry_count),
    retry_limit: Number(row.retry_limit),
    data: row.data ?? null,
    output: row.output ?? null,
    created_at: iso(row.created_at)!,
    start_after: iso(row.start_after)!,
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
  };
}
