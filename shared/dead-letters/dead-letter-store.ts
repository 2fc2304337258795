import type { Pool } from '../db/pool.js';

export interface DeadLetter {
  id: string;
  service: string;
  queue: string;
  routing_key: string | null;
  event_type: string | null;
  message_id: string | null;
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
  eventType?: string;
  reason?: string;
  /** Only letters dead-lettered at least this long ago. */
  olderThanMs?: number;
  /** @defaultValue 100 */
  limit?: number;
}

const COLUMNS = `id, service, queue, routing_key, event_type, message_id, reason, error, properties, body,
  dead_lettered_at, archived_at, replay_count, last_replayed_at`;

/** The archive of dead letters (schema `dead_letters`), shared by the archiver, the CLI and the admin API. */
export class DeadLetterStore {
  constructor(private readonly pool: Pool) {}

  async archive(letter: Omit<DeadLetter, 'archived_at' | 'replay_count' | 'last_replayed_at'> & { archive_key: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO dead_letters (id, archive_key, service, queue, routing_key, event_type, message_id, reason, error,
         properties, body, dead_lettered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (archive_key) DO NOTHING`,
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
      ],
    );
  }

  /** Open (not purged) dead letters matching the filter, oldest first. */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const params: unknown[] = [];
    const where = ['purged_at IS NULL'];
    if (filter.service) where.push(`service = $${params.push(filter.service)}`);
    if (filter.eventType) where.push(`event_type = $${params.push(filter.eventType)}`);
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

  /** Marks letters purged (kept for audit, hidden from lists); returns how many. */
  async purge(ids: string[]): Promise<number> {
    const result = await this.pool.query('UPDATE dead_letters SET purged_at = clock_timestamp() WHERE id = ANY($1::uuid[]) AND purged_at IS NULL', [ids]);
    return result.rowCount ?? 0;
  }
}
