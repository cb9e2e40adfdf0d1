-- Migration number: 0005 	 hourly rollups, kept exact by triggers, so summaries stay flat as events pile up.
-- One row per UTC hour, event type and outcome; every insert, delete and update
-- of funnel_events adjusts it in the same transaction, whatever the path
-- (ingest, metered ingest, quarantine replay, retention, the demo's backdating).
CREATE TABLE event_rollup (
  hour       TEXT    NOT NULL,               -- 'YYYY-MM-DDTHH', UTC (the first 13 chars of ts)
  event_type TEXT    NOT NULL,
  outcome    INTEGER NOT NULL,               -- success: 1, 0, or -1 when not given
  service    TEXT    NOT NULL,
  n          REAL    NOT NULL DEFAULT 0,     -- events: Σ 1/sample_rate
  amount     REAL    NOT NULL DEFAULT 0,     -- Σ properties.amount / sample_rate (revenue KPIs)
  sampled    INTEGER NOT NULL DEFAULT 0,     -- rows kept at a rate below 1 (the counts are estimates)
  PRIMARY KEY (hour, event_type, outcome)
) WITHOUT ROWID;

CREATE TRIGGER trg_event_rollup_insert AFTER INSERT ON funnel_events BEGIN
  INSERT INTO event_rollup (hour, event_type, outcome, service, n, amount, sampled)
  VALUES (substr(NEW.ts, 1, 13), NEW.event_type, COALESCE(NEW.success, -1), NEW.service, 1.0 / NEW.sample_rate,
          COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate, NEW.sample_rate < 1)
  ON CONFLICT (hour, event_type, outcome) DO UPDATE SET
    n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled;
END;

CREATE TRIGGER trg_event_rollup_delete AFTER DELETE ON funnel_events BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1)
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
END;

CREATE TRIGGER trg_event_rollup_update AFTER UPDATE OF ts, event_type, success, sample_rate, payload_json ON funnel_events
BEGIN
  UPDATE event_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1)
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
  INSERT INTO event_rollup (hour, event_type, outcome, service, n, amount, sampled)
  VALUES (substr(NEW.ts, 1, 13), NEW.event_type, COALESCE(NEW.success, -1), NEW.service, 1.0 / NEW.sample_rate,
          COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate, NEW.sample_rate < 1)
  ON CONFLICT (hour, event_type, outcome) DO UPDATE SET
    n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled;
END;

-- Rows stored before this migration.
INSERT INTO event_rollup (hour, event_type, outcome, service, n, amount, sampled)
SELECT substr(ts, 1, 13), event_type, COALESCE(success, -1), MIN(service), SUM(1.0 / sample_rate),
       SUM(COALESCE(json_extract(payload_json, '$.amount'), 0) / sample_rate), SUM(sample_rate < 1)
FROM funnel_events GROUP BY 1, 2, 3;
