import express from 'express';
import type { DeadLetterStore } from '../../../../shared/dead-letters/dead-letter-store.js';
import type { ServiceBoard } from '../../domain/service-board.js';

/**
 * `GET /admin/services`: every saga service's instances, queues, lanes, outbox, circuit breakers
 * and the last 15 minutes of message handling, from the status reports the instances publish
 * (see ServiceBoard), with the dead letters waiting in the archive. Mounted under `/admin`, behind
 * the admin role (create-app.ts).
 */
export function servicesRouter(deps: { board: ServiceBoard; deadLetters: DeadLetterStore }): express.Router {
  const router = express.Router();
  router.get('/services', async (_req, res) => {
    const waiting = await deps.deadLetters.waitingByService();
    res.json({ data: deps.board.view(waiting) });
  });
  return router;
}
