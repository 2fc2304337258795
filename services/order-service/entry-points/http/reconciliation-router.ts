import express from 'express';
import { Type } from '@sinclair/typebox';
import type { JobStore } from '../../../../shared/jobs/job-store.js';
import { validatorFor } from './validate.js';

export const RECONCILE_QUEUE = 'payment-service.reconcile';

export const ReconcileRequest = Type.Object(
  { since: Type.Optional(Type.String({ format: 'date-time', description: 'start of the window; default: where the last complete run ended, less the grace period' })) },
  { additionalProperties: false },
);
const checkRun = validatorFor(ReconcileRequest, 'body');

/**
 * Operations endpoints for the payment reconciliation, which runs in payment-service as the job
 * `payment-service.reconcile`: run it now, and read the reports of the last runs (each run's
 * report is its job's output, so order-service reads no table of payment-service's). Mounted under
 * `/admin`, behind the admin role (create-app.ts).
 */
export function reconciliationRouter(store: JobStore): express.Router {
  const router = express.Router();

  router.post('/reconciliation/runs', async (req, res) => {
    const body = checkRun(req.body ?? {});
    res.status(202).json(await store.run(RECONCILE_QUEUE, body.since ? { since: body.since } : {}));
  });

  router.get('/reconciliation', async (_req, res) => {
    const runs = await store.list({ name: RECONCILE_QUEUE, limit: 50 });
    const reports = runs.filter((job) => job.state === 'completed').map((job) => ({ job_id: job.id, ...(job.output as object) }));
    const complete = reports.find((report) => (report as { status?: string }).status === 'complete') ?? null;
    res.json({
      last_run: reports[0] ?? null,
      last_complete_run: complete,
      running: runs.filter((job) => job.state === 'active').map((job) => job.id),
      failed: runs.filter((job) => job.state === 'failed').map((job) => ({ job_id: job.id, error: job.output })),
    });
  });

  return router;
}
