import pg from 'pg';
import type { Logger } from '../logging/logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  connectionString: string;
  /** The service's own schema; every connection's search_path is set to it. */
  schema: string;
  /** @defaultValue 10 */
  max?: number;
  logger: Logger;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name before it is put into SQL text (identifiers cannot be bound parameters). */
export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return schema;
}

/**
 * A pg pool whose connections work in the service's schema. The `error` listener keeps an idle
 * client's failure (a restarted server, a terminated backend) from killing the process: the
 * pool drops that client and opens a new one on the next query.
 */
export function createPool(options: PoolOptions): Pool {
  const schema = assertSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: schema,
  });
  pool.on('error', (error) => {
    options.logger.warn('postgres idle client error', { error });
  });
  return pool;
}

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
 * The client is released, and destroyed if the connection itself failed.
 */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // pg-pool listens for errors only on idle clients: a checked-out client whose connection dies
  // between two queries (a terminated backend, a server restart) emits 'error' with no listener,
  // which kills the process. Recorded here instead; the next query fails and the client is destroyed.
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
