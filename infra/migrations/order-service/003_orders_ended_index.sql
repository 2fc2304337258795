-- Up Migration
-- Admission control (POST /orders) sizes its bound from the rate at which orders end: it counts
-- the orders that reached completed or cancelled in the last seconds. A terminal order is never
-- updated again, so its updated_at is when it ended; this partial index keeps that count a short
-- range scan however many orders the table holds. (The open orders are counted through
-- orders_open_deadline_idx, whose predicate is the complement.)
CREATE INDEX orders_ended_at_idx ON orders (updated_at) WHERE status IN ('completed', 'cancelled');

-- Down Migration
DROP INDEX orders_ended_at_idx;
