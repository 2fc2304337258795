import express from 'express';
import { JobStore, UnknownJobError, type JobState } from '../../../../shared/jobs/job-store.js';
import { ProblemError } from './problem.js';
import { JobsQuery, RunJobRequest } from './schemas.js';
import { validatorFor } from './validate.js';

const checkQuery = validatorFor(JobsQuery, 'query');
const checkRun = validatorFor(RunJobRequest, 'body');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Operations endpoints for every service's background jobs (the same as `npm run jobs`): figures
 * per queue, jobs by state with their output or error, retry a failed one, run one now. Mounted
 * under `/admin`, behind the admin role (create-app.ts).
 */
export function jobsRouter(store: JobStore): express.Router {
  const router = express.Router();

  router.get('/jobs/queues', async (_req, res) => {
    res.json({ data: await store.stats() });
  });

  router.post('/jobs/queues/:name/runs', async (req, res) => {
    const body = checkRun(req.body ?? {});
    try {
      const run = await store.run(req.params.name, body.data ?? {}, { priority: body.priority ?? 0 });
      res.status(202).json(run);
    } catch (error) {
      if (error instanceof UnknownJobError) throw new ProblemError('not_found', error.message);
      throw error;
    }
  });

  router.get('/jobs', async (req, res) => {
    const query = checkQuery(req.query);
    try {
      const jobs = await store.list({
        ...(query.state ? { state: query.state as JobState } : {}),
        ...(query.name ? { name: query.name } : {}),
        limit: Math.min(Math.max(Number(query.limit ?? 20), 1), 1000),
      });
      res.json({ data: jobs });
    } catch (error) {
      if (error instanceof UnknownJobError) throw new ProblemError('not_found', error.message);
      throw error;
    }
  });

  const load = async (id: string) => {
    const job = UUID.test(id) ? await store.get(id) : null;
    if (!job) throw new ProblemError('not_found', `job ${id} not found`);
    return job;
  };

  router.get('/jobs/:id', async (req, res) => {
    res.json(await load(req.params.id));
  });

  router.post('/jobs/:id/retry', async (req, res) => {
    const job = await load(req.params.id);
    if (!(await store.retry(job.id))) throw new ProblemError('job_not_failed', `job ${job.id} is ${job.state}, not failed`);
    res.status(202).json(await load(job.id));
  });

  return router;
}
