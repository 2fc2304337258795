import express from 'express';
import type { DeadLetter, DeadLetterStore } from '../../../../shared/dead-letters/dead-letter-store.js';
import { replayDeadLetter } from '../../../../shared/dead-letters/replay-dead-letter.js';
import type { EventPublisher } from '../../../../shared/messaging/event-publisher.js';
import type { TopologyNames } from '../../../../shared/messaging/topology-names.js';
import { redact, redactText } from '../../../../shared/logging/redact.js';
import { principalOf } from './auth.js';
import type { IdempotencyStore } from './idempotency.js';
import { ProblemError } from './problem.js';
import { DeadLetterSelectionRequest, DeadLettersQuery, MAX_LETTERS_PER_CALL } from './schemas.js';
import { validatorFor } from './validate.js';

export interface DeadLettersRouterDeps {
  store: DeadLetterStore;
  publisher: EventPublisher;
  names: TopologyNames;
  idempotency: IdempotencyStore;
}

const checkQuery = validatorFor(DeadLettersQuery, 'query');
const checkSelection = validatorFor(DeadLetterSelectionRequest, 'body');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What an operator sees of a body: secrets masked ({@link redact}: payment sources, tokens, keys),
 * JSON field by field, other text by pattern. A replay still sends the stored bytes.
 */
function redactedBody(text: string): string {
  try {
    return JSON.stringify(redact(JSON.parse(text)));
  } catch {
    return redactText(text);
  }
}

/** The JSON view of a dead letter: the body as redacted text when it is text, else base64. */
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
    error: letter.error === null ? null : redactText(letter.error),
    dead_lettered_at: letter.dead_lettered_at.toISOString(),
    replay_count: letter.replay_count,
    last_replayed_at: letter.last_replayed_at?.toISOString() ?? null,
    body: isText ? redactedBody(text) : null,
    body_base64: isText ? null : letter.body.toString('base64'),
  };
}

/**
 * Operations endpoints for dead letters: list (filters), show, replay, purge, one at a time or by
 * the group (service, event type, reason) or ids an operator picked, at most
 * {@link MAX_LETTERS_PER_CALL} per call. Each replay and purge records the admin's subject.
 * Mounted under `/admin`, behind the admin role (create-app.ts).
 */
export function deadLettersRouter(deps: DeadLettersRouterDeps): express.Router {
  const router = express.Router();

  router.get('/dead-letters', async (req, res) => {
    const query = checkQuery(req.query);
    const letters = await deps.store.list({
      ...(query.service ? { service: query.service } : {}),
      ...(query.event_type !== undefined ? { eventType: query.event_type === '' ? null : query.event_type } : {}),
      ...(query.reason ? { reason: query.reason } : {}),
      ...(query.waiting ? { waiting: true } : {}),
      ...(query.older_than_seconds ? { olderThanMs: Number(query.older_than_seconds) * 1000 } : {}),
      limit: Math.min(Math.max(Number(query.limit ?? 100), 1), 1000),
    });
    res.json({ data: letters.map(deadLetterView) });
  });

  router.get('/dead-letters/groups', async (_req, res) => {
    const groups = await deps.store.groups();
    res.json({
      data: groups.map((group) => ({ ...group, first_seen: group.first_seen.toISOString(), last_seen: group.last_seen.toISOString() })),
    });
  });

  /** The letters a batch acts on: the ids given (each once), or the group's, oldest first. */
  const selected = (body: unknown) => {
    const selection = checkSelection(body ?? {});
    return deps.store.select('ids' in selection ? { ids: [...new Set(selection.ids.map((id) => id.toLowerCase()))] } : selection, MAX_LETTERS_PER_CALL);
  };

  // One at a time, each confirmed then recorded, as the single replay does: a failure part way
  // leaves the letters replayed so far recorded, and the rest of the group waiting.
  router.post('/dead-letters/replay', async (req, res) => {
    const admin = principalOf(res).subject;
    const { letters, more } = await selected(req.body);
    for (const letter of letters) await replayDeadLetter(deps, letter, admin);
    res.status(202).json({ replayed: letters.length, ids: letters.map((letter) => letter.id), more });
  });

  router.post('/dead-letters/purge', async (req, res) => {
    const { letters, more } = await selected(req.body);
    const purged = await deps.store.purge(letters.map((letter) => letter.id), principalOf(res).subject);
    res.json({ purged: purged.length, ids: purged, more });
  });

  const load = async (id: string) => {
    const letter = UUID.test(id) ? await deps.store.get(id) : null;
    if (!letter) throw new ProblemError('not_found', `dead letter ${id} not found`);
    return letter;
  };

  router.get('/dead-letters/:id', async (req, res) => {
    res.json(deadLetterView(await load(req.params.id)));
  });

  // An operator's retry with the same Idempotency-Key gets the first answer instead of a second replay.
  router.post('/dead-letters/:id/replay', async (req, res) => {
    const admin = principalOf(res).subject;
    await deps.idempotency.runIfKeyed(req, res, `admin:${admin}`, async () => {
      const letter = await load(req.params.id);
      await replayDeadLetter(deps, letter, admin);
      const view = deadLetterView((await deps.store.get(letter.id)) ?? letter);
      return { status: 202, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(view) };
    });
  });

  router.delete('/dead-letters/:id', async (req, res) => {
    await deps.store.purge([(await load(req.params.id)).id], principalOf(res).subject);
    res.status(204).end();
  });
  return router;
}
