-- Up Migration
-- One row per order: the charge and its refund. 'charging' and 'refunding' are written before the
-- provider is called, so a crash in between resumes with the same idempotency key instead of
-- charging again. A 'cancelled' row written before any charge is a tombstone: a late
-- inventory.reserved must not charge.
CREATE TABLE payments (
  order_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('charging', 'charged', 'failed', 'refunding', 'refunded', 'cancelled')),
  customer_id text,
  amount numeric(20, 4),
  currency text,
  payment_id text,
  refund_id text,
  failure_reason text,
  refund_reason text,
  cancel_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE payments;
