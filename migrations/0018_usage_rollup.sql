-- Migration number: 0018 	 monthly usage per quota action and user, kept exact.
--
-- The usage reads (summary, over-quota, months) counted each month's metered
-- events per user by scanning them: their cost grew with the events. They now
-- read usage_rollup, one row per (quota month, action, user).
--
-- 1. quota_action_types: which event types each action counts, as data (the
--    triggers below cannot bind parameters). It mirrors
--    catalog::quotas::ACTIONS; tests/sql_plans.rs checks they are equal.
--    only_when_path/only_when_value: only events whose
--    json_extract(payload_json, only_when_path) = only_when_value count.
--    only_when_value has no declared type on purpose: no column affinity, so
--    the comparison is the one the bound value gets in the ingest guard.
-- 2. usage_rollup.month is the quota month: months start at midnight on the
--    1st in Asia/Seoul (catalog::quotas::MONTH_TIME_ZONE). Korea has kept
--    UTC+9 all year since 1988 (no daylight saving time), so the month of a
--    stored ts is substr(datetime(ts, '+9 hours'), 1, 7).
-- 3. Inserts are added once per write by storage::sql::ROLL_UP_USAGE (the rows
--    above rollup_mark, like migration 0015's rollups); deletes and updates of
--    funnel_events (retention, erasure, the demo's backdating, the PII sweep's
--    payload rewrite) subtract and add through the triggers below. A row
--    whose count falls to 0 is removed, so the table never keeps empty months.
-- 4. usage_totals: per (action, month), the users with usage and their summed
--    use, kept by triggers on usage_rollup itself (so every path that changes
--    it keeps them exact). With the index on (action, month, used), a summary
--    reads one row per month and seeks only the users who may be at their
--    limit, never every user of the month.
-- 5. The ingest guard (INSERT_METERED_EVENT) and one user's state
--    (QUOTA_STATE) still count funnel_events: a batch's earlier metered rows
--    must count for its later ones before the write's rollup runs.

CREATE TABLE quota_action_types (
  action          TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  only_when_path  TEXT,
  only_when_value,
  PRIMARY KEY (event_type, action)
) WITHOUT ROWID;

INSERT INTO quota_action_types (action, event_type, only_when_path, only_when_value) VALUES
  ('compile', 'compile_prompt', NULL, NULL),
  ('workflow_run', 'start_workflow', NULL, NULL),
  ('workflow_run', 'complete_step', NULL, NULL),
  ('ai_tool_access', 'tool_interaction', '$.action_type', 'use');

-- Keyed action first: a usage read is one action over a range of months.
CREATE TABLE usage_rollup (
  action  TEXT NOT NULL,
  month   TEXT NOT NULL,              -- quota month 'YYYY-MM' (Asia/Seoul)
  user_id TEXT NOT NULL,
  used    INTEGER NOT NULL,           -- counted events (unweighted, as the guard counts)
  PRIMARY KEY (action, month, user_id)
) WITHOUT ROWID;

INSERT INTO usage_rollup (action, month, user_id, used)
SELECT q.action, substr(datetime(e.ts, '+9 hours'), 1, 7), e.user_id, COUNT(*)
FROM quota_action_types AS q JOIN funnel_events AS e ON e.event_type = q.event_type
WHERE e.user_id IS NOT NULL
  AND (q.only_when_path IS NULL OR json_extract(e.payload_json, q.only_when_path) = q.only_when_value)
GROUP BY 1, 2, 3;

CREATE TRIGGER trg_usage_rollup_delete AFTER DELETE ON funnel_events
WHEN OLD.user_id IS NOT NULL AND OLD.event_type IN (SELECT event_type FROM quota_action_types)
BEGIN
  UPDATE usage_rollup SET used = used - 1
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id
    AND action IN (SELECT q.action FROM quota_action_types AS q WHERE q.event_type = OLD.event_type
      AND (q.only_when_path IS NULL OR json_extract(OLD.payload_json, q.only_when_path) = q.only_when_value));
  DELETE FROM usage_rollup
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id AND used <= 0
    AND action IN (SELECT action FROM quota_action_types WHERE event_type = OLD.event_type);
END;

CREATE TRIGGER trg_usage_rollup_update AFTER UPDATE OF ts, event_type, user_id, payload_json ON funnel_events
WHEN (OLD.user_id IS NOT NULL AND OLD.event_type IN (SELECT event_type FROM quota_action_types))
  OR (NEW.user_id IS NOT NULL AND NEW.event_type IN (SELECT event_type FROM quota_action_types))
BEGIN
  UPDATE usage_rollup SET used = used - 1
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id
    AND action IN (SELECT q.action FROM quota_action_types AS q WHERE q.event_type = OLD.event_type
      AND (q.only_when_path IS NULL OR json_extract(OLD.payload_json, q.only_when_path) = q.only_when_value));
  INSERT INTO usage_rollup (action, month, user_id, used)
  SELECT q.action, substr(datetime(NEW.ts, '+9 hours'), 1, 7), NEW.user_id, 1
  FROM quota_action_types AS q
  WHERE NEW.user_id IS NOT NULL AND q.event_type = NEW.event_type
    AND (q.only_when_path IS NULL OR json_extract(NEW.payload_json, q.only_when_path) = q.only_when_value)
  ON CONFLICT (action, month, user_id) DO UPDATE SET used = used + 1;
  DELETE FROM usage_rollup
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id AND used <= 0
    AND action IN (SELECT action FROM quota_action_types WHERE event_type = OLD.event_type);
END;

CREATE INDEX idx_usage_rollup_used ON usage_rollup (action, month, used);

CREATE TABLE usage_totals (
  action TEXT NOT NULL,
  month  TEXT NOT NULL,
  users  INTEGER NOT NULL,            -- usage_rollup rows of (action, month)
  used   INTEGER NOT NULL,            -- their summed used
  PRIMARY KEY (action, month)
) WITHOUT ROWID;

INSERT INTO usage_totals (action, month, users, used)
SELECT action, month, COUNT(*), SUM(used) FROM usage_rollup GROUP BY action, month;

CREATE TRIGGER trg_usage_totals_insert AFTER INSERT ON usage_rollup BEGIN
  INSERT INTO usage_totals (action, month, users, used) VALUES (NEW.action, NEW.month, 1, NEW.used)
  ON CONFLICT (action, month) DO UPDATE SET users = users + 1, used = used + excluded.used;
END;

CREATE TRIGGER trg_usage_totals_update AFTER UPDATE OF used ON usage_rollup BEGIN
  UPDATE usage_totals SET used = used + NEW.used - OLD.used WHERE action = NEW.action AND month = NEW.month;
END;

CREATE TRIGGER trg_usage_totals_delete AFTER DELETE ON usage_rollup BEGIN
  UPDATE usage_totals SET users = users - 1, used = used - OLD.used WHERE action = OLD.action AND month = OLD.month;
  DELETE FROM usage_totals WHERE action = OLD.action AND month = OLD.month AND users <= 0;
END;
