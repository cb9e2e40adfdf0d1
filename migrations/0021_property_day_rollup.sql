-- Migration number: 0021 	 the "top value" KPIs' property counts per local day, as event_day_rollup (0017) keeps events.
-- A 90-day summary read ~2,160 hours of property_rollup per KPI; for the zones of
-- rollup_zones (UTC and Korea) it now reads 90 days. Writes add to it in the same
-- grouped upsert step as property_rollup (storage::sql::ROLL_UP_PROPERTY_DAYS);
-- deletes and updates keep it exact by the triggers below, as for property_rollup.
CREATE TABLE property_day_rollup (
  minutes    INTEGER NOT NULL,                -- the zone (rollup_zones)
  day        TEXT    NOT NULL,                -- its local date, 'YYYY-MM-DD'
  event_type TEXT    NOT NULL,
  property   TEXT    NOT NULL,
  value      TEXT    NOT NULL,
  n          REAL    NOT NULL DEFAULT 0,      -- Σ 1/sample_rate
  PRIMARY KEY (minutes, day, event_type, property, value)
) WITHOUT ROWID;

INSERT INTO property_day_rollup (minutes, day, event_type, property, value, n)
SELECT z.minutes, date(e.ts, z.minutes || ' minutes'), e.event_type, p.property,
       json_extract(e.payload_json, '$.' || p.property), SUM(1.0 / e.sample_rate)
FROM funnel_events AS e
JOIN rollup_properties AS p ON p.event_type = e.event_type
CROSS JOIN rollup_zones AS z
WHERE json_extract(e.payload_json, '$.' || p.property) IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

-- Rows of an archived hour (0020) leave D1 but stay counted, as in the other rollups.
CREATE TRIGGER trg_property_day_rollup_delete AFTER DELETE ON funnel_events
WHEN NOT EXISTS (SELECT 1 FROM archived_hours WHERE hour = substr(OLD.ts, 1, 13)) BEGIN
  UPDATE property_day_rollup SET n = n - 1.0 / OLD.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(OLD.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = OLD.event_type
    AND (property, value) IN (SELECT p.property, json_extract(OLD.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = OLD.event_type);
END;

CREATE TRIGGER trg_property_day_rollup_update AFTER UPDATE OF ts, event_type, sample_rate, payload_json ON funnel_events
BEGIN
  UPDATE property_day_rollup SET n = n - 1.0 / OLD.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(OLD.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = OLD.event_type
    AND (property, value) IN (SELECT p.property, json_extract(OLD.payload_json, '$.' || p.property)
                              FROM rollup_properties AS p WHERE p.event_type = OLD.event_type);
  INSERT INTO property_day_rollup (minutes, day, event_type, property, value, n)
  SELECT z.minutes, date(NEW.ts, z.minutes || ' minutes'), NEW.event_type, p.property,
         json_extract(NEW.payload_json, '$.' || p.property), 1.0 / NEW.sample_rate
  FROM rollup_properties AS p CROSS JOIN rollup_zones AS z
  WHERE p.event_type = NEW.event_type AND json_extract(NEW.payload_json, '$.' || p.property) IS NOT NULL
  ON CONFLICT (minutes, day, event_type, property, value) DO UPDATE SET n = n + excluded.n;
END;
