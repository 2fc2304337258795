import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { HttpClient } from './http-client.js';
import type { Send } from './http-load.js';
import { summarize, type LatencySummary } from './stats.js';

/** Spread over the SKUs with the most stock; the bench also tops stock up before it starts. */
const SKUS = ['STICKER-PACK', 'TSHIRT-BLUE-M', 'MUG-LOGO'];
const address = { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postal_code: '127', country: 'US' };

const OVERLOADED = 'urn:order-platform:problem:overloaded';

/** Whether an answer is admission control's refusal: 503 with the `overloaded` problem type. */
export function isOverloaded(reply: { status: number | string; body: string }): boolean {
  if (reply.status !== 503) return false;
  try {
    return (JSON.parse(reply.body) as { type?: unknown }).type === OVERLOADED;
  } catch {
    return false;
  }
}

/**
 * A `POST /orders` sender that remembers the id of every accepted order. One request per order,
 * never retried: a 503 overloaded is a rejection (the order was not taken, and nothing of it was
 * written), any other non-202 a failure.
 */
export function orderSender(
  client: HttpClient,
  api: string,
  auth: { authorization: string },
  accepted: string[],
  /** Non-202 answers other than rejections, by status ('error' for a failed connection). */
  failures: Record<string, number> = {},
): Send {
  let n = 0;
  return async () => {
    n += 1;
    const body = JSON.stringify({ items: [{ sku: SKUS[n % SKUS.length], quantity: 1 }], currency: 'USD', payment_source: 'tok_visa', shipping_address: address });
    const reply = await client
      .send({
        url: `${api}/orders`,
        method: 'POST',
        headers: () => ({ 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...auth }),
        body,
      })
      .catch(() => ({ status: 'error', body: '' }) as const);
    if (isOverloaded(reply)) return 'rejected';
    if (reply.status !== 202) {
      failures[reply.status] = (failures[reply.status] ?? 0) + 1;
      return false;
    }
    accepted.push((JSON.parse(reply.body) as { id: string }).id);
    return true;
  };
}

export interface SagaOutcome {
  accepted: number;
  completed: number;
  cancelled: number;
  unfinished: number;
  /** Accepted (202) but not in the orders table: lost. */
  missing: number;
  /** Completed sagas over the span from the first order's creation to the last completion. */
  sagasPerSecond: number;
  orderToCompletedMs: LatencySummary;
  /** Order created → completed or cancelled, over every order that ended. */
  orderToTerminalMs: LatencySummary;
}

/** Waits (up to `timeoutMs`) for the given orders to end, then reads their outcome from the orders table. */
export async function sagaOutcome(db: pg.Pool, ordersTable: string, ids: string[], timeoutMs: number): Promise<SagaOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ open: string }>(`SELECT count(*) AS open FROM ${ordersTable} WHERE id = ANY($1) AND status NOT IN ('completed', 'cancelled')`, [ids]);
    if (Number(rows[0]?.open) === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const { rows } = await db.query<{ status: string; latency_ms: number; created: number; updated: number }>(
    `SELECT status,
            extract(epoch FROM updated_at - created_at) * 1000 AS latency_ms,
            extract(epoch FROM created_at) * 1000 AS created,
            extract(epoch FROM updated_at) * 1000 AS updated
       FROM ${ordersTable} WHERE id = ANY($1)`,
    [ids],
  );
  const completed = rows.filter((row) => row.status === 'completed');
  const firstCreated = Math.min(...rows.map((row) => Number(row.created)));
  const lastCompleted = Math.max(...completed.map((row) => Number(row.updated)));
  return {
    accepted: ids.length,
    completed: completed.length,
    cancelled: rows.filter((row) => row.status === 'cancelled').length,
    unfinished: rows.filter((row) => row.status !== 'completed' && row.status !== 'cancelled').length,
    missing: ids.length - rows.length,
    sagasPerSecond: completed.length ? Math.round((completed.length * 1000) / (lastCompleted - firstCreated)) : 0,
    orderToCompletedMs: summarize(completed.map((row) => Number(row.latency_ms))),
    orderToTerminalMs: summarize(rows.filter((row) => row.status === 'completed' || row.status === 'cancelled').map((row) => Number(row.latency_ms))),
  };
}
