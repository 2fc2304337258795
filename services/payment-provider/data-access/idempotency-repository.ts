import type { PruneStatement } from '../../../shared/db/prune-job.js';
import type { PoolClient } from '../../../shared/db/pool.js';

export interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

/**
 * Claims an Idempotency-Key in the caller's transaction. The row is written with the request's hash
 * and becomes visible only when that transaction commits, together with the payment and the stored
 * response; a concurrent request with the same key blocks on the primary key until then, and then
 * finds the stored response (or, if the first rolled back, claims the key itself). So there is no
 * "in progress" window to answer 409 for: the second request simply waits and replays.
 *
 * A record older than `ttlSeconds` (IDEMPOTENCY_TTL_S; Stripe keeps keys 24 hours) is deleted
 * first, so an expired key is claimed afresh even if the recurring prune
 * ({@link expiredKeysPrune}) has not reached it yet.
 * Returns null when claimed, or the earlier request's record.
 */
export async function claimKey(
  client: PoolClient,
  key: { fingerprint: string; key: string; requestHash: string; ttlSeconds: number },
): Promise<StoredResponse | null> {
  const { fingerprint, requestHash } = key;
  await client.query(
    `DELETE FROM idempotency_keys WHERE api_key_fingerprint = $1 AND key = $2 AND created_at < clock_timestamp() - make_interval(secs => $3)`,
    [fingerprint, key.key, key.ttlSeconds],
  );
  const inserted = await client.query(
    `INSERT INTO idempotency_keys (api_key_fingerprint, key, request_hash, response_status, response_body)
     VALUES ($1, $2, $3, 0, 'null') ON CONFLICT DO NOTHING`,
    [fingerprint, key.key, requestHash],
  );
  if (inserted.rowCount === 1) return null;
  // Read committed: this statement sees the row the conflicting transaction committed.
  const { rows } = await client.query<StoredResponse>(
    'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE api_key_fingerprint = $1 AND key = $2',
    [fingerprint, key.key],
  );
  if (!rows[0]) throw new Error('idempotency key record vanished between conflict and read');
  return rows[0];
}

export async function storeResponse(client: PoolClient, fingerprint: string, key: string, status: number, body: unknown): Promise<void> {
  await client.query(
    'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE api_key_fingerprint = $1 AND key = $2',
    [fingerprint, key, status, JSON.stringify(body)],
  );
}

/**
 * Deletes, a batch at a time, the records of keys older than `ttlSeconds`, oldest first
 * (idempotency_keys_created_idx). Nothing depends on when it runs, since an expired key is claimed
 * afresh on use ({@link claimKey}): it only keeps the table from growing. Keys being claimed at that
 * moment are skipped (SKIP LOCKED), never waited for.
 */
export function expiredKeysPrune(ttlSeconds: number): PruneStatement {
  return {
    sql: `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    params: [ttlSeconds],
  };
}
