-- Up Migration
CREATE TABLE stock (
  sku text PRIMARY KEY,
  available integer NOT NULL CHECK (available >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order: what was reserved, and whether it still is. A row with status 'cancelled'
-- and no items is a tombstone: the order was cancelled before it was reserved, so a late
-- order.created must not reserve.
CREATE TABLE reservations (
  order_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('reserved', 'released', 'rejected', 'cancelled')),
  items jsonb NOT NULL DEFAULT '[]',
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE reservations;
DROP TABLE stock;
