-- Erasure reaches the archive (src/usecases/erasure.rs, docs/api.md "Archive").

-- The index from a person to the archived hours holding their events: written with the
-- manifest (storage::sql::RECORD_ARCHIVED_SUBJECTS) in the batch that deletes the hour's rows,
-- so an erasure rewrites only those hours' objects and never reads the whole archive. One row
-- per (kind, subject, hour): a year of one user's daily activity is ~9,000 rows.
CREATE TABLE archived_subjects (
  subject_kind TEXT NOT NULL,  -- 'user_id' or 'email_fingerprint' (never a raw address)
  subject      TEXT NOT NULL,
  hour         TEXT NOT NULL,  -- archived_hours.hour
  PRIMARY KEY (subject_kind, subject, hour)
) WITHOUT ROWID;

-- An hour object being rewritten by an erasure: the new object's manifest, recorded (with the
-- rollup debit of the removed events) before the object is written, and dropped when the
-- manifest row takes it over. A run stopped between the two finds it and finishes the rewrite
-- without debiting twice.
CREATE TABLE archive_rewrites (
  hour       TEXT PRIMARY KEY,
  erasure_id TEXT NOT NULL,
  rows       INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  sha256     TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE erasures ADD COLUMN archived_deleted INTEGER NOT NULL DEFAULT 0;

-- Archived events an erasure removes leave the rollups as a deleted row does (the delete
-- triggers' rule), so every count stays that of the events that exist. A row inserted here is
-- debited by the triggers below and deleted in the same batch; the table is always empty.
CREATE TABLE archive_debits (
  ts           TEXT NOT NULL,
  event_type   TEXT NOT NULL,
  user_id      TEXT,
  success      INTEGER,
  error_code   TEXT,
  payload_json TEXT,
  sample_rate  REAL NOT NULL
);

CREATE TRIGGER trg_archive_debit_event AFTER INSERT ON archive_debits BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / NEW.sample_rate,
    amount = amount - COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate,
    sampled = sampled - (NEW.sample_rate < 1),
    errored = errored - (NEW.error_code IS NOT NULL) / NEW.sample_rate
  WHERE hour = substr(NEW.ts, 1, 13) AND event_type = NEW.event_type AND outcome = COALESCE(NEW.success, -1);
END;

CREATE TRIGGER trg_archive_debit_property AFTER INSERT ON archive_debits BEGIN
  UPDATE property_rollup SET n = n - 1.0 / NEW.sample_rate
  WHERE hour = substr(NEW.ts, 1, 13) AND event_type = NEW.event_type
    AND (property, value) IN (SELECT p.property, json_extract(NEW.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = NEW.event_type);
END;

CREATE TRIGGER trg_archive_debit_currency AFTER INSERT ON archive_debits
WHEN json_extract(NEW.payload_json, '$.amount') IS NOT NULL BEGIN
  UPDATE currency_rollup SET
    amount = amount - json_extract(NEW.payload_json, '$.amount') / NEW.sample_rate,
    sampled = sampled - (NEW.sample_rate < 1)
  WHERE event_type = NEW.event_type AND hour = substr(NEW.ts, 1, 13)
    AND currency = COALESCE(json_extract(NEW.payload_json, '$.currency'), 'KRW');
END;

CREATE TRIGGER trg_archive_debit_event_day AFTER INSERT ON archive_debits BEGIN
  UPDATE event_day_rollup SET
    n = n - 1.0 / NEW.sample_rate,
    amount = amount - COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate,
    sampled = sampled - (NEW.sample_rate < 1),
    errored = errored - (NEW.error_code IS NOT NULL) / NEW.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(NEW.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = NEW.event_type AND outcome = COALESCE(NEW.success, -1);
END;

CREATE TRIGGER trg_archive_debit_property_day AFTER INSERT ON archive_debits BEGIN
  UPDATE property_day_rollup SET n = n - 1.0 / NEW.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(NEW.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = NEW.event_type
    AND (property, value) IN (SELECT p.property, json_extract(NEW.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = NEW.event_type);
END;

CREATE TRIGGER trg_archive_debit_usage AFTER INSERT ON archive_debits
WHEN NEW.user_id IS NOT NULL AND NEW.event_type IN (SELECT event_type FROM quota_action_types)
BEGIN
  UPDATE usage_rollup SET used = used - 1
  WHERE month = substr(datetime(NEW.ts, '+9 hours'), 1, 7) AND user_id = NEW.user_id
    AND action IN (SELECT q.action FROM quota_action_types AS q WHERE q.event_type = NEW.event_type
      AND (q.only_when_path IS NULL OR json_extract(NEW.payload_json, q.only_when_path) = q.only_when_value));
  DELETE FROM usage_rollup
  WHERE month = substr(datetime(NEW.ts, '+9 hours'), 1, 7) AND user_id = NEW.user_id AND used <= 0
    AND action IN (SELECT action FROM quota_action_types WHERE event_type = NEW.event_type);
END;
