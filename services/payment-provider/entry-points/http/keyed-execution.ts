import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { withTransaction, type Pool, type PoolClient } from '../../../../shared/db/pool.js';
import { claimKey, storeResponse } from '../../data-access/idempotency-repository.js';
import type { Faults } from '../../domain/faults.js';
import { providerError, type ProviderResponse } from '../../domain/provider-response.js';

export interface KeyedExecutionDeps {
  pool: Pool;
  fingerprint: string;
  faults: Faults | undefined;
}

/** Canonical JSON (sorted keys), so that key order does not make two equal bodies differ. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a ledger write with Stripe's Idempotency-Key semantics and the configured faults:
 * same key and body → the first response replayed (`Idempotent-Replayed: true`); same key, other
 * body → 422. Faults: latency first; a share of requests fail with 500 before anything is
 * written; `hang` never answers; `commit_then_fail` commits and then answers 500 or nothing.
 */
export async function executeKeyed(
  deps: KeyedExecutionDeps,
  route: 'payments' | 'refunds',
  req: Request,
  res: Response,
  work: (client: PoolClient) => Promise<ProviderResponse>,
): Promise<void> {
  const faults = deps.faults?.for(route) ?? {};
  if (faults.latency_ms) await sleep(faults.latency_ms);
  if (faults.hang) return; // the client's timeout has to end it
  if (faults.error_rate && Math.random() < faults.error_rate) {
    const failure = providerError(500, 'api_error', 'injected_fault', 'Injected failure; nothing was done.');
    res.status(failure.status).json(failure.body);
    return;
  }
  const key = req.get('idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    const invalid = providerError(400, 'invalid_request_error', 'idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 characters.');
    res.status(invalid.status).json(invalid.body);
    return;
  }
  const requestHash = createHash('sha256').update(`${req.method} ${req.path} ${canonical(req.body)}`).digest('hex');
  const outcome = await withTransaction(deps.pool, async (client) => {
    if (key !== undefined) {
      const earlier = await claimKey(client, deps.fingerprint, key, requestHash);
      if (earlier && earlier.request_hash !== requestHash) {
        return {
          replayed: false,
          response: providerError(422, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was used with another request.'),
        };
      }
      if (earlier) return { replayed: true, response: { status: earlier.response_status, body: earlier.response_body } };
    }
    const response = await work(client);
    if (key !== undefined) await storeResponse(client, deps.fingerprint, key, response.status, response.body);
    return { replayed: false, response };
  });
  if (!outcome.replayed && faults.commit_then_fail === 'timeout') return;
  if (!outcome.replayed && faults.commit_then_fail === '500') {
    const failure = providerError(500, 'api_error', 'injected_fault', 'Injected failure after commit.');
    res.status(failure.status).json(failure.body);
    return;
  }
  if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(outcome.response.status).json(outcome.response.body);
}
