-- The archive (src/archive, docs/api.md "Archive"): retention writes each expired UTC hour of
-- events to R2 as one gzip NDJSON object, verifies it, records it here, and only then deletes
-- the hour's rows. This is the manifest: one row per archived hour.
CREATE TABLE archived_hours (
  hour        TEXT PRIMARY KEY,  -- 'YYYY-MM-DDTHH' (UTC), substr(ts, 1, 13) of its events
  object_key  TEXT NOT NULL,     -- events/YYYY/MM/DD/HH.ndjson.gz
  rows        INTEGER NOT NULL,  -- events (lines) in the object
  bytes       INTEGER NOT NULL,  -- the object's size
  sha256      TEXT NOT NULL,     -- of the object's bytes, lowercase hex
  archived_at TEXT NOT NULL
) WITHOUT ROWID;

-- Rows of an archived hour leave D1 but stay counted: their delete no longer subtracts from the
-- rollups, so summaries over archived ranges still answer. Every other delete (erasure) still
-- subtracts. The bodies are those of 0014, 0006, 0015, 0017 and 0018; only the WHEN is new.
DROP TRIGGER trg_event_rollup_delete;
CREATE TRIGGER trg_event_rollup_delete AFTER DELETE ON funnel_events
WHEN NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13)) BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
END;

DROP TRIGGER trg_property_rollup_delete;
CREATE TRIGGER trg_property_rollup_delete AFTER DELETE ON funnel_events
WHEN NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13)) BEGIN
  UPDATE property_rollup SET n = n - 1.0 / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type
    AND (property, value) IN (SELECT p.property, json_extract(OLD.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = OLD.event_type);
END;

DROP TRIGGER trg_currency_rollup_delete;
CREATE TRIGGER trg_currency_rollup_delete AFTER DELETE ON funnel_events
WHEN json_extract(OLD.payload_json, '$.amount') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13)) BEGIN
  UPDATE currency_rollup SET
    amount = amount - json_extract(OLD.payload_json, '$.amount') / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1)
  WHERE event_type = OLD.event_type AND hour = substr(OLD.ts, 1, 13)
    AND currency = COALESCE(json_extract(OLD.payload_json, '$.currency'), 'KRW');
END;

DROP TRIGGER trg_event_day_rollup_delete;
CREATE TRIGGER trg_event_day_rollup_delete AFTER DELETE ON funnel_events
WHEN NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13)) BEGIN
  UPDATE event_day_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(OLD.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
END;

DROP TRIGGER trg_usage_rollup_delete;
CREATE TRIGGER trg_usage_rollup_delete AFTER DELETE ON funnel_events
WHEN OLD.user_id IS NOT NULL AND OLD.event_type IN (SELECT event_type FROM quota_action_types)
  AND NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13))
BEGIN
  UPDATE usage_rollup SET used = used - 1
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id
    AND action IN (SELECT q.action FROM quota_action_types AS q WHERE q.event_type = OLD.event_type
      AND (q.only_when_path IS NULL OR json_extract(OLD.payload_json, q.only_when_path) = q.only_when_value));
  DELETE FROM usage_rollup
  WHERE month = substr(datetime(OLD.ts, '+9 hours'), 1, 7) AND user_id = OLD.user_id AND used <= 0
    AND action IN (SELECT action FROM quota_action_types WHERE event_type = OLD.event_type);
END;
