import type { JobDefinition } from '../../../../shared/jobs/job-runner.js';
import { reconcile, type ReconcileDeps, type ReconciliationReport } from '../../domain/reconciliation/reconcile.js';

/** What `npm run reconcile -- --since`, the admin API and the schedule send: an optional window start. */
export interface ReconcileJobData {
  /** ISO 8601 time; omitted: where the last complete run ended, less the grace period. */
  since?: string;
}

/**
 * `payment-service.reconcile`: the reconciliation as a job, on RECONCILE_INTERVAL's schedule and on
 * demand. At most one runs at a time across every instance (and one more waits); its report is the
 * job's output.
 */
export function reconcileJob(
  deps: ReconcileDeps,
  schedule: string | null,
  onReport: (report: ReconciliationReport) => void,
): JobDefinition<ReconcileJobData> {
  return {
    name: 'reconcile',
    ...(schedule ? { cron: schedule } : {}),
    retryLimit: 2,
    retryDelaySeconds: 30,
    expireInSeconds: 1_800,
    run: async (data, { signal, logger }) => {
      const since = data.since === undefined ? undefined : new Date(data.since);
      if (since && Number.isNaN(since.getTime())) throw new Error(`since is not a time: ${data.since}`);
      const report = await reconcile({ ...deps, logger }, { ...(since ? { since } : {}), signal });
      onReport(report);
      return report;
    },
  };
}
