-- Up Migration
-- Handler failures of every service that were retried, as the services report them (status
-- exchange, type service.retry), for an order's timeline in the console. Telemetry: a note lost
-- while order-service was away is not missed by the saga. Each order-service instance hears every
-- note, so the key collapses the copies.
CREATE TABLE order_retries (
  event_id   uuid        NOT NULL,
  service    text        NOT NULL,
  attempt    integer     NOT NULL,
  order_id   uuid        NOT NULL,
  event_type text        NOT NULL,
  error      text        NOT NULL,
  retried_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, service, attempt)
);
CREATE INDEX order_retries_order_idx ON order_retries (order_id, retried_at);
-- The prune deletes the oldest first.
CREATE INDEX order_retries_retried_idx ON order_retries (retried_at);

-- Down Migration
DROP TABLE order_retries;
