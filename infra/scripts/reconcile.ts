/**
 * Payment reconciliation: `npm run reconcile -- [command] [options]`
 *
 *   (none) [--since TIME] [--wait SECONDS]   run it now (through payment-service's job, so never
 *                                            beside a scheduled run) and print its report; TIME is
 *                                            ISO 8601 (2026-12-01T00:00:00Z) or an age (90m, 2h, 7d)
 *   report [--status S] [--limit N]          the last run's report, then the discrepancies
 *                                            (S: pending, open, healed, resolved; default pending+open)
 *
 * Add --json for machine-readable output. Reads NAMESPACE and DATABASE_URL like the services do.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../shared/config/durations.js';
import { createPool } from '../../shared/db/pool.js';
import { JobStore } from '../../shared/jobs/job-store.js';
import { createLogger } from '../../shared/logging/logger.js';
import { listDiscrepancies, type DiscrepancyRow, type DiscrepancyStatus } from '../../services/payment-service/data-access/reconciliation-repository.js';
import type { ReconciliationReport } from '../../services/payment-service/domain/reconciliation/reconcile.js';
import { reportText } from '../../services/payment-service/domain/reconciliation/report-text.js';

const USAGE = 'usage: npm run reconcile -- [--since TIME] [--wait SECONDS] | report [--status pending|open|healed|resolved] [--limit N]  [--json]';
const STATUSES: DiscrepancyStatus[] = ['pending', 'open', 'healed', 'resolved'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    since: { type: 'string' },
    wait: { type: 'string', default: '600' },
    status: { type: 'string' },
    limit: { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
});
const env = process.env;
const connectionString = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const namespace = env.NAMESPACE ?? '';
const logger = createLogger({ service: 'reconcile-cli', level: 'warn' });

function fail(message: string): never {
  throw new Error(message);
}

/** `--since`: an ISO time, or an age such as 2h. */
function sinceOf(text: string): string {
  const age = parseDuration(text);
  if (age !== null && !/^\d+$/.test(text)) return new Date(Date.now() - age).toISOString();
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) fail(`--since: ${text} is neither a time (2026-12-01T00:00:00Z) nor an age (90m, 2h, 7d)`);
  return time.toISOString();
}

const discrepancyLine = (d: DiscrepancyRow) =>
  `${d.id}  ${d.status.padEnd(8)} ${d.kind.padEnd(27)} order ${d.order_id ?? '-'}  payment ${d.payment_id ?? '-'}  first ${d.first_seen_at.toISOString()}  last ${d.last_seen_at.toISOString()}`;

let exitCode = 0;
try {
  const [command] = positionals;
  if (command === undefined) {
    const seconds = Number(values.wait);
    if (!(seconds > 0)) fail('--wait must be a number of seconds');
    const store = await JobStore.open({ connectionString, namespace, logger });
    try {
      const sent = await store.run('payment-service.reconcile', values.since ? { since: sinceOf(values.since) } : {});
      if (!sent.queued && !values.json) console.error(`a run was already waiting (${sent.id}): waiting for it instead`);
      const job = await store.waitFor(sent.id, seconds * 1000);
      if (!job) fail(`the run ${sent.id} has not ended within ${seconds} s (is payment-service running?); it stays queued`);
      if (job.state !== 'completed') fail(`the run ${sent.id} ${job.state}: ${JSON.stringify(job.output)}`);
      const report = job.output as ReconciliationReport;
      console.log(values.json ? JSON.stringify(report, null, 2) : reportText(report));
      if (report.status !== 'complete' || report.needs_attention.length > 0) exitCode = 3;
    } finally {
      await store.close();
    }
  } else if (command === 'report') {
    const status = values.status as DiscrepancyStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status)) fail(`--status must be one of ${STATUSES.join(', ')}`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) fail('--limit must be an integer from 1 to 10000');
    const pool = createPool({ connectionString, schema: `${namespace}payment_service`, max: 1, logger });
    try {
      const { rows } = await pool.query<{ report: ReconciliationReport | null }>(
        `SELECT report FROM reconciliation_runs WHERE status <> 'running' ORDER BY started_at DESC LIMIT 1`,
      );
      const last = rows[0]?.report ?? null;
      const discrepancies = status
        ? await listDiscrepancies(pool, { status, limit })
        : [...(await listDiscrepancies(pool, { status: 'open', limit })), ...(await listDiscrepancies(pool, { status: 'pending', limit }))];
      if (values.json) console.log(JSON.stringify({ last_run: last, discrepancies }, null, 2));
      else {
        console.log(last ? reportText(last) : 'no reconciliation has run yet');
        console.log(`\n${status ?? 'open and pending'} discrepancies: ${discrepancies.length}`);
        for (const d of discrepancies) console.log(discrepancyLine(d));
      }
    } finally {
      await pool.end();
    }
  } else {
    console.error(USAGE);
    exitCode = 2;
  }
} catch (error) {
  console.error(`reconcile: ${(error as Error).message}`);
  exitCode = 1;
}
process.exit(exitCode);
