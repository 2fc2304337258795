import type { PoolClient } from '../../../shared/db/pool.js';

export interface BacklogReading {
  /** Orders accepted and not yet completed or cancelled. */
  open: number;
  /** Orders that reached completed or cancelled in the last `windowSeconds`. */
  endedInWindow: number;
}

type Queryable = Pick<PoolClient, 'query'>;

/**
 * The saga backlog as every instance sees it, in one statement. Both counts walk a partial index
 * (orders_open_deadline_idx: the open orders, a few hundred at most while admission control
 * holds; orders_ended_at_idx: the orders ended in the window), never the whole table, so the
 * statement's cost follows the backlog and the recent rate, not the table's history. A terminal
 * order never changes again, so its updated_at is when it ended. The window is cut at `now()`
 * (the statement's start here), not `clock_timestamp()`: a volatile bound cannot be an index
 * condition, and the count would scan the table.
 */
export async function readBacklog(client: Queryable, windowSeconds: number): Promise<BacklogReading> {
  const { rows } = await client.query<BacklogReading>(
    `SELECT (SELECT count(*) FROM orders WHERE status NOT IN ('completed', 'cancelled'))::int AS open,
            (SELECT count(*) FROM orders WHERE status IN ('completed', 'cancelled')
               AND updated_at > now() - make_interval(secs => $1))::int AS "endedInWindow"`,
    [windowSeconds],
  );
  return rows[0]!;
}
