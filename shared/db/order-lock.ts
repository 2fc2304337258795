import type { PoolClient } from './pool.js';

/**
 * Serialises, until the end of the transaction, every handler of this service that touches one
 * order. A row lock cannot do it while the order's row does not exist yet (a cancellation that
 * arrives before the step it undoes), an advisory lock on the order id can.
 */
export async function lockOrder(client: PoolClient, orderId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
}
