-- Migration number: 0003 	 indexes for the read APIs' filters.
-- Each list filter has an index that leads with it and ends with ts, so a
-- filtered page is an index range read in time order (checked by EXPLAIN
-- QUERY PLAN in tests/sql_plans.rs).
CREATE INDEX idx_funnel_events_tenant_ts ON funnel_events (tenant_id, ts);
CREATE INDEX idx_funnel_events_domain_ts ON funnel_events (email_domain, ts);
CREATE INDEX idx_funnel_events_error_ts ON funnel_events (error_code, ts);
-- Replay reads the pending quarantine oldest first; a partial index keeps that a seek.
CREATE INDEX idx_event_quarantine_pending ON event_quarantine (id) WHERE replayed_at IS NULL;
