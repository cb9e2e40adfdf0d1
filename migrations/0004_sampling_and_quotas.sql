-- Migration number: 0004 	 sampling weights, volume before sampling, quota overrides.
-- Each kept row carries the rate it was sampled at; reads scale by 1/sample_rate.
ALTER TABLE funnel_events ADD COLUMN sample_rate REAL NOT NULL DEFAULT 1.0 CHECK (sample_rate > 0 AND sample_rate <= 1);

-- Valid events received and kept per UTC day and type (retries included), so
-- the volume before sampling is known.
CREATE TABLE event_volume (
  day        TEXT    NOT NULL,                     -- YYYY-MM-DD, UTC
  event_type TEXT    NOT NULL,
  received   INTEGER NOT NULL DEFAULT 0,
  kept       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, event_type)
);

-- Monthly limits that replace the plan's, for one user or a whole tenant.
CREATE TABLE quota_overrides (
  subject_kind  TEXT    NOT NULL CHECK (subject_kind IN ('user', 'tenant')),
  subject_id    TEXT    NOT NULL,
  action        TEXT    NOT NULL,
  monthly_limit INTEGER NOT NULL CHECK (monthly_limit >= 0),
  updated_at    TEXT    NOT NULL,
  PRIMARY KEY (subject_kind, subject_id, action)
);

-- Usage per user and action in a month, and a user's latest subscription: one seek each.
CREATE INDEX idx_funnel_events_user_type_ts ON funnel_events (user_id, event_type, ts);
