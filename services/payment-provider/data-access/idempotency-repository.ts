import type { PoolClient } from '../../../shared/db/pool.js';

type Queryable = Pick<PoolClient, 'query'>;

export interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

/** How long a key is remembered (Stripe keeps them 24 hours); after that it may be used afresh. */
const KEY_LIFETIME = "interval '24 hours'";

/**
 * Claims an Idempotency-Key in the caller's transaction. The row is written with the request's hash
 * and becomes visible only when that transaction commits, together with the payment and the stored
 * response; a concurrent request with the same key blocks on the primary key until then, and then
 * finds the stored response (or, if the first rolled back, claims the key itself). So there is no
 * "in progress" window to answer 409 for: the second request simply waits and replays.
 *
 * A record past its lifetime is deleted first, so an expired key is claimed afresh even if the
 * periodic sweep ({@link expireKeys}) has not run yet.
 * Returns null when claimed, or the earlier request's record.
 */
export async function claimKey(client: PoolClient, fingerprint: string, key: string, requestHash: string): Promise<StoredResponse | null> {
  await client.query(
    `DELETE FROM idempotency_keys WHERE api_key_fingerprint = $1 AND key = $2 AND created_at < clock_timestamp() - ${KEY_LIFETIME}`,
    [fingerprint, key],
  );
  const inserted = await client.query(
    `INSERT INTO idempotency_keys (api_key_fingerprint, key, request_hash, response_status, response_body)
     VALUES ($1, $2, $3, 0, 'null') ON CONFLICT DO NOTHING`,
    [fingerprint, key, requestHash],
  );
  if (inserted.rowCount === 1) return null;
  // Read committed: this statement sees the row the conflicting transaction committed.
  const { rows } = await client.query<StoredResponse>(
    'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE api_key_fingerprint = $1 AND key = $2',
    [fingerprint, key],
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

/** Deletes the records of keys past their 24 hours; returns how many. */
export async function expireKeys(client: Queryable): Promise<number> {
  const result = await client.query(`DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - ${KEY_LIFETIME}`);
  return result.rowCount ?? 0;
}
