-- Migration number: 0002 	 event_quarantine: rejected events, PII stripped, kept for listing and replay.
CREATE TABLE event_quarantine (
  id              INTEGER PRIMARY KEY,
  received_at     TEXT    NOT NULL,
  source          TEXT    NOT NULL,
  event_type      TEXT,                            -- as sent (may be unknown to the catalog)
  event_id        TEXT    NOT NULL,                -- as sent, or the id the server gave it
  header_trace_id TEXT,                            -- the request's accepted x-trace-id
  clock_skew_ms   INTEGER NOT NULL DEFAULT 0,      -- received − sent_at, to replay occurred_at faithfully
  errors_json     TEXT    NOT NULL,                -- [{code, field, message}]
  event_json      TEXT    NOT NULL,                -- the event with email replaced by fingerprint + domain
  replayed_at     TEXT                             -- set when a replay moved it into funnel_events
);

CREATE UNIQUE INDEX ux_event_quarantine_source_event_id ON event_quarantine (source, event_id);
CREATE INDEX idx_event_quarantine_received ON event_quarantine (received_at);
CREATE INDEX idx_event_quarantine_type_received ON event_quarantine (event_type, received_at);
