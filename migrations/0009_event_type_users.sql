-- Migration number: 0009 	 which users ever sent each event type, kept exact by triggers.
-- "Distinct users of these types over a range" has no rollup: a user active in
-- two hours must count once. Reading the range's index entries costs one per
-- event, which grows with stored events. This table lets the summary instead
-- visit each (type, user) pair once and seek the user's events in the range
-- (idx_funnel_events_user_type_ts): a cost that grows with users, not events.
-- storage::sql::DISTINCT_USERS picks whichever of the two reads less.
CREATE TABLE event_type_users (
  event_type TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  n          INTEGER NOT NULL,               -- stored rows of this type by this user (> 0)
  PRIMARY KEY (event_type, user_id)
) WITHOUT ROWID;

CREATE TRIGGER trg_event_type_users_insert AFTER INSERT ON funnel_events WHEN NEW.user_id IS NOT NULL BEGIN
  INSERT INTO event_type_users (event_type, user_id, n) VALUES (NEW.event_type, NEW.user_id, 1)
  ON CONFLICT (event_type, user_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER trg_event_type_users_delete AFTER DELETE ON funnel_events WHEN OLD.user_id IS NOT NULL BEGIN
  UPDATE event_type_users SET n = n - 1 WHERE event_type = OLD.event_type AND user_id = OLD.user_id;
  DELETE FROM event_type_users WHERE event_type = OLD.event_type AND user_id = OLD.user_id AND n <= 0;
END;

CREATE TRIGGER trg_event_type_users_update AFTER UPDATE OF event_type, user_id ON funnel_events BEGIN
  UPDATE event_type_users SET n = n - 1 WHERE event_type = OLD.event_type AND user_id = OLD.user_id;
  DELETE FROM event_type_users WHERE event_type = OLD.event_type AND user_id = OLD.user_id AND n <= 0;
  INSERT INTO event_type_users (event_type, user_id, n) SELECT NEW.event_type, NEW.user_id, 1
  WHERE NEW.user_id IS NOT NULL
  ON CONFLICT (event_type, user_id) DO UPDATE SET n = n + 1;
END;

-- Rows stored before this migration.
INSERT INTO event_type_users (event_type, user_id, n)
SELECT event_type, user_id, COUNT(*) FROM funnel_events WHERE user_id IS NOT NULL GROUP BY event_type, user_id;
