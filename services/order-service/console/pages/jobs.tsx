import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.js';
import { time } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../route.js';

interface QueueStats {
  name: string;
  cron: string | null;
  pending: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  last_completed_at: string | null;
}

interface Job {
  id: string;
  name: string;
  retry_count: number;
  retry_limit: number;
  data: unknown;
  output: unknown;
  created_at: string;
  completed_at: string | null;
}

interface Discrepancy {
  kind: string;
  order_id: string | null;
  payment_id: string | null;
  evidence: Record<string, unknown>;
  action: Record<string, unknown>;
}

interface Report {
  job_id: string;
  status: 'complete' | 'partial';
  window: { since: string; until: string };
  checked: { provider_payments: number; provider_refunds: number; local_payments: number };
  healed: Discrepancy[];
  needs_attention: Discrepancy[];
  pending: number;
  resolved: number;
  error: string | null;
}

interface Reconciliation {
  last_run: Report | null;
  last_complete_run: Report | null;
  running: string[];
  failed: { job_id: string; error: unknown }[];
}

/** A failed job's error: pg-boss keeps what the handler threw (message and stack). */
function errorOf(output: unknown): string {
  if (output && typeof output === 'object' && 'message' in output) return String((output as { message: unknown }).message);
  return output === null || output === undefined ? 'no error recorded' : JSON.stringify(output);
}

/** Evidence or action as `key: value` lines. */
function pairs(record: Record<string, unknown>): string {
  return Object.entries(record)
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`)
    .join('\n');
}

/**
 * Background jobs and the payment reconciliation: each queue's figures, the jobs that failed for
 * good with their errors (retried from here), and the open payment discrepancies of the last
 * complete reconciliation with their evidence; a reconciliation can be run now. Updates by itself.
 */
export function Jobs() {
  const queues = useLive<{ data: QueueStats[] }>('/admin/jobs/queues');
  const failed = useLive<{ data: Job[] }>('/admin/jobs?state=failed&limit=100');
  const reconciliation = useLive<Reconciliation>('/admin/reconciliation');
  const [outcome, setOutcome] = useState<string | null>(null);
  const attempt = async (what: () => Promise<string>) => {
    try {
      setOutcome(await what());
    } catch (error) {
      setOutcome(error instanceof ApiError ? `Nothing done: ${error.message}` : 'Nothing done.');
    }
    queues.refresh();
    failed.refresh();
    reconciliation.refresh();
  };
  const retry = (job: Job) =>
    attempt(async () => {
      await post(`/admin/jobs/${encodeURIComponent(job.id)}/retry`);
      return `Retrying ${job.name} (${job.id}).`;
    });
  const reconcileNow = () =>
    attempt(async () => {
      const run = await post<{ id: string }>('/admin/reconciliation/runs');
      return `Reconciliation started (job ${run.id}); its report shows here when it ends.`;
    });
  const error = queues.error ?? failed.error ?? reconciliation.error;

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs and reconciliation</h1>
      {error && (
        <p class="error" role="alert">
          {error.message}
        </p>
      )}
      {outcome && <p role="status">{outcome}</p>}

      <h2 id="failed-title">Failed jobs</h2>
      {failed.data && failed.data.data.length === 0 && <p>No failed jobs.</p>}
      {failed.data && failed.data.data.length > 0 && (
        <div class="scroll">
          <table aria-labelledby="failed-title">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Error</th>
                <th scope="col" class="number">Attempts</th>
                <th scope="col">Failed</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {failed.data.data.map((job) => (
                <tr key={job.id} data-job={job.id}>
                  <td>
                    <span class="mono">{job.name}</span>
                    <br />
                    <span class="help mono">{job.id}</span>
                  </td>
                  <td>{errorOf(job.output)}</td>
                  <td class="number">{job.retry_count + 1}</td>
                  <td>{time(job.completed_at)}</td>
                  <td class="actions">
                    <button type="button" onClick={() => retry(job)} aria-label={`Retry ${job.name} ${job.id}`}>
                      Retry
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2 id="recon-title">Payment reconciliation</h2>
      <ReconciliationSummary reconciliation={reconciliation.data} onRun={reconcileNow} />

      <h2 id="queues-title">Queues</h2>
      {queues.data && (
        <div class="scroll">
          <table aria-labelledby="queues-title">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col">Schedule (UTC)</th>
                <th scope="col" class="number">Waiting</th>
                <th scope="col" class="number">Running</th>
                <th scope="col" class="number">Completed</th>
                <th scope="col" class="number">Failed</th>
                <th scope="col">Last completed</th>
              </tr>
            </thead>
            <tbody>
              {queues.data.data.map((queue) => (
                <tr key={queue.name}>
                  <td class="mono">{queue.name}</td>
                  <td class="mono">{queue.cron ?? '—'}</td>
                  <td class="number">{queue.pending}</td>
                  <td class="number">{queue.active}</td>
                  <td class="number">{queue.completed}</td>
                  <td class="number">{queue.failed}</td>
                  <td>{time(queue.last_completed_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ReconciliationSummary({ reconciliation, onRun }: { reconciliation: Reconciliation | undefined; onRun: () => void }) {
  if (!reconciliation) return <p>Loading…</p>;
  const { last_run: last, last_complete_run: complete, running } = reconciliation;
  const open = complete?.needs_attention ?? [];
  return (
    <>
      <p>
        {complete
          ? `The last complete run checked ${complete.window.since.slice(0, 19)}Z to ${complete.window.until.slice(0, 19)}Z: ${complete.checked.provider_payments} provider payments, ${complete.checked.local_payments} of ours; it healed ${complete.healed.length}, ${complete.pending} wait for their grace period.`
          : 'No reconciliation has completed yet.'}
        {last && last.status === 'partial' && ` The latest run ended partial (${last.error ?? 'no reason given'}); the next one covers its window again.`}
      </p>
      <p class="actions">
        <button type="button" onClick={onRun} disabled={running.length > 0}>
          Run reconciliation now
        </button>
        {running.length > 0 && <span role="status"> A run is in progress.</span>}
      </p>
      <h3 id="open-title">Open discrepancies ({open.length})</h3>
      {complete && open.length === 0 && <p>None: every payment agrees with the provider.</p>}
      {open.length > 0 && (
        <div class="scroll">
          <table aria-labelledby="open-title">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Order / payment</th>
                <th scope="col">Evidence</th>
                <th scope="col">Why it is open</th>
              </tr>
            </thead>
            <tbody>
              {open.map((discrepancy) => (
                <tr key={`${discrepancy.kind}-${discrepancy.order_id}-${discrepancy.payment_id}`} data-kind={discrepancy.kind}>
                  <td>{discrepancy.kind.replace(/_/g, ' ')}</td>
                  <td>
                    {discrepancy.order_id && (
                      <a class="mono" href={href.order(discrepancy.order_id)}>
                        {discrepancy.order_id}
                      </a>
                    )}
                    {discrepancy.order_id && discrepancy.payment_id && <br />}
                    {discrepancy.payment_id && <span class="mono">{discrepancy.payment_id}</span>}
                  </td>
                  <td>
                    <pre class="evidence">{pairs(discrepancy.evidence)}</pre>
                  </td>
                  <td>
                    <pre class="evidence">{pairs(discrepancy.action)}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
