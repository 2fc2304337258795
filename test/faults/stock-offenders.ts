import { saga, subscriptionsOf } from '../../shared/contracts/events.js';
import type { InvariantTarget } from './invariant-target.js';

/** An order whose reservation disagrees with its end state, with what each side saw of it. */
export interface StockOffender {
  order_id: string;
  /** order-service's status (null: no such order among the checked ones). */
  status: string | null;
  cancellation_reason: string | null;
  order_updated_at: Date | null;
  /** inventory's reservation status (null: none). */
  reservation: string | null;
  reservation_reason: string | null;
  reservation_updated_at: Date | null;
  /** The order's history in order-service, oldest first. */
  history: { event_type: string; recorded_at: Date }[];
  /** The events of this order that inventory subscribes to, and whether its inbox has them. */
  inventory_events: { type: string; published_at: Date | null; handled_at: Date | null }[];
}

const time = (at: Date | null) => (at ? at.toISOString().slice(11, 23) : '?');

/**
 * The orders that break the stock invariant, newest first: a reservation still `reserved` for an
 * order that did not complete (stock held for nothing), or a completed order whose stock is not
 * reserved (given back, or never taken). `total` counts them all; at most `limit` are described.
 */
export async function findStockOffenders(
  target: InvariantTarget,
  orderIds: string[],
  limit = 10,
): Promise<{ total: number; offenders: StockOffender[] }> {
  const { rows } = await target.db.query<Omit<StockOffender, 'history' | 'inventory_events'> & { total: number }>(
    `SELECT coalesce(o.id, r.order_id)::text AS order_id, o.status, o.cancellation_reason, o.updated_at AS order_updated_at,
            r.status AS reservation, r.reason AS reservation_reason, r.updated_at AS reservation_updated_at,
            count(*) OVER ()::int AS total
     FROM (SELECT id, status, cancellation_reason, updated_at FROM ${target.table('order-service', 'orders')} WHERE id = ANY($1::uuid[])) o
     FULL JOIN (SELECT order_id, status, reason, updated_at FROM ${target.table('inventory-service', 'reservations')}
                WHERE status = 'reserved' OR order_id = ANY($1::uuid[])) r ON r.order_id = o.id
     WHERE coalesce(r.status = 'reserved', false) <> coalesce(o.status = 'completed', false)
     ORDER BY coalesce(o.updated_at, r.updated_at) DESC
     LIMIT $2`,
    [orderIds, limit],
  );
  if (rows.length === 0) return { total: 0, offenders: [] };
  const ids = rows.map((row) => row.order_id);
  const [history, events] = await Promise.all([historyOf(target, ids), inventoryEventsOf(target, ids)]);
  return {
    total: rows[0]!.total,
    offenders: rows.map(({ total: _total, ...row }) => ({
      ...row,
      history: history.filter((h) => h.order_id === row.order_id),
      inventory_events: events.filter((e) => e.order_id === row.order_id),
    })),
  };
}

/** One line: the order's state on both sides, its history and what inventory applied of it. */
export function describeOffender(o: StockOffender): string {
  const order = o.status ? `${o.status}${o.cancellation_reason ? ` (${o.cancellation_reason})` : ''} since ${time(o.order_updated_at)}` : 'not an order of the run';
  const reservation = o.reservation
    ? `reservation ${o.reservation}${o.reservation_reason ? ` (${o.reservation_reason})` : ''} since ${time(o.reservation_updated_at)}`
    : 'no reservation';
  const history = o.history.map((h) => `${h.event_type} ${time(h.recorded_at)}`).join(', ');
  const inventory = o.inventory_events
    .map((e) => `${e.type} ${e.handled_at ? `applied ${time(e.handled_at)}` : e.published_at ? `published ${time(e.published_at)}, not applied` : 'not published'}`)
    .join(', ');
  return `order ${o.order_id}: ${order}, ${reservation}; history: ${history || 'none'}; inventory: ${inventory || 'no events'}`;
}

async function historyOf(target: InvariantTarget, ids: string[]) {
  const { rows } = await target.db.query<{ order_id: string; event_type: string; recorded_at: Date }>(
    `SELECT order_id::text AS order_id, event_type, recorded_at FROM ${target.table('order-service', 'order_history')}
     WHERE order_id = ANY($1::uuid[]) ORDER BY recorded_at`,
    [ids],
  );
  return rows;
}

/** Every event about these orders that inventory subscribes to, from its publishers' outboxes. */
async function inventoryEventsOf(target: InvariantTarget, ids: string[]) {
  const types = subscriptionsOf('inventory-service');
  const publishers = [...new Set(types.map((type) => saga[type].publisher))];
  const { rows } = await target.db.query<{ order_id: string; type: string; published_at: Date | null; handled_at: Date | null }>(
    publishers
      .map(
        (publisher) =>
          `SELECT o.envelope->'data'->>'order_id' AS order_id, o.routing_key AS type, o.created_at, o.published_at, i.handled_at
           FROM ${target.table(publisher, 'outbox')} o LEFT JOIN ${target.table('inventory-service', 'inbox')} i ON i.event_id = o.id
           WHERE o.routing_key = ANY($2::text[]) AND o.envelope->'data'->>'order_id' = ANY($1::text[])`,
      )
      .join('\nUNION ALL\n')
      .concat('\nORDER BY created_at'),
    [ids, types],
  );
  return rows;
}
