-- Migration number: 0015 	 rollups added once per write instead of once per row, failures in the
-- hourly rollup, and mergeable sketches of distinct users and sessions.
--
-- 1. Insert triggers go. Four triggers ran for every inserted row (an upsert
--    each, three of them parsing payload_json): most of a batch insert's cost.
--    Every write that inserts events now marks the highest row id first
--    (storage::sql::MARK_NEW_ROWS) and, after its inserts, adds the rows above
--    the mark to the rollups with one grouped upsert per rollup
--    (storage::sql::ROLL_UP_NEW_ROWS): the rows it really inserted, so a
--    duplicate never counts. Deletes and updates (retention, erasure, the
--    demo's backdating) keep their triggers: they are rare and row-exact.
-- 2. event_rollup.errored: weighted rows with an error_code, so the
--    overview's failures per type read the rollup instead of the rows.
-- 3. event_type_users goes: distinct users now come from the sketches below.
-- 4. Sketches (HyperLogLog, src/sketch): sketch_parts holds what each write
--    added (one small sketch per hour, scope and kind); a compaction merges
--    parts into sketches per hour, UTC day and UTC month. They hold register
--    maxima of hashed identifiers, never an identifier.

DROP TRIGGER trg_event_rollup_insert;
DROP TRIGGER trg_property_rollup_insert;
DROP TRIGGER trg_currency_rollup_insert;

DROP TRIGGER trg_event_type_users_insert;
DROP TRIGGER trg_event_type_users_delete;
DROP TRIGGER trg_event_type_users_update;
DROP TABLE event_type_users;

-- The highest funnel_events.id before the current write's inserts (one row, k = 1).
CREATE TABLE rollup_mark (
  k       INTEGER PRIMARY KEY CHECK (k = 1),
  last_id INTEGER NOT NULL
);
INSERT INTO rollup_mark (k, last_id) VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM funnel_events));

ALTER TABLE event_rollup ADD COLUMN errored REAL NOT NULL DEFAULT 0;  -- Σ (error_code IS NOT NULL) / sample_rate

UPDATE event_rollup SET errored = x.errored
FROM (SELECT substr(ts, 1, 13) AS hour, event_type, COALESCE(success, -1) AS outcome,
             TOTAL(1.0 / sample_rate) AS errored
      FROM funnel_events WHERE error_code IS NOT NULL GROUP BY 1, 2, 3) AS x
WHERE event_rollup.hour = x.hour AND event_rollup.event_type = x.event_type AND event_rollup.outcome = x.outcome;

DROP TRIGGER trg_event_rollup_delete;
DROP TRIGGER trg_event_rollup_update;

CREATE TRIGGER trg_event_rollup_delete AFTER DELETE ON funnel_events BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
END;

CREATE TRIGGER trg_event_rollup_update AFTER UPDATE OF ts, event_type, success, sample_rate, payload_json, error_code
ON funnel_events BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
  INSERT INTO event_rollup (hour, event_type, outcome, service, n, amount, sampled, errored)
  VALUES (substr(NEW.ts, 1, 13), NEW.event_type, COALESCE(NEW.success, -1), NEW.service, 1.0 / NEW.sample_rate,
          COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate, NEW.sample_rate < 1,
          (NEW.error_code IS NOT NULL) / NEW.sample_rate)
  ON CONFLICT (hour, event_type, outcome) DO UPDATE SET
    n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled,
    errored = errored + excluded.errored;
END;

-- What each write added: one sketch per (hour, scope, kind) present in it.
-- scope: 's:<service>' or 't:<event type>'; kind: 'u' (user_id) or 's' (session_id).
CREATE TABLE sketch_parts (
  id    INTEGER PRIMARY KEY,
  hour  TEXT NOT NULL,                        -- 'YYYY-MM-DDTHH', UTC
  scope TEXT NOT NULL,
  kind  TEXT NOT NULL,
  regs  TEXT NOT NULL                         -- sketch::Hll::encode
);
CREATE INDEX idx_sketch_parts_key ON sketch_parts (kind, scope, hour);

-- Compacted sketches: period is an hour ('YYYY-MM-DDTHH'), a UTC day ('YYYY-MM-DD') or a UTC month ('YYYY-MM').
-- A rowid table: a dense sketch is ~22 KB, too large for a WITHOUT ROWID b-tree.
CREATE TABLE sketches (
  id     INTEGER PRIMARY KEY,
  kind   TEXT NOT NULL,
  scope  TEXT NOT NULL,
  period TEXT NOT NULL,
  regs   TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_sketches_key ON sketches (kind, scope, period);

-- A compaction writes only if every part it merged is still there (a CHECK
-- that fails rolls the whole write back): two compactions never lose a part.
CREATE TABLE sketch_compaction_guard (ok INTEGER NOT NULL CHECK (ok = 1));
