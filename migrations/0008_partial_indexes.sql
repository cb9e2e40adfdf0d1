-- Migration number: 0008 	 indexes hold only the rows a filter can find.
-- Every insert wrote one entry into each of ten secondary indexes, most of
-- them for NULLs: few events carry a tenant, an error code or an address, and
-- half carry no trace or user. No query looks those up: every filter on these
-- columns is `col = ?` (or `col IS NOT NULL`), which implies `col IS NOT NULL`,
-- so SQLite uses the partial indexes below for exactly the same reads
-- (tests/sql_plans.rs checks each plan). Fewer index writes per row is most of
-- a batch insert's cost.
DROP INDEX idx_funnel_events_trace;
CREATE INDEX idx_funnel_events_trace ON funnel_events (trace_id) WHERE trace_id IS NOT NULL;

DROP INDEX idx_funnel_events_email_ts;
CREATE INDEX idx_funnel_events_email_ts ON funnel_events (email_fingerprint, ts) WHERE email_fingerprint IS NOT NULL;

DROP INDEX idx_funnel_events_tenant_ts;
CREATE INDEX idx_funnel_events_tenant_ts ON funnel_events (tenant_id, ts) WHERE tenant_id IS NOT NULL;

DROP INDEX idx_funnel_events_domain_ts;
CREATE INDEX idx_funnel_events_domain_ts ON funnel_events (email_domain, ts) WHERE email_domain IS NOT NULL;

DROP INDEX idx_funnel_events_error_ts;
CREATE INDEX idx_funnel_events_error_ts ON funnel_events (error_code, ts) WHERE error_code IS NOT NULL;

DROP INDEX idx_funnel_events_user_type_ts;
CREATE INDEX idx_funnel_events_user_type_ts ON funnel_events (user_id, event_type, ts) WHERE user_id IS NOT NULL;

-- (event_type, ts) is a prefix of idx_funnel_events_type_ts_user (event_type, ts, user_id): that one serves both.
DROP INDEX idx_funnel_events_type_ts;
