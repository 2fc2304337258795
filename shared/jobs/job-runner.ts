import PgBoss from 'pg-boss';
import type { Pool } from '../db/pool.js';
import type { Logger } from '../logging/logger.js';
import { jobSchema, queueName } from './job-names.js';

/** What a job's `run` is given besides its data. */
export interface JobContext {
  /** The job's id (`npm run jobs -- list` shows it). */
  id: string;
  /** The queue's full name, `<service>.<job>`. */
  queue: string;
  /** Aborted when the service stops: a long job ends early and reports what it did. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A kind of job a service runs. Jobs live in Postgres (pg-boss): one sent before a crash or a
 * restart runs after it, on whichever instance of the service polls first.
 */
export interface JobDefinition<D extends object = Record<string, unknown>> {
  /** Unique within the service; the queue is named `<service>.<name>`. */
  name: string;
  /** One run. What it returns is kept as the job's output (shown by `jobs list` and the admin API). */
  run(data: D, context: JobContext): Promise<unknown>;
  /**
   * Five-field cron expression, UTC: the job is sent on that schedule once per tick, whatever the
   * number of instances (pg-boss keeps the schedule in Postgres and sends each tick once).
   * Omitted: the job runs only when sent (`jobs run`, the admin API, code).
   */
  cron?: string;
  /**
   * `stately` (the default): at most one of these jobs waiting and one running, across all
   * instances — a recurring job whose run overlaps the next tick does not pile up.
   * `standard`: any number (jobs that each carry their own data).
   */
  policy?: 'stately' | 'standard';
  /** Attempts after the first, each after an exponentially growing delay with jitter. @defaultValue 3 */
  retryLimit?: number;
  /** Base of that delay, in seconds. @defaultValue 30 */
  retryDelaySeconds?: number;
  /** A run still active after this long counts as failed (its process died) and is retried. @defaultValue 900 */
  expireInSeconds?: number;
}

export interface JobRunnerOptions {
  pool: Pool;
  namespace: string;
  service: string;
  logger: Logger;
  /** How often an idle worker looks for due jobs, and how often the cron schedule is checked. */
  pollIntervalMs: number;
  /** Told of each run's end (metrics). */
  observe?: (queue: string, outcome: 'completed' | 'failed', seconds: number) => void;
}

/** How long a stop waits for running jobs (they are told to end through their signal first). */
const STOP_TIMEOUT_MS = 10_000;

/**
 * pg-boss 10 records a job's end (complete, or fail by id) without awaiting it: if Postgres is
 * unreachable at that moment the rejection is unhandled, which ends a Node process. These two
 * statements' failures are therefore handed to `lost` and answered as "no row changed": the job
 * stays active, its expiry fails it, and it is retried (what pg-boss does when a process dies
 * mid-job). Recognised by their text, which is pg-boss's own (plans.js: completeJobs, failJobsById).
 */
export const isJobEnd = (text: string) => /SET completed_on = now\(\),\s+state = 'completed'/.test(text) || (text.includes('WITH deleted_jobs AS') && text.includes('$3::jsonb'));

/** pg-boss over the service's own pool (no second pool), its tables in the namespace's jobs schema. */
export function createBoss(
  pool: Pick<Pool, 'query'>,
  namespace: string,
  options: PgBoss.ConstructorOptions = {},
  lost: (error: unknown) => void = () => undefined,
): PgBoss {
  const executeSql = (text: string, values: unknown[]) => {
    const query = pool.query(text, values);
    if (!isJobEnd(text)) return query;
    return query.catch((error: unknown) => {
      lost(error);
      return { rows: [{ count: '0' }] };
    });
  };
  return new PgBoss({
    db: { executeSql },
    schema: jobSchema(namespace),
    // Failed jobs stay in the live table, where `retry` can reach them, for a week; completed ones
    // move to the archive after a day. Archived jobs are deleted a week later.
    archiveCompletedAfterSeconds: 24 * 3600,
    archiveFailedAfterSeconds: 7 * 24 * 3600,
    deleteAfterDays: 7,
    ...options,
  });
}

/**
 * Runs a service's jobs: creates their queues, keeps their cron schedules, and works them. Every
 * instance of a service works the same queues; pg-boss hands each job to one of them
 * (`FOR UPDATE SKIP LOCKED`), retries a failed one with exponential backoff and jitter
 * (retry_delay × 2^n × random), and keeps it as `failed`, with its error, once the retries are
 * spent.
 */
export class JobRunner {
  private readonly boss: PgBoss;
  private readonly stopping = new AbortController();
  private readonly definitions = new Map<string, JobDefinition<object>>();
  private started = false;
  private lastError = { message: '', at: 0 };

  constructor(private readonly options: JobRunnerOptions) {
    const seconds = Math.max(1, Math.round(options.pollIntervalMs / 1000));
    this.boss = createBoss(
      options.pool,
      options.namespace,
      { cronMonitorIntervalSeconds: seconds, cronWorkerIntervalSeconds: seconds },
      (error) => options.logger.warn('could not record the end of a job; it expires and runs again', { error }),
    );
    this.boss.on('error', (error) => this.logError(error));
  }

  /** Adds job kinds; they start working at {@link start}. */
  define(...definitions: JobDefinition<object>[]): this {
    for (const definition of definitions) {
      if (this.started) throw new Error(`job ${definition.name} defined after the runner started`);
      this.definitions.set(definition.name, definition);
    }
    return this;
  }

  /** The queue name of one of this service's jobs. */
  queue(name: string): string {
    return queueName(this.options.service, name);
  }

  /** Sends one of this service's jobs now (or at `startAfter`); returns its id, or null if a stately queue is full. */
  async send(name: string, data: object = {}, options: { startAfter?: Date; priority?: number } = {}): Promise<string | null> {
    return this.boss.send(this.queue(name), data, options);
  }

  async start(): Promise<void> {
    this.started = true;
    await this.boss.start();
    const { service, pollIntervalMs } = this.options;
    for (const definition of this.definitions.values()) {
      const queue = this.queue(definition.name);
      const settings = {
        policy: definition.policy ?? 'stately',
        retryLimit: definition.retryLimit ?? 3,
        retryDelay: definition.retryDelaySeconds ?? 30,
        retryBackoff: true,
        expireInSeconds: definition.expireInSeconds ?? 900,
      };
      await whileContended(async () => {
        await this.boss.createQueue(queue, { name: queue, ...settings });
        // A queue made by an earlier version keeps its settings unless told: the code's are the truth.
        await this.boss.updateQueue(queue, { name: queue, ...settings });
        if (definition.cron) await this.boss.schedule(queue, definition.cron, {}, { tz: 'UTC' });
        else await this.boss.unschedule(queue);
      });
      await this.boss.work<object>(queue, { pollingIntervalSeconds: Math.max(0.5, pollIntervalMs / 1000), batchSize: 1 }, ([job]) =>
        this.runOne(definition, job!),
      );
    }
    this.options.logger.info('jobs started', { service, jobs: [...this.definitions.keys()] });
  }

  /**
   * Stops taking jobs, tells running ones to end (their signal), waits for them (bounded); a job
   * still running then is failed and retried later by another instance.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping.abort(new Error('the service is stopping'));
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: STOP_TIMEOUT_MS });
  }

  private async runOne(definition: JobDefinition<object>, job: PgBoss.Job<object>): Promise<unknown> {
    const queue = this.queue(definition.name);
    const logger = this.options.logger.child({ job: queue, job_id: job.id });
    const started = performance.now();
    try {
      const output = await definition.run(job.data ?? {}, { id: job.id, queue, signal: this.stopping.signal, logger });
      this.options.observe?.(queue, 'completed', (performance.now() - started) / 1000);
      return output;
    } catch (error) {
      this.options.observe?.(queue, 'failed', (performance.now() - started) / 1000);
      logger.warn('job failed; pg-boss retries it with backoff until its retries are spent', { error });
      throw error;
    }
  }

  /** pg-boss reports polling errors on every pass; while Postgres is down one line a minute is enough. */
  private logError(error: Error): void {
    const now = Date.now();
    if (error.message === this.lastError.message && now - this.lastError.at < 60_000) return;
    this.lastError = { message: error.message, at: now };
    this.options.logger.warn('job runner error', { error });
  }
}

/** Postgres errors of two instances creating the same queue at once (its table, its row). */
const CONTENDED = new Set(['40P01', '23505', '42P07']);

/**
 * Runs a queue's setup again when another instance starting at the same moment made it deadlock
 * or collide (pg-boss creates each queue's partition table in a function that is not safe to run
 * twice at once); bounded, with a random pause.
 */
async function whileContended(setUp: () => Promise<void>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await setUp();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || !code || !CONTENDED.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
    }
  }
}
