import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { withTransaction, type Pool, type PoolClient } from '../../../../shared/db/pool.js';
import { claimKey, storeResponse } from '../../data-access/idempotency-repository.js';
import type { FaultRoute, Faults } from '../../domain/faults.js';
import { providerError, type ProviderResponse } from '../../domain/provider-response.js';
import { send } from './error-handler.js';
import type { HeldResponses } from './held-responses.js';
import { requestLogger } from './request-log.js';
import { canonicalJson } from '../../../../shared/idempotency/canonical-json.js';

export interface KeyedExecutionDeps {
  pool: Pool;
  /** Scopes keys per API key (see auth.ts). */
  fingerprint: string;
  faults: Faults | undefined;
  held: HeldResponses;
  /** How long a key's record is kept (IDEMPOTENCY_TTL_S). */
  keyTtlSeconds: number;
}

const MAX_KEY_LENGTH = 255;

/**
 * Runs a ledger write with Stripe's Idempotency-Key semantics and the configured faults.
 *
 * Idempotency: same key and same request (hash of method, path and canonical body) → the first
 * response replayed, status and body, with `Idempotent-Replayed: true`; same key, other request →
 * 422 idempotency_key_reused. Declines (402) and token errors are stored and replayed too; a body
 * that fails validation never gets here, so it stores nothing (as with Stripe).
 *
 * Race design (chosen over a started/completed state machine answering 409 request_in_progress):
 * the key row, the payment or refund and the stored response are written in ONE transaction. A
 * concurrent request with the same key blocks on the key's primary key until the first commits,
 * then reads and replays its response; if the first rolled back, the second claims the key and
 * does the work. So there is never a half-done key to see, a crash leaves no key stuck
 * "in progress", and a client never has to retry a 409. The cost: a waiting duplicate holds a
 * pooled connection while it waits, which is fine for duplicates of one short transaction.
 *
 * Faults (test control, see domain/faults.ts; latency is added before, in create-app.ts): `hang` never answers; a share of
 * requests answer 500 before anything is written; `commit_then_fail` commits, then answers 500
 * or nothing at all. A replay is answered normally even under `commit_then_fail`, which is what
 * lets a client recover the committed outcome by retrying with the same key.
 */
export async function executeKeyed(
  deps: KeyedExecutionDeps,
  route: FaultRoute,
  req: Request,
  res: Response,
  work: (client: PoolClient) => Promise<ProviderResponse>,
): Promise<void> {
  const faults = deps.faults?.for(route) ?? {};
  const log = requestLogger(res);
  if (faults.hang) {
    log.debug('fault injection: holding the request unanswered', { fault: 'hang' });
    return deps.held.hold(res);
  }
  if (faults.error_rate && Math.random() < faults.error_rate) {
    return send(res, providerError(500, 'api_error', 'injected_fault', 'Injected failure; nothing was done.'));
  }
  const key = req.get('idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > MAX_KEY_LENGTH)) {
    return send(res, providerError(400, 'invalid_request_error', 'idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 characters.'));
  }
  const requestHash = createHash('sha256').update(`${req.method} ${req.path} ${canonicalJson(req.body)}`).digest('hex');
  const outcome = await withTransaction(deps.pool, async (client) => {
    if (key !== undefined) {
      const earlier = await claimKey(client, { fingerprint: deps.fingerprint, key, requestHash, ttlSeconds: deps.keyTtlSeconds });
      if (earlier && earlier.request_hash !== requestHash) {
        const reused = providerError(422, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was used with another request.');
        return { replayed: false, response: reused };
      }
      if (earlier) return { replayed: true, response: { status: earlier.response_status, body: earlier.response_body } };
    }
    const response = await work(client);
    if (key !== undefined) await storeResponse(client, deps.fingerprint, key, response.status, response.body);
    return { replayed: false, response };
  });
  if (!outcome.replayed && faults.commit_then_fail === 'timeout') {
    log.debug('fault injection: committed, holding the answer', { fault: 'commit_then_fail' });
    return deps.held.hold(res);
  }
  if (!outcome.replayed && faults.commit_then_fail === '500') {
    return send(res, providerError(500, 'api_error', 'injected_fault', 'Injected failure after commit.'));
  }
  if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  send(res, outcome.response);
}
