import { EVENT_TYPES, saga, subscribersOf } from '../../shared/contracts/events.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { waitFor } from '../support/wait-for.js';
import type { InvariantTarget } from './invariant-target.js';

export interface Quiescence {
  quiet: boolean;
  /** How long it took to become quiet (or how long was waited in vain). */
  ms: number;
  /** What was still in flight at the last look, as invariant-5 violations (empty once quiet). */
  left: string[];
}

interface InFlight {
  kind: 'unpublished' | 'unapplied';
  service: string;
  type: string;
  n: number;
}

/**
 * One statement (so one snapshot) that counts what is still in flight: outbox rows not yet
 * published, and events a subscriber has not applied (its inbox lacks the id). The saga declaration
 * says who publishes each event and who must apply it. Names come from that declaration, not input.
 */
function inFlightQuery(target: InvariantTarget): string {
  const unpublished = SAGA_SERVICES.map(
    (service) =>
      `SELECT 'unpublished' AS kind, '${service}' AS service, '' AS type, count(*)::int AS n
       FROM ${target.table(service, 'outbox')} WHERE published_at IS NULL`,
  );
  const unapplied = EVENT_TYPES.flatMap((type) =>
    subscribersOf(type).map(
      (subscriber) =>
        `SELECT 'unapplied', '${subscriber}', '${type}', count(*)::int
         FROM ${target.table(saga[type].publisher, 'outbox')} o
         WHERE o.routing_key = '${type}' AND NOT EXISTS (SELECT 1 FROM ${target.table(subscriber, 'inbox')} i WHERE i.event_id = o.id)`,
    ),
  );
  return [...unpublished, ...unapplied].join('\nUNION ALL\n');
}

/**
 * Waits, within `timeoutMs`, until the system is quiescent: every outbox row published and every
 * subscriber has applied every event it subscribes to (invariant 5 in docs/architecture.md). Only
 * then do the end states of different services agree: order-service and inventory react to the
 * same event independently, so an order can show `cancelled` before inventory has released its
 * stock.
 */
export async function waitForQuiescence(target: InvariantTarget, options: { timeoutMs?: number } = {}): Promise<Quiescence> {
  const started = Date.now();
  const sql = inFlightQuery(target);
  let last: InFlight[] = [];
  let failure = '';
  const quiet = await waitFor(
    async () => {
      last = (await target.db.query<InFlight>(sql)).rows.filter((row) => row.n > 0);
      return last.length === 0;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250, what: 'the system to be quiescent' },
  ).catch((error: Error) => ((failure = error.message), false));
  const ms = Date.now() - started;
  if (quiet) return { quiet, ms, left: [] };
  // Every look failed (a database gone): say why, since nothing was counted.
  if (last.length === 0) return { quiet, ms, left: [`5: ${failure}`] };
  return {
    quiet,
    ms,
    left: last.map((row) =>
      row.kind === 'unpublished'
        ? `5: ${row.service} has ${row.n} unpublished outbox rows`
        : `5: ${row.service} did not apply every ${row.type} (${row.n} not applied)`,
    ),
  };
}
