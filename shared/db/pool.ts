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

/** Statement names by SQL text, shared by every connection of the process (bounded: see below). */
const statementNames = new Map<string, string>();
const MAX_PREPARED = 500;

/**
 * A client that prepares every statement with parameters once per connection (named after its
 * text) and then only binds and executes it: Postgres parses and plans it once, not on every call.
 * The SQL texts are the code's own (values always travel as parameters), so the set is small; past
 * MAX_PREPARED distinct texts, statements simply run unprepared. Measured with the bench: Postgres
 * CPU per saga fell by about a third with this and the pipelining below.
 */
class PreparingClient extends pg.Client {
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    let prepared = config;
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      let name = statementNames.get(config);
      if (!name && statementNames.size < MAX_PREPARED) {
        name = `s${statementNames.size + 1}`;
        statementNames.set(config, name);
      }
      if (name) prepared = { name, text: config };
    }
    return (super.query as (...args: unknown[]) => never)(prepared, values, callback);
  }
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
    // Statements are written without waiting for the previous answer (see withTransaction).
    pipeline: true,
    Client: PreparingClient,
  } as pg.PoolConfig);
  pool.on('error', (error) => {
    options.logger.warn('postgres idle client error', { error });
  });
  return pool;
}

export interface TransactionOptions {
  /**
   * The transaction's last statement, sent together with COMMIT (one round trip, not two): the
   * transaction commits only if it succeeds (after a failed statement the server answers COMMIT
   * with a rollback), and its error is what `withTransaction` then throws.
   */
  beforeCommit?: (client: PoolClient) => Promise<unknown> | undefined;
}

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
 * The client is released, and destroyed if the connection itself failed.
 *
 * The pool runs in pg's pipeline mode, so BEGIN is not waited for: it goes out with the first
 * statement of `work`, and the `beforeCommit` statement with COMMIT. A statement never waits for
 * the previous one's answer unless the code awaits it; with the server's own order of execution
 * nothing changes but the round trips saved.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // pg-pool listens for errors only on idle clients: a checked-out client whose connection dies
  // between two queries (a terminated backend, a server restart) emits 'error' with no listener,
  // which kills the process. Recorded here instead; the next query fails and the client is destroyed.
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    const begun = settledLater(client.query('BEGIN'));
    const result = await work(client);
    await begun;
    const last = settledLater(options.beforeCommit?.(client));
    const committed = settledLater(client.query('COMMIT'));
    await last;
    // After a failed statement the work caught, the server answers COMMIT with a rollback.
    if ((await committed)?.command === 'ROLLBACK') throw new Error('transaction rolled back: a statement in it failed');
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

/** A promise awaited later: marked handled now, so its rejection is not reported before that. */
function settledLater<T>(promise: Promise<T> | undefined): Promise<T | undefined> {
  if (!promise) return Promise.resolve(undefined);
  promise.catch(() => undefined);
  return promise;
}
