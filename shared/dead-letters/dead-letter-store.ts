import type { Pool } from '../db/pool.js';
import { orderIdOf } from './order-id-of.js';

export interface DeadLetter {
  id: string;
  service: string;
  queue: string;
  routing_key: string | null;
  event_type: string | null;
  message_id: string | null;
  /** The order its event is about (read from the body when archived; see orderIdOf). */
  order_id: string | null;
  reason: string;
  error: string | null;
  properties: Record<string, unknown>;
  body: Buffer;
  dead_lettered_at: Date;
  archived_at: Date;
  replay_count: number;
  last_replayed_at: Date | null;
}

export interface DeadLetterFilter {
  service?: string;
  /** null: letters whose event type is unknown. */
  eventType?: string | null;
  reason?: string;
  /** Only letters waiting for an operator (neither replayed nor purged): those a group counts. */
  waiting?: boolean;
  /** Only letters dead-lettered at least this long ago. */
  olderThanMs?: number;
  /** @defaultValue 100 */
  limit?: number;
}

/** Letters of one kind: same service, event type and reason. */
export interface DeadLetterGroupKey {
  service: string;
  event_type: string | null;
  reason: string;
}

/** A group of letters waiting for an operator, with when the first and the last of them arrived. */
export interface DeadLetterGroup extends DeadLetterGroupKey {
  count: number;
  first_seen: Date;
  last_seen: Date;
}

/**
 * Letters an operator picked: by id (any not purged), or a whole group (those of it waiting: neither
 * purged nor replayed, so that acting on a group twice never touches a letter twice).
 */
export type DeadLetterSelection = { ids: string[] } | { group: DeadLetterGroupKey };

const COLUMNS = `id, service, queue, routing_key, event_type, message_id, order_id, reason, error, properties, body,
  dead_lettered_at, archived_at, replay_count, last_replayed_at`;

/** Neither purged nor replayed: what a group counts (a replay that fails again comes back as a new letter). */
const WAITING = 'purged_at IS NULL AND last_replayed_at IS NULL';

/** The archive of dead letters (schema `dead_letters`), shared by the archiver, the CLI and the admin API. */
export class DeadLetterStore {
  constructor(private readonly pool: Pool) {}

  /** Stores a letter once (per archive key), with the order its body names. */
  async archive(letter: Omit<DeadLetter, 'order_id' | 'archived_at' | 'replay_count' | 'last_replayed_at'> & { archive_key: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO dead_letters (id, archive_key, service, queue, routing_key, event_type, message_id, reason, error,
         properties, body, dead_lettered_at, order_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (archive_key) DO NOTHING`,
      [
        letter.id,
        letter.archive_key,
        letter.service,
        letter.queue,
        letter.routing_key,
        letter.event_type,
        letter.message_id,
        letter.reason,
        letter.error,
        JSON.stringify(letter.properties),
        letter.body,
        letter.dead_lettered_at,
        orderIdOf(letter.body),
      ],
    );
  }

  /** Open (not purged) dead letters matching the filter, oldest first. */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const params: unknown[] = [];
    const where = [filter.waiting ? WAITING : 'purged_at IS NULL'];
    if (filter.service) where.push(`service = $${params.push(filter.service)}`);
    if (filter.eventType === null) where.push('event_type IS NULL');
    else if (filter.eventType) where.push(`event_type = $${params.push(filter.eventType)}`);
    if (filter.reason) where.push(`reason = $${params.push(filter.reason)}`);
    if (filter.olderThanMs !== undefined) {
      where.push(`dead_lettered_at < clock_timestamp() - make_interval(secs => $${params.push(filter.olderThanMs / 1000)})`);
    }
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const { rows } = await this.pool.query<DeadLetter>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY dead_lettered_at, id LIMIT $${params.length}`,
      params,
    );
    return rows;
  }

  async get(id: string): Promise<DeadLetter | null> {
    const { rows } = await this.pool.query<DeadLetter>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1 AND purged_at IS NULL`, [id]);
    return rows[0] ?? null;
  }

  async recordReplay(id: string, requestedBy: string): Promise<void> {
    await this.pool.query('UPDATE dead_letters SET replay_count = replay_count + 1, last_replayed_at = clock_timestamp() WHERE id = $1', [id]);
    await this.pool.query('INSERT INTO dead_letter_replays (dead_letter_id, requested_by) VALUES ($1, $2)', [id, requestedBy]);
  }

  /** Marks letters purged by `purgedBy` (kept for audit, hidden from lists); returns the ids it purged. */
  async purge(ids: string[], purgedBy: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE dead_letters SET purged_at = clock_timestamp(), purged_by = $2
       WHERE id = ANY($1::uuid[]) AND purged_at IS NULL RETURNING id`,
      [ids, purgedBy],
    );
    return rows.map((row) => row.id);
  }

  /** The open letters of one order, oldest first (at most 100). */
  async listForOrder(orderId: string): Promise<DeadLetter[]> {
    const { rows } = await this.pool.query<DeadLetter>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE order_id = $1 AND purged_at IS NULL ORDER BY dead_lettered_at, id LIMIT 100`,
      [orderId],
    );
    return rows;
  }

  /** The letters waiting for an operator, by service, event type and reason; largest groups first (at most 1000 groups). */
  async groups(): Promise<DeadLetterGroup[]> {
    const { rows } = await this.pool.query<DeadLetterGroup>(
      `SELECT service, event_type, reason, count(*)::int AS count, min(dead_lettered_at) AS first_seen, max(dead_lettered_at) AS last_seen
       FROM dead_letters WHERE ${WAITING}
       GROUP BY service, event_type, reason ORDER BY count DESC, last_seen DESC, service, event_type, reason LIMIT 1000`,
    );
    return rows;
  }

  /** How many letters wait for an operator, per service. */
  async waitingByService(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ service: string; count: number }>(
      `SELECT service, count(*)::int AS count FROM dead_letters WHERE ${WAITING} GROUP BY service`,
    );
    return new Map(rows.map((row) => [row.service, row.count]));
  }

  /** Up to `limit` of the selected letters, oldest first; `more`: the selection holds more than that. */
  async select(selection: DeadLetterSelection, limit: number): Promise<{ letters: DeadLetter[]; more: boolean }> {
    const params: unknown[] = [limit + 1];
    const where: string[] = [];
    if ('ids' in selection) {
      where.push('purged_at IS NULL', `id = ANY($${params.push(selection.ids)}::uuid[])`);
    } else {
      const { service, event_type, reason } = selection.group;
      where.push(WAITING, `service = $${params.push(service)}`, `reason = $${params.push(reason)}`);
      // Two forms, not IS NOT DISTINCT FROM, which no index serves.
      where.push(event_type === null ? 'event_type IS NULL' : `event_type = $${params.push(event_type)}`);
    }
    const { rows } = await this.pool.query<DeadLetter>(
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY dead_lettered_at, id LIMIT $1`,
      params,
    );
    return { letters: rows.slice(0, limit), more: rows.length > limit };
  }
}
