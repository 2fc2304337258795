-- Up Migration
-- One row per order. A 'cancelled' row written before any shipment existed is a tombstone: a late
-- payment.succeeded must not schedule.
CREATE TABLE shipments (
  order_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('scheduled', 'failed', 'cancelled')),
  shipment_id uuid,
  carrier text,
  tracking_number text,
  destination_country text,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE shipments;
