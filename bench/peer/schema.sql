-- The benchmark peer's table: the auth/commerce seed's funnel_events (its columns
-- and its four indexes), plus event_id and the UNIQUE (source, event_id) the
-- contract's `duplicate` answer needs. Identifiers the seed has no column for
-- (service, user, session, anonymous id, email domain, occurred_at) and the
-- properties go into payload_json.
CREATE TABLE funnel_events (
  id                INTEGER PRIMARY KEY,
  ts                TEXT    NOT NULL,
  event_type        TEXT    NOT NULL,
  trace_id          TEXT,
  tenant_id         TEXT,
  job_id            TEXT,
  email_fingerprint TEXT,
  success           INTEGER,
  error_code        TEXT,
  error_message     TEXT,
  source            TEXT    NOT NULL,
  payload_json      TEXT,
  event_id          TEXT    NOT NULL,
  UNIQUE (source, event_id)
);
CREATE INDEX idx_funnel_events_ts ON funnel_events (ts);
CREATE INDEX idx_funnel_events_type_ts ON funnel_events (event_type, ts);
CREATE INDEX idx_funnel_events_trace ON funnel_events (trace_id);
CREATE INDEX idx_funnel_events_email_ts ON funnel_events (email_fingerprint, ts);
