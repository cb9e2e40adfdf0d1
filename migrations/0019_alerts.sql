-- Migration number: 0019 	 alert incidents: one row per (rule, scope) incident, open until its rule clears.
-- The every-minute cron (usecases::alerts) opens an incident when a rule of
-- catalog::alerts fires and none of its (rule, scope) is open, resolves it when
-- the rule clears, and records when every webhook took each message, so a
-- failed delivery is retried on the next run and a delivered one never again.
CREATE TABLE alert_incidents (
  id                  INTEGER PRIMARY KEY,
  rule                TEXT    NOT NULL,
  scope               TEXT    NOT NULL,        -- service or quota action; '' for single-scope rules
  opened_at           TEXT    NOT NULL,
  resolved_at         TEXT,                    -- NULL while open
  value               REAL    NOT NULL,        -- the rule's value when it opened
  threshold           REAL    NOT NULL,
  summary             TEXT    NOT NULL,
  notified_at         TEXT,                    -- every webhook took the firing message
  resolve_notified_at TEXT                     -- every webhook took the resolve message
);

-- At most one open incident per (rule, scope): "once per incident" holds even if two runs overlap.
CREATE UNIQUE INDEX ux_alert_incidents_open ON alert_incidents (rule, scope) WHERE resolved_at IS NULL;
CREATE INDEX idx_alert_incidents_resolved ON alert_incidents (resolved_at) WHERE resolved_at IS NOT NULL;
