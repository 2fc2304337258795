/**
 * Background jobs of every service: `npm run jobs -- <command> [options]`
 *
 *   stats                          per job: pending, active, completed, failed, schedule, last run
 *   list  [--state S] [--name N] [--limit N]
 *                                  jobs newest first (S: created|retry|active|completed|cancelled|failed),
 *                                  with a failed job's error
 *   show  <id>                     one job, with its data and its output (or error)
 *   retry <id>                     run a failed job once more
 *   run   <name> [--data JSON] [--priority N] [--delay SECONDS] [--wait SECONDS]
 *                                  queue a job now, or after a delay (name: `payment-service.reconcile`,
 *                                  or `reconcile` when only one service has it); --wait prints its
 *                                  output when it ends
 *
 * Add --json for machine-readable output. Reads NAMESPACE and DATABASE_URL like the services do.
 */
import { parseArgs } from 'node:util';
import { JOB_STATES, JobStore, type JobState, type JobView } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';

const USAGE = 'usage: npm run jobs -- stats | list [--state S] [--name N] [--limit N] | show <id> | retry <id> | run <name> [--data JSON] [--priority N] [--delay SECONDS] [--wait SECONDS]  [--json]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    state: { type: 'string' },
    name: { type: 'string' },
    limit: { type: 'string' },
    data: { type: 'string' },
    priority: { type: 'string' },
    delay: { type: 'string' },
    wait: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const [command, argument] = positionals;

function fail(message: string): never {
  throw new Error(message);
}

/** One line per job; a failed one's error message after it. */
function jobLine(job: JobView): string {
  const error = job.state === 'failed' ? `  ${errorOf(job.output)}` : '';
  const when = job.completed_at ?? job.started_at ?? job.start_after;
  return `${job.id}  ${job.name}  ${job.state}  attempts=${job.retry_count + 1}/${job.retry_limit + 1}  ${when}${error}`;
}

function errorOf(output: unknown): string {
  const message = (output as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(output);
}

function print(value: unknown, text: () => string): void {
  console.log(values.json ? JSON.stringify(value, null, 2) : text());
}

let exitCode = 0;
let store: JobStore | undefined;
try {
  if (!command || !['stats', 'list', 'show', 'retry', 'run'].includes(command)) {
    console.error(USAGE);
    process.exit(2);
  }
  store = await JobStore.open({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    namespace: process.env.NAMESPACE ?? '',
    logger: createLogger({ service: 'jobs-cli', level: 'warn' }),
  });
  switch (command) {
    case 'stats': {
      const stats = await store.stats();
      print(stats, () =>
        [
          'job                              pending  active  completed  failed  schedule        last completed',
          ...stats.map(
            (q) =>
              `${q.name.padEnd(32)} ${String(q.pending).padStart(7)} ${String(q.active).padStart(7)} ${String(q.completed).padStart(10)} ${String(q.failed).padStart(7)}  ${(q.cron ?? 'on demand').padEnd(14)}  ${q.last_completed_at ?? '-'}`,
          ),
        ].join('\n'),
      );
      break;
    }
    case 'list': {
      const state = values.state;
      if (state !== undefined && !JOB_STATES.includes(state as JobState)) fail(`--state must be one of ${JOB_STATES.join(', ')}`);
      const limit = values.limit === undefined ? 20 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail('--limit must be an integer from 1 to 1000');
      const jobs = await store.list({ ...(state ? { state: state as JobState } : {}), ...(values.name ? { name: values.name } : {}), limit });
      print(jobs, () => [...jobs.map(jobLine), `${jobs.length} job(s)`].join('\n'));
      break;
    }
    case 'show': {
      const job = argument ? await store.get(argument) : null;
      if (!job) fail(`no job ${argument ?? '(none given)'}`);
      console.log(JSON.stringify(job, null, 2));
      break;
    }
    case 'retry': {
      if (!argument) fail('retry needs a job id');
      const job = await store.get(argument);
      if (!job) fail(`no job ${argument}`);
      if (!(await store.retry(argument))) fail(`job ${argument} is ${job.state}, not failed: only a failed job can be retried`);
      print({ id: argument, retried: true }, () => `retrying ${job.name} ${argument}`);
      break;
    }
    case 'run': {
      if (!argument) fail('run needs a job name (npm run jobs -- stats lists them)');
      let data: object = {};
      if (values.data !== undefined) {
        try {
          data = JSON.parse(values.data) as object;
        } catch {
          fail('--data must be a JSON object');
        }
        if (data === null || typeof data !== 'object' || Array.isArray(data)) fail('--data must be a JSON object');
      }
      const priority = values.priority === undefined ? 0 : Number(values.priority);
      if (!Number.isInteger(priority)) fail('--priority must be an integer (higher runs first)');
      const delay = values.delay === undefined ? 0 : Number(values.delay);
      if (!(delay >= 0)) fail('--delay must be a number of seconds');
      const sent = await store.run(argument, data, { priority, ...(delay > 0 ? { startAfter: new Date(Date.now() + delay * 1000) } : {}) });
      if (values.wait === undefined) {
        print(sent, () => `${sent.queued ? 'queued' : 'already waiting'}: ${sent.queue} ${sent.id}`);
        break;
      }
      const seconds = Number(values.wait);
      if (!(seconds > 0)) fail('--wait must be a number of seconds');
      const ended = await store.waitFor(sent.id, seconds * 1000);
      if (!ended) fail(`${sent.queue} ${sent.id} has not ended within ${seconds} s (is the service running?); it stays queued`);
      print(ended, () => `${jobLine(ended)}\n${JSON.stringify(ended.output, null, 2)}`);
      if (ended.state !== 'completed') exitCode = 1;
      break;
    }
  }
} catch (error) {
  console.error(`jobs: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await store?.close();
}
process.exit(exitCode);
