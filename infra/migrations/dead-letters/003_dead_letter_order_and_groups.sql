-- Up Migration
-- The order a letter's event is about (its data's order_id, else its correlation_id), read from
-- the body when it is archived, so that an order's timeline finds its letters by index instead of
-- parsing every body; null when the body is not an event. And who purged a letter (the admin API's
-- subject, or the CLI's user), as dead_letter_replays records who replayed it.
ALTER TABLE dead_letters ADD COLUMN order_id uuid, ADD COLUMN purged_by text;

CREATE INDEX dead_letters_order_idx ON dead_letters (order_id) WHERE order_id IS NOT NULL;

-- Letters waiting for an operator (neither purged nor replayed), by group: the admin API lists the
-- groups, and replays or purges a group's letters oldest first, from this index alone.
CREATE INDEX dead_letters_waiting_group_idx ON dead_letters (service, event_type, reason, dead_lettered_at)
  WHERE purged_at IS NULL AND last_replayed_at IS NULL;

-- Letters archived before this migration: the same reading as the archiver's (order-id-of.ts). A
-- body that is not JSON, or holds no order id, leaves the column null.
DO $$
DECLARE
  letter record;
  event jsonb;
  uuid_pattern constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
BEGIN
  FOR letter IN SELECT id, body FROM dead_letters WHERE purged_at IS NULL LOOP
    BEGIN
      event := convert_from(letter.body, 'UTF8')::jsonb;
      IF jsonb_typeof(event) = 'object' THEN
        UPDATE dead_letters SET order_id = CASE
            WHEN jsonb_typeof(event -> 'data') = 'object' AND (event #>> '{data,order_id}') ~ uuid_pattern THEN (event #>> '{data,order_id}')::uuid
            WHEN (event ->> 'correlation_id') ~ uuid_pattern THEN (event ->> 'correlation_id')::uuid
          END
        WHERE id = letter.id;
      END IF;
    EXCEPTION WHEN others THEN
      NULL; -- not UTF-8 or not JSON: no order
    END;
  END LOOP;
END $$;

-- Down Migration
DROP INDEX dead_letters_waiting_group_idx;
DROP INDEX dead_letters_order_idx;
ALTER TABLE dead_letters DROP COLUMN purged_by, DROP COLUMN order_id;
