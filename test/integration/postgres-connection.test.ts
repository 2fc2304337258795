import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type PoolClient } from '../../shared/db/pool.js';
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

describe('prepared statements on a pooled connection', () => {
  const countPrepared = 'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1';

  it('when the same parameterised statement runs many times on one connection, then it is prepared once', async () => {
    const text = 'SELECT $1::int * 2 AS doubled';
    const { doubled, prepared } = await withTransaction(pool, async (client) => {
      const sequential = [];
      for (let i = 0; i < 3; i += 1) sequential.push((await client.query<{ doubled: number }>(text, [i])).rows[0]!.doubled);
      // Pipelined: sent before the first of them is answered.
      const pipelined = await Promise.all([3, 4, 5].map((i) => client.query<{ doubled: number }>(text, [i])));
      const { rows } = await client.query<{ n: number }>(countPrepared, [text]);
      return { doubled: [...sequential, ...pipelined.map((r) => r.rows[0]!.doubled)], prepared: rows[0]!.n };
    });

    expect(doubled).toEqual([0, 2, 4, 6, 8, 10]);
    expect(prepared).toBe(1);
  });

  it('when a prepared statement fails, then the same connection keeps serving statements, prepared ones included', async () => {
    // One connection, so every transaction below runs on it. (pool.query is not used for the failing
    // statement: pg-pool discards a connection after any error there, which would hide a broken one.)
    const single = createPool({ connectionString: DATABASE_URL, schema, max: 1, logger: new LogCapture().loggerFor('order-service') });
    try {
      const backend = async (client: PoolClient) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const divide = 'SELECT 10 / $1::int AS quotient';

      const client = await single.connect();
      const first = await backend(client);
      try {
        await expect(client.query(divide, [0])).rejects.toMatchObject({ code: '22012' });
        expect((await client.query(divide, [5])).rows).toEqual([{ quotient: 2 }]);
      } finally {
        client.release();
      }

      // In a transaction, with a statement never prepared before pipelined behind the failing one:
      // the server refuses to prepare it in the aborted transaction, and its next use prepares it.
      const fresh = 'SELECT $1::text AS echoed';
      const attempt = withTransaction(single, async (tx) => {
        const failing = tx.query(divide, [0]);
        const behind = tx.query(fresh, ['lost']);
        await Promise.allSettled([failing, behind]);
        await behind;
      });
      await expect(attempt).rejects.toMatchObject({ code: '25P02' });

      const after = await withTransaction(single, async (tx) => {
        const echoed = (await tx.query<{ echoed: string }>(fresh, ['kept'])).rows[0]!.echoed;
        const quotient = (await tx.query<{ quotient: number }>(divide, [2])).rows[0]!.quotient;
        const prepared = (await tx.query<{ n: number }>(countPrepared, [divide])).rows[0]!.n;
        return { echoed, quotient, prepared, pid: await backend(tx) };
      });
      expect(after).toEqual({ echoed: 'kept', quotient: 5, prepared: 1, pid: first });
    } finally {
      await single.end();
    }
  });
});
