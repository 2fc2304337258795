-- Up Migration
-- Dead letters archived from every service's dead-letter queue, so that operators can list,
-- filter, show, replay and purge them with SQL instead of draining queues.
CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  -- Same message archived twice (a crash between insert and ack) collapses on this key.
  archive_key text NOT NULL UNIQUE,
  service text NOT NULL,
  queue text NOT NULL,
  routing_key text,
  event_type text,
  message_id text,
  reason text NOT NULL,
  error text,
  properties jsonb NOT NULL,
  body bytea NOT NULL,
  dead_lettered_at timestamptz NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  replay_count integer NOT NULL DEFAULT 0,
  last_replayed_at timestamptz,
  purged_at timestamptz
);
CREATE INDEX dead_letters_open_idx ON dead_letters (dead_lettered_at) WHERE purged_at IS NULL;

-- Every replay, with who asked for it.
CREATE TABLE dead_letter_replays (
  id bigserial PRIMARY KEY,
  dead_letter_id uuid NOT NULL REFERENCES dead_letters (id),
  requested_by text NOT NULL,
  replayed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Down Migration
DROP TABLE dead_letter_replays;
DROP TABLE dead_letters;
