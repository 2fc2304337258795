-- Up Migration
-- The API's Idempotency-Key records live in Redis (fast, expiring); Redis keeps nothing on disk,
-- so the order itself also keeps the key, as SHA-256 hashes of the key and of the request: one key
-- of one customer can never create two orders, even after Redis lost its records.
ALTER TABLE orders ADD COLUMN idempotency_key_hash text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX orders_customer_idempotency_key ON orders (customer_id, idempotency_key_hash)
  WHERE idempotency_key_hash IS NOT NULL;

-- Down Migration
DROP INDEX orders_customer_idempotency_key;
ALTER TABLE orders DROP COLUMN idempotency_key_hash, DROP COLUMN request_hash;
