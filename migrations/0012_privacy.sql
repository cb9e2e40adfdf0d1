-- Migration number: 0012 	 privacy: the access log, erasure requests, suppressions, the PII sweep's progress.

-- Every read that names a person, every export and every admin write, by key.
-- Kept longer than events (AUDIT_RETENTION_DAYS, default 730); no route deletes it.
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        TEXT    NOT NULL,                 -- stored-form UTC time
  key_name  TEXT    NOT NULL,                 -- the bearer key's name (never the key)
  route     TEXT    NOT NULL,                 -- 'GET /internal/funnel-events'
  kind      TEXT    NOT NULL,                 -- what was looked up or done: email_fingerprint, email_domain, user_id, trace, export, override, replay, erasure, ...
  subject   TEXT,                             -- the fingerprint, domain, user id or trace id (never a raw address)
  rows      INTEGER                           -- rows returned or changed
);
CREATE INDEX idx_audit_log_at ON audit_log (at, id);
CREATE INDEX idx_audit_log_key_at ON audit_log (key_name, at, id);
CREATE INDEX idx_audit_log_subject_at ON audit_log (subject, at, id) WHERE subject IS NOT NULL;

-- One erasure request (GDPR Art. 17 / PIPA): deleted in bounded chunks, across calls and cron runs.
CREATE TABLE erasures (
  id                 TEXT    PRIMARY KEY,     -- er_<32 hex>
  subject_kind       TEXT    NOT NULL CHECK (subject_kind IN ('email_fingerprint', 'user_id')),
  subject            TEXT    NOT NULL,
  suppress           INTEGER NOT NULL CHECK (suppress IN (0, 1)),
  requested_at       TEXT    NOT NULL,
  requested_by       TEXT    NOT NULL,        -- the key's name
  events_deleted     INTEGER NOT NULL DEFAULT 0,
  quarantine_deleted INTEGER NOT NULL DEFAULT 0,
  finished_at        TEXT                     -- NULL while rows of the subject remain
) WITHOUT ROWID;
CREATE INDEX idx_erasures_unfinished ON erasures (requested_at) WHERE finished_at IS NULL;

-- Subjects erased with suppression: their later events are answered `suppressed` and stored nowhere.
CREATE TABLE suppressions (
  subject_kind TEXT NOT NULL,
  subject      TEXT NOT NULL,
  erasure_id   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (subject_kind, subject)
) WITHOUT ROWID;

-- Resumable maintenance jobs (the PII sweep of rows stored before scrubbing): where each stopped.
CREATE TABLE maintenance_jobs (
  job        TEXT    PRIMARY KEY,             -- 'pii_sweep_events', 'pii_sweep_quarantine'
  after_id   INTEGER NOT NULL DEFAULT 0,      -- the last row id examined
  changed    INTEGER NOT NULL DEFAULT 0,      -- rows rewritten so far
  finished_at TEXT,
  updated_at TEXT    NOT NULL
) WITHOUT ROWID;

-- Erasure by user finds the quarantine's rows by the ids inside their copies.
CREATE INDEX idx_event_quarantine_user ON event_quarantine (json_extract(event_json, '$.user_id'))
  WHERE json_extract(event_json, '$.user_id') IS NOT NULL;
CREATE INDEX idx_event_quarantine_fingerprint ON event_quarantine (json_extract(event_json, '$.email_fingerprint'))
  WHERE json_extract(event_json, '$.email_fingerprint') IS NOT NULL;
