-- Up Migration
CREATE TABLE payments (
  id text PRIMARY KEY,
  customer text NOT NULL,
  order_id text,
  amount numeric(20, 4) NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code text,
  description text,
  source_brand text NOT NULL,
  amount_refunded numeric(20, 4) NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX payments_order_idx ON payments (order_id, created_at DESC);
CREATE INDEX payments_customer_idx ON payments (customer, created_at DESC);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);

CREATE TABLE refunds (
  id text PRIMARY KEY,
  payment_id text NOT NULL REFERENCES payments (id),
  amount numeric(20, 4) NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  reason text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);

-- Idempotency-Key records: the first response to a key, replayed for the same request.
CREATE TABLE idempotency_keys (
  api_key_fingerprint text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  response_body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (api_key_fingerprint, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE refunds;
DROP TABLE payments;
