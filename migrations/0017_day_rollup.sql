-- Migration number: 0017 	 a daily rollup in the console's zones, so a 90-day summary reads 90 days, not 2,160 hours.
-- A local day in a zone east or west of UTC straddles two UTC days, so an
-- hourly rollup is the finest thing every zone can read: a 90-day chart read
-- ~2,160 hour rows per type and outcome. For the zones listed here (whole-hour
-- offsets without daylight saving: UTC, and Korea's +09:00, the console's
-- default) each row is also added to its local day. A read in another zone,
-- or of a partial day, reads the hours as before (storage::sql::DAY_ROLLUP_ZONES
-- lists the same offsets; a test checks).
CREATE TABLE rollup_zones (
  minutes INTEGER PRIMARY KEY CHECK (minutes % 60 = 0)   -- UTC offset of the zone's local time
);
INSERT INTO rollup_zones (minutes) VALUES (0), (540);

CREATE TABLE event_day_rollup (
  minutes    INTEGER NOT NULL,                -- the zone (rollup_zones)
  day        TEXT    NOT NULL,                -- its local date, 'YYYY-MM-DD'
  event_type TEXT    NOT NULL,
  outcome    INTEGER NOT NULL,                -- success: 1, 0, or -1 when not given
  service    TEXT    NOT NULL,
  n          REAL    NOT NULL DEFAULT 0,      -- as event_rollup
  amount     REAL    NOT NULL DEFAULT 0,
  sampled    INTEGER NOT NULL DEFAULT 0,
  errored    REAL    NOT NULL DEFAULT 0,
  PRIMARY KEY (minutes, day, event_type, outcome)
) WITHOUT ROWID;

-- Whole-hour offsets: every hour of the hourly rollup falls in exactly one local day.
INSERT INTO event_day_rollup (minutes, day, event_type, outcome, service, n, amount, sampled, errored)
SELECT z.minutes, date(r.hour || ':00:00', z.minutes || ' minutes'), r.event_type, r.outcome, MIN(r.service),
       SUM(r.n), TOTAL(r.amount), SUM(r.sampled), TOTAL(r.errored)
FROM event_rollup AS r CROSS JOIN rollup_zones AS z
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER trg_event_day_rollup_delete AFTER DELETE ON funnel_events BEGIN
  UPDATE event_day_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(OLD.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
END;

CREATE TRIGGER trg_event_day_rollup_update AFTER UPDATE OF ts, event_type, success, sample_rate, payload_json, error_code
ON funnel_events BEGIN
  UPDATE event_day_rollup SET
    n = n - 1.0 / OLD.sample_rate,
    amount = amount - COALESCE(json_extract(OLD.payload_json, '$.amount'), 0) / OLD.sample_rate,
    sampled = sampled - (OLD.sample_rate < 1),
    errored = errored - (OLD.error_code IS NOT NULL) / OLD.sample_rate
  WHERE (minutes, day) IN (SELECT z.minutes, date(OLD.ts, z.minutes || ' minutes') FROM rollup_zones AS z)
    AND event_type = OLD.event_type AND outcome = COALESCE(OLD.success, -1);
  INSERT INTO event_day_rollup (minutes, day, event_type, outcome, service, n, amount, sampled, errored)
  SELECT z.minutes, date(NEW.ts, z.minutes || ' minutes'), NEW.event_type, COALESCE(NEW.success, -1), NEW.service,
         1.0 / NEW.sample_rate, COALESCE(json_extract(NEW.payload_json, '$.amount'), 0) / NEW.sample_rate,
         NEW.sample_rate < 1, (NEW.error_code IS NOT NULL) / NEW.sample_rate
  FROM rollup_zones AS z WHERE true
  ON CONFLICT (minutes, day, event_type, outcome) DO UPDATE SET
    n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled,
    errored = errored + excluded.errored;
END;

-- A funnel's drop-off reasons are the failures of its own subjects: sought by
-- trace, or by user for failures sent without a trace. These indexes hold only
-- failures (a few percent of rows), so each of a funnel's subjects costs a
-- seek into a small index instead of a read of all its events.
CREATE INDEX idx_funnel_events_trace_failures ON funnel_events (trace_id, ts)
  WHERE error_code IS NOT NULL AND trace_id IS NOT NULL;
CREATE INDEX idx_funnel_events_user_failures ON funnel_events (user_id, ts)
  WHERE error_code IS NOT NULL AND trace_id IS NULL AND user_id IS NOT NULL;

-- Distinct users no longer read (event_type, ts, user_id) (sketches do); a
-- funnel's steps read (event_type, ts, trace_id, user_id) and nothing else, so
-- this index answers them alone, as it answers first/last seen and type filters.
DROP INDEX idx_funnel_events_type_ts_user;
CREATE INDEX idx_funnel_events_type_ts_subject ON funnel_events (event_type, ts, trace_id, user_id);
