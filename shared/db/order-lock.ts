import type { PoolClient } from './pool.js';

/**
 * Serialises, until the end of the transaction, every handler of this service that touches one
 * order. A row lock cannot do it while the order's row does not exist yet (a cancellation that
 * arrives before the step it undoes), an advisory lock on the order id can.
 */
async function lockOrder(client: PoolClient, orderId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
}

/**
 * Takes the order's lock, then reads the order's row with `find`: both statements leave at once
 * (the pool pipelines them, one round trip), and Postgres runs the read only once the lock is
 * granted, with a snapshot taken then, so it sees whatever the previous holder committed.
 */
export async function findLocked<T>(
  client: PoolClient,
  orderId: string,
  find: (client: PoolClient, orderId: string) => Promise<T>,
): Promise<T> {
  const [, found] = await Promise.all([lockOrder(client, orderId), find(client, orderId)]);
  return found;
}
