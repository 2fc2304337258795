-- Up Migration
-- Replays must be byte-identical to the first answer (as Stripe's are). jsonb normalises key
-- order, so a replayed body was equal only after parsing; json keeps the text as written, and
-- node-pg parses it back in that order.
ALTER TABLE idempotency_keys ALTER COLUMN response_body TYPE json USING response_body::json;

-- Down Migration
ALTER TABLE idempotency_keys ALTER COLUMN response_body TYPE jsonb USING response_body::jsonb;
