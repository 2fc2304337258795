-- Up Migration
CREATE TABLE products (
  sku text PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE product_prices (
  sku text NOT NULL REFERENCES products (sku),
  currency text NOT NULL,
  unit_price numeric(20, 4) NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (sku, currency)
);

-- Read model of inventory-service's stock, kept from its events (reserved: -, released: +);
-- applied once each through the inbox, so it converges on the real figure.
CREATE TABLE product_stock (
  sku text PRIMARY KEY REFERENCES products (sku),
  available integer NOT NULL
);

CREATE TABLE orders (
  id uuid PRIMARY KEY,
  customer_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'reserved', 'paid', 'compensating', 'completed', 'cancelled')),
  cancellation_reason text,
  currency text NOT NULL,
  total numeric(20, 4) NOT NULL,
  shipping_address jsonb NOT NULL,
  deadline_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_open_deadline_idx ON orders (deadline_at) WHERE status NOT IN ('completed', 'cancelled');

CREATE TABLE order_items (
  order_id uuid NOT NULL REFERENCES orders (id),
  line_no integer NOT NULL,
  sku text NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(20, 4) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- The saga as the order saw it: every event of the order, with when it happened and was recorded.
CREATE TABLE order_history (
  order_id uuid NOT NULL REFERENCES orders (id),
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (order_id, event_id)
);

-- Down Migration
DROP TABLE order_history;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE product_stock;
DROP TABLE product_prices;
DROP TABLE products;
