import { timingSafeEqual, createHash } from 'node:crypto';
import express from 'express';
import type { DeadLetter, DeadLetterStore } from '../../../../shared/dead-letters/dead-letter-store.js';
import { replayDeadLetter } from '../../../../shared/dead-letters/replay-dead-letter.js';
import type { EventPublisher } from '../../../../shared/messaging/event-publisher.js';
import type { TopologyNames } from '../../../../shared/messaging/topology-names.js';
import { ProblemError } from './problem.js';

export interface DeadLettersRouterDeps {
  store: DeadLetterStore;
  publisher: EventPublisher;
  names: TopologyNames;
  /** Operators send it as `X-Admin-Token`. */
  adminToken: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const digest = (value: string) => createHash('sha256').update(value).digest();

/** The JSON view of a dead letter: the body as text when it is text, else base64. */
export function deadLetterView(letter: DeadLetter) {
  const text = letter.body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(letter.body);
  return {
    id: letter.id,
    service: letter.service,
    queue: letter.queue,
    routing_key: letter.routing_key,
    event_type: letter.event_type,
    message_id: letter.message_id,
    reason: letter.reason,
    error: letter.error,
    dead_lettered_at: letter.dead_lettered_at.toISOString(),
    replay_count: letter.replay_count,
    last_replayed_at: letter.last_replayed_at?.toISOString() ?? null,
    body: isText ? text : null,
    body_base64: isText ? null : letter.body.toString('base64'),
  };
}

/** Operations endpoints for dead letters: list (filters), show, replay, purge. */
export function deadLettersRouter(deps: DeadLettersRouterDeps): express.Router {
  const router = express.Router();
  const expected = digest(deps.adminToken);
  router.use('/admin', (req, _res, next) => {
    const given = req.get('x-admin-token');
    if (given && timingSafeEqual(digest(given), expected)) return next();
    next(new ProblemError('forbidden', 'operations endpoints need a valid X-Admin-Token'));
  });

  router.get('/admin/dead-letters', async (req, res) => {
    const text = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
    const olderThan = text('older_than_seconds');
    const letters = await deps.store.list({
      ...(text('service') ? { service: text('service') } : {}),
      ...(text('event_type') ? { eventType: text('event_type') } : {}),
      ...(text('reason') ? { reason: text('reason') } : {}),
      ...(olderThan && /^\d+$/.test(olderThan) ? { olderThanMs: Number(olderThan) * 1000 } : {}),
      limit: Number(text('limit') ?? 100) || 100,
    });
    res.json({ data: letters.map(deadLetterView) });
  });

  const load = async (id: string) => {
    const letter = UUID.test(id) ? await deps.store.get(id) : null;
    if (!letter) throw new ProblemError('not_found', `dead letter ${id} not found`);
    return letter;
  };

  router.get('/admin/dead-letters/:id', async (req, res) => {
    res.json(deadLetterView(await load(req.params.id)));
  });

  router.post('/admin/dead-letters/:id/replay', async (req, res) => {
    const letter = await load(req.params.id);
    await replayDeadLetter(deps, letter, 'admin-api');
    res.status(202).json(deadLetterView((await deps.store.get(letter.id)) ?? letter));
  });

  router.delete('/admin/dead-letters/:id', async (req, res) => {
    await deps.store.purge([(await load(req.params.id)).id]);
    res.status(204).end();
  });
  return router;
}
