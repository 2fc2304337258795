-- Up Migration
-- Transactional outbox: an event is written in the same transaction as the state change that
-- causes it, and marked published only after the broker confirmed it.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  routing_key text NOT NULL,
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- Inbox: the ids of the events this service has applied, recorded in the same transaction as
-- their effect, so a redelivered event is recognised and skipped.
CREATE TABLE inbox (
  event_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Down Migration
DROP TABLE inbox;
DROP TABLE outbox;
