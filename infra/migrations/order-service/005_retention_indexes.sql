-- Up Migration
-- (005, not 004: files sort by number across this folder and common/, whose 004 is applied.)
--
-- order-history-prune deletes the history of orders that ended more than ORDER_HISTORY_RETENTION
-- ago, oldest first, a batch at a time. This index lets each batch start at the oldest history row
-- left and read little more than the rows it deletes (each joined to its order by primary key, to
-- check that the order ended, and when). Driving the prune from orders_ended_at_idx instead would
-- read again, at every batch, every order whose history is already gone: orders are kept, so that
-- range only grows. History rows are recorded in time order, so the index grows at its right edge,
-- one cheap insert per event.
CREATE INDEX order_history_recorded_idx ON order_history (recorded_at);

-- idempotency-key-prune clears the Idempotency-Key hashes of orders placed more than twice
-- IDEMPOTENCY_TTL_S ago. Only orders still holding a key are in this partial index: it holds about
-- two TTLs of orders however large the table grows, and each batch reads the oldest of them.
CREATE INDEX orders_idempotency_key_age_idx ON orders (created_at) WHERE idempotency_key_hash IS NOT NULL;

-- Down Migration
DROP INDEX orders_idempotency_key_age_idx;
DROP INDEX order_history_recorded_idx;
