import type pg from 'pg';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import type { ProcessStack } from '../support/process-stack.js';

/**
 * Retention for the bench's stack when it soaks: every prune each minute, rows kept minutes, so
 * that within a soak the pruned tables grow for a few minutes and then stay flat. Longer than the
 * retries of one message (~100 s at MESSAGE_RETRY_BASE_MS 200) and than the wait of the
 * compensation-lag measurement, which reads the inbox and the order history.
 */
export const SOAK_RETENTION_ENV = {
  RETENTION_INTERVAL: '1m',
  OUTBOX_RETENTION: '2m',
  INBOX_RETENTION: '5m',
  ORDER_HISTORY_RETENTION: '5m',
  DEAD_LETTER_RETENTION: '5m',
  // The order API's keys (orders keep their hash twice as long) and the provider's.
  IDEMPOTENCY_TTL_S: '180',
};

/** Reads the row counts of every table a prune keeps from growing (the provider's in its own database). */
export function prunedTableRows(stack: ProcessStack, providerDb: Pick<pg.Client, 'query'>): () => Promise<Record<string, number>> {
  const count = async (db: Pick<pg.Client, 'query'>, sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
  const sum = (table: string) => SAGA_SERVICES.map((service) => `(SELECT count(*) FROM ${stack.table(service, table)})`).join(' + ');
  return async () => ({
    outbox: await count(stack.db, `SELECT ${sum('outbox')} AS n`),
    inbox: await count(stack.db, `SELECT ${sum('inbox')} AS n`),
    order_history: await count(stack.db, `SELECT count(*) AS n FROM ${stack.table('order-service', 'order_history')}`),
    'orders with a key': await count(stack.db, `SELECT count(*) AS n FROM ${stack.table('order-service', 'orders')} WHERE idempotency_key_hash IS NOT NULL`),
    dead_letters: await count(stack.db, `SELECT count(*) AS n FROM ${stack.table('dead-letters', 'dead_letters')}`),
    'provider idempotency_keys': await count(providerDb, `SELECT count(*) AS n FROM ${stack.table('payment-provider', 'idempotency_keys')}`),
  });
}
