-- Migration number: 0001 	 funnel_events: one row per accepted event.
-- Timestamps are fixed-width ISO 8601 UTC (YYYY-MM-DDTHH:MM:SS.mmmZ) so text order is time order.
-- No column ever holds a raw email: only its keyed fingerprint and its domain.
CREATE TABLE funnel_events (
  id                INTEGER PRIMARY KEY,
  ts                TEXT    NOT NULL,              -- server receive time
  occurred_at       TEXT,                          -- sender's time, corrected by sent_at skew
  event_type        TEXT    NOT NULL,
  service           TEXT    NOT NULL,
  source            TEXT    NOT NULL,              -- zuplo, cp, admin-web, stripe_webhook, ...
  event_id          TEXT    NOT NULL,              -- idempotency key, unique per source
  trace_id          TEXT,
  tenant_id         TEXT,
  job_id            TEXT,
  user_id           TEXT,
  session_id        TEXT,
  anonymous_id      TEXT,
  email_fingerprint TEXT,                          -- hex HMAC-SHA256(EMAIL_FINGERPRINT_KEY, lower(trim(email)))
  email_domain      TEXT,
  success           INTEGER CHECK (success IN (0, 1)),
  error_code        TEXT,
  error_message     TEXT,                          -- at most 512 characters
  payload_json      TEXT                           -- the validated properties object
);

CREATE INDEX idx_funnel_events_ts ON funnel_events (ts);
CREATE INDEX idx_funnel_events_type_ts ON funnel_events (event_type, ts);
CREATE INDEX idx_funnel_events_trace ON funnel_events (trace_id);
CREATE INDEX idx_funnel_events_email_ts ON funnel_events (email_fingerprint, ts);
CREATE UNIQUE INDEX ux_funnel_events_source_event_id ON funnel_events (source, event_id);
