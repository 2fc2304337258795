-- Up Migration
-- The W3C trace context (traceparent, tracestate) an event was emitted in, so that its publish,
-- made after the commit or by a later sweep, continues the trace of the request or message that
-- caused it. NULL when tracing is off, or when nothing traced emitted it (the deadline sweep).
-- Numbered after every service's own migrations (files sort by number across the common folder
-- and the service's): a service's next migration takes 005 or later.
ALTER TABLE outbox ADD COLUMN trace_context jsonb;

-- Down Migration
ALTER TABLE outbox DROP COLUMN trace_context;
