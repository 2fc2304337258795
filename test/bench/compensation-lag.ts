import type pg from 'pg';
import { subscribersOf } from '../../shared/contracts/events.js';
import type { ProcessStack } from '../support/process-stack.js';
import type { HttpClient } from './http-client.js';
import { summarize, type LatencySummary } from './stats.js';

/**
 * Cancels `count` of the orders the running load has accepted (one every `intervalMs`, each the
 * latest order accepted since the previous cancel, so it waits in the backlog; the cancels do not
 * wait for each other's answers) and returns the ids it cancelled. An order that ended meanwhile
 * (409) is skipped.
 */
export async function cancelWhileLoaded(options: {
  client: HttpClient;
  api: string;
  auth: { authorization: string };
  accepted: readonly string[];
  count: number;
  intervalMs: number;
}): Promise<string[]> {
  const cancels: Promise<string | undefined>[] = [];
  let seen = 0;
  for (let i = 0; i < options.count; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    const id = options.accepted.at(-1);
    if (!id || options.accepted.length === seen) continue;
    seen = options.accepted.length;
    cancels.push(
      options.client
        .send({ url: `${options.api}/orders/${id}/cancel`, method: 'POST', headers: () => ({ ...options.auth }), body: '' })
        .then((reply) => (reply.status === 202 ? id : undefined), () => undefined),
    );
  }
  return (await Promise.all(cancels)).filter((id): id is string => id !== undefined);
}

export interface CompensationLag {
  cancelled: number;
  /** Cancels whose compensations had not all been applied within the wait. */
  unfinished: number;
  /** From the cancel (order.cancel_requested written) to the last participant applying it. */
  ms: LatencySummary;
}

/**
 * How long each cancellation waited for its compensations: the time from its order.cancel_requested
 * to the moment the last participant recorded it in its inbox (the effect's own transaction),
 * waited for up to `timeoutMs`.
 */
export async function compensationLag(stack: ProcessStack, db: pg.Pool, orderIds: string[], timeoutMs: number): Promise<CompensationLag> {
  const participants = subscribersOf('order.cancel_requested');
  const applied = participants
    .map((service) => `SELECT event_id, handled_at FROM ${stack.table(service, 'inbox')} WHERE event_type = 'order.cancel_requested'`)
    .join(' UNION ALL ');
  const sql = `
    SELECT h.order_id,
           extract(epoch FROM max(a.handled_at) - h.occurred_at) * 1000 AS lag_ms,
           count(a.event_id)::int AS applied
      FROM ${stack.table('order-service', 'order_history')} h
      LEFT JOIN (${applied}) a ON a.event_id = h.event_id
     WHERE h.order_id = ANY($1::uuid[]) AND h.event_type = 'order.cancel_requested'
     GROUP BY h.order_id, h.occurred_at`;
  const deadline = Date.now() + timeoutMs;
  let rows: { lag_ms: number; applied: number }[] = [];
  for (;;) {
    rows = (await db.query<{ lag_ms: number; applied: number }>(sql, [orderIds])).rows;
    const done = rows.filter((row) => row.applied === participants.length);
    if (done.length === orderIds.length || Date.now() > deadline) {
      return { cancelled: orderIds.length, unfinished: orderIds.length - done.length, ms: summarize(done.map((row) => Number(row.lag_ms))) };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
