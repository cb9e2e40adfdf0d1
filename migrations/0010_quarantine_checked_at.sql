-- Migration number: 0010 	 replays rotate through the pending quarantine.
-- A replay re-validated the 500 oldest pending events; once 500 of them could
-- never pass (a type that stays unknown, an address that was refused), newer
-- events were never looked at again. Each re-validation now records when it
-- ran, and a replay takes the events never checked first, then the ones
-- checked longest ago: every pending event is reached within
-- ceil(pending / 500) replays.
ALTER TABLE event_quarantine ADD COLUMN checked_at TEXT;  -- the latest replay that re-validated it (NULL: never)

DROP INDEX idx_event_quarantine_pending;
CREATE INDEX idx_event_quarantine_pending ON event_quarantine (checked_at, id) WHERE replayed_at IS NULL;
