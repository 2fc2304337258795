import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction } from '../../shared/db/pool.js';
import { LogCapture } from '../support/log-capture.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `h${randomBytes(4).toString('hex')}_pool`;
const pool = createPool({ connectionString: DATABASE_URL, schema, max: 2, logger: new LogCapture().loggerFor('order-service') });
const admin = new pg.Client({ connectionString: DATABASE_URL });

afterAll(async () => {
  await pool.end();
  await admin.end().catch(() => undefined);
});

describe('a pooled connection lost mid-transaction', () => {
  it('when the backend is terminated between two queries of a transaction, then the transaction fails, the process lives and the pool recovers', async () => {
    await admin.connect();
    const uncaught: unknown[] = [];
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    const onUncaught = (error: unknown) => {
      uncaught.push(error);
      crashed();
    };
    process.on('uncaughtException', onUncaught);
    try {
      const attempt = withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // No query is running on the client while its backend is terminated: pg emits 'error' (the
        // event that used to kill the process), then 'end' — or, with no error listener, throws
        // instead. Waiting on either adds no error listener of the test's own.
        const lost = new Promise<void>((resolve) => client.once('end', () => resolve()));
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await Promise.race([lost, crash]);
        await client.query('SELECT 1');
      });
      await expect(attempt).rejects.toThrow();
      expect(uncaught).toEqual([]);
      // The broken client was destroyed, not put back: the next transactions work.
      for (let i = 0; i < 3; i += 1) {
        expect(await withTransaction(pool, async (client) => (await client.query('SELECT 1 AS one')).rows[0])).toEqual({ one: 1 });
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
