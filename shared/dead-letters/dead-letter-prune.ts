import type { PruneStatement } from '../db/prune-job.js';

/**
 * Deletes, a batch at a time, the dead letters someone handled more than `retentionMs` ago — purged
 * (`npm run dlq -- purge`, DELETE /admin/dead-letters/:id) or replayed — with their replay records.
 * A letter nobody has handled stays however old it is: it is a message the system could not apply,
 * and deleting it would lose that message for good. A replay that fails again is archived as a new
 * letter, so a replayed one is done with. Letters being purged or replayed at that moment are
 * skipped (SKIP LOCKED) and pruned by a later run.
 */
export function deadLetterPrune(retentionMs: number): PruneStatement {
  return {
    sql: `WITH doomed AS (
            SELECT ARRAY(
              SELECT id FROM dead_letters
              WHERE (purged_at IS NOT NULL OR last_replayed_at IS NOT NULL)
                AND COALESCE(purged_at, last_replayed_at) < now() - make_interval(secs => $1)
              ORDER BY COALESCE(purged_at, last_replayed_at) LIMIT $2 FOR UPDATE SKIP LOCKED) AS ids),
          replays AS (DELETE FROM dead_letter_replays WHERE dead_letter_id = ANY((SELECT ids FROM doomed)::uuid[]))
          DELETE FROM dead_letters WHERE id = ANY((SELECT ids FROM doomed)::uuid[])`,
    params: [retentionMs / 1000],
  };
}
