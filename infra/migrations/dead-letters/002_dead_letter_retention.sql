-- Up Migration
-- dead-letter-prune deletes letters handled (purged, or replayed) more than DEAD_LETTER_RETENTION
-- ago, with their replay records; a letter nobody has handled is never pruned. Only handled
-- letters are in this partial index, by when they were handled, so each batch reads the oldest of
-- them and nothing else, however many open letters wait.
CREATE INDEX dead_letters_handled_idx ON dead_letters ((COALESCE(purged_at, last_replayed_at)))
  WHERE purged_at IS NOT NULL OR last_replayed_at IS NOT NULL;

-- A letter's replays by its id: deleting a letter checks its foreign key here, which without an
-- index would read the whole table once for every letter deleted.
CREATE INDEX dead_letter_replays_letter_idx ON dead_letter_replays (dead_letter_id);

-- Down Migration
DROP INDEX dead_letter_replays_letter_idx;
DROP INDEX dead_letters_handled_idx;
