-- Migration number: 0006 	 hourly counts of declared string properties (the "top value" KPIs), and a
-- covering index for distinct users per type and range.
-- The pairs listed here must match storage::sql::ROLLUP_PROPERTIES (a test checks).
CREATE TABLE rollup_properties (
  event_type TEXT NOT NULL,
  property   TEXT NOT NULL,
  PRIMARY KEY (event_type, property)
) WITHOUT ROWID;
INSERT INTO rollup_properties (event_type, property) VALUES ('command_executed', 'scope'), ('command_executed', 'action');

CREATE TABLE property_rollup (
  hour       TEXT NOT NULL,                  -- 'YYYY-MM-DDTHH', UTC
  event_type TEXT NOT NULL,
  property   TEXT NOT NULL,
  value      TEXT NOT NULL,
  n          REAL NOT NULL DEFAULT 0,        -- Σ 1/sample_rate
  PRIMARY KEY (hour, event_type, property, value)
) WITHOUT ROWID;

CREATE TRIGGER trg_property_rollup_insert AFTER INSERT ON funnel_events BEGIN
  INSERT INTO property_rollup (hour, event_type, property, value, n)
  SELECT substr(NEW.ts, 1, 13), NEW.event_type, p.property, json_extract(NEW.payload_json, '$.' || p.property),
         1.0 / NEW.sample_rate
  FROM rollup_properties AS p
  WHERE p.event_type = NEW.event_type AND json_extract(NEW.payload_json, '$.' || p.property) IS NOT NULL
  ON CONFLICT (hour, event_type, property, value) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER trg_property_rollup_delete AFTER DELETE ON funnel_events BEGIN
  UPDATE property_rollup SET n = n - 1.0 / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type
    AND (property, value) IN (SELECT p.property, json_extract(OLD.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = OLD.event_type);
END;

CREATE TRIGGER trg_property_rollup_update AFTER UPDATE OF ts, event_type, sample_rate, payload_json ON funnel_events
BEGIN
  UPDATE property_rollup SET n = n - 1.0 / OLD.sample_rate
  WHERE hour = substr(OLD.ts, 1, 13) AND event_type = OLD.event_type
    AND (property, value) IN (SELECT p.property, json_extract(OLD.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = OLD.event_type);
  INSERT INTO property_rollup (hour, event_type, property, value, n)
  SELECT substr(NEW.ts, 1, 13), NEW.event_type, p.property, json_extract(NEW.payload_json, '$.' || p.property),
         1.0 / NEW.sample_rate
  FROM rollup_properties AS p
  WHERE p.event_type = NEW.event_type AND json_extract(NEW.payload_json, '$.' || p.property) IS NOT NULL
  ON CONFLICT (hour, event_type, property, value) DO UPDATE SET n = n + excluded.n;
END;

INSERT INTO property_rollup (hour, event_type, property, value, n)
SELECT substr(e.ts, 1, 13), e.event_type, p.property, json_extract(e.payload_json, '$.' || p.property),
       SUM(1.0 / e.sample_rate)
FROM funnel_events AS e JOIN rollup_properties AS p ON p.event_type = e.event_type
WHERE json_extract(e.payload_json, '$.' || p.property) IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Distinct users of a type over a range read this index alone (no table lookups).
CREATE INDEX idx_funnel_events_type_ts_user ON funnel_events (event_type, ts, user_id);
