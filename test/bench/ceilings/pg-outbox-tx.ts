import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { closedLoop, type LoadResult } from '../http-load.js';

/**
 * Ceiling (c): Postgres transactions shaped like the outbox write (BEGIN; INSERT order row;
 * INSERT outbox row with a JSON envelope; COMMIT), from `concurrency` clients, in a schema of its
 * own that is dropped afterwards.
 */
export async function pgOutboxTx(databaseUrl: string, durationMs: number, concurrency = 16): Promise<LoadResult> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
  pool.on('error', () => undefined);
  try {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.orders (id uuid PRIMARY KEY, customer_id text NOT NULL, status text NOT NULL, total numeric(20,4) NOT NULL,
      shipping_address jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await pool.query(`CREATE TABLE ${schema}.outbox (id uuid PRIMARY KEY, routing_key text NOT NULL, envelope jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(), published_at timestamptz)`);
    await pool.query(`CREATE INDEX ON ${schema}.outbox (created_at) WHERE published_at IS NULL`);
    const address = JSON.stringify({ name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postal_code: '127', country: 'US' });
    return await closedLoop(concurrency, durationMs, async () => {
      const client = await pool.connect();
      try {
        const id = randomUUID();
        await client.query('BEGIN');
        await client.query(`INSERT INTO ${schema}.orders (id, customer_id, status, total, shipping_address) VALUES ($1, 'bench', 'pending', '4.25', $2)`, [id, address]);
        await client.query(`INSERT INTO ${schema}.outbox (id, routing_key, envelope) VALUES ($1, 'order.created', $2)`, [
          randomUUID(),
          JSON.stringify({ id, type: 'order.created', version: 1, occurred_at: new Date().toISOString(), correlation_id: id, data: { items: [{ sku: 'STICKER-PACK', quantity: 1 }] } }),
        ]);
        await client.query('COMMIT');
        return true;
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
