-- Up Migration
-- The reconciliation reads the rows created in its window. created_at never changes, so the index
-- costs an insert one more entry and leaves every later update of the row a HOT update.
CREATE INDEX payments_created_idx ON payments (created_at);

-- Each reconciliation run: its window, how it ended, and its report (what was checked, healed,
-- and left open). The next recurring run starts where the last complete one ended (less the
-- grace period), so a partial run's window is covered again.
CREATE TABLE reconciliation_runs (
  id uuid PRIMARY KEY,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'complete', 'partial')),
  report jsonb,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz
);
CREATE INDEX reconciliation_runs_complete_idx ON reconciliation_runs (window_end DESC) WHERE status = 'complete';

-- A disagreement between the provider's ledger and the payments table, one row per kind, order
-- and payment: 'pending' while a saga in flight may still explain it (the grace period), 'healed'
-- when a run fixed it, 'open' while it needs a person, 'resolved' once a later run no longer finds
-- it (a person fixed it, or the saga caught up). Every run looks at the pending and open ones again.
CREATE TABLE payment_discrepancies (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  order_id uuid,
  payment_id text,
  status text NOT NULL CHECK (status IN ('pending', 'open', 'healed', 'resolved')),
  evidence jsonb NOT NULL,
  action jsonb,
  first_seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  closed_at timestamptz
);
CREATE UNIQUE INDEX payment_discrepancies_identity_idx
  ON payment_discrepancies (kind, COALESCE(order_id::text, ''), COALESCE(payment_id, ''));
CREATE INDEX payment_discrepancies_open_idx ON payment_discrepancies (first_seen_at) WHERE status IN ('pending', 'open');

-- Down Migration
DROP TABLE payment_discrepancies;
DROP TABLE reconciliation_runs;
DROP INDEX payments_created_idx;
