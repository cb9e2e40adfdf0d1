//! Retention: the reads and writes of archiving expired hours (src/usecases/retention.rs),
//! and the prune once none is left.

/// The oldest events before ?1 (an hour's start, so hours come whole), oldest first; ?2 at most.
pub const EXPIRED_EVENTS: &str = concat!(
    "SELECT ",
    event_select_columns!(),
    " FROM funnel_events WHERE ts < ?1 ORDER BY ts, id LIMIT ?2"
);

/// The manifest's columns, by [`crate::archive::hour::ArchivedHour`]'s names.
macro_rules! manifest_columns {
    () => {
        "hour, object_key, rows, bytes, sha256, archived_at"
    };
}

/// The manifest rows of the hours in the JSON list ?1.
pub const ARCHIVED_HOURS_OF: &str = concat!(
    "SELECT ",
    manifest_columns!(),
    " FROM archived_hours WHERE hour IN (SELECT value FROM json_each(?1))"
);

/// The archived hours overlapping [?1, ?2) (stored instants), newest first; ?3 at most.
pub const ARCHIVED_HOURS_IN_RANGE: &str = concat!(
    "SELECT ",
    manifest_columns!(),
    " FROM archived_hours WHERE hour >= substr(?1, 1, 13) AND hour || ':00:00.000Z' < ?2 ORDER BY hour DESC LIMIT ?3"
);

/// Records (or, for an hour rewritten with late events, replaces) the manifest rows of the JSON
/// list ?1 of [`crate::archive::hour::ArchivedHour`]. Runs before the delete, in its batch: the
/// delete triggers skip archived hours, so the rollups keep counting their rows.
pub const RECORD_ARCHIVED_HOURS: &str = "\
INSERT INTO archived_hours (hour, object_key, rows, bytes, sha256, archived_at)
SELECT value ->> 'hour', value ->> 'object_key', value ->> 'rows', value ->> 'bytes', value ->> 'sha256',
       value ->> 'archived_at'
FROM json_each(?1) WHERE true
ON CONFLICT (hour) DO UPDATE SET object_key = excluded.object_key, rows = excluded.rows, bytes = excluded.bytes,
  sha256 = excluded.sha256, archived_at = excluded.archived_at";

/// The people (user id, address fingerprint) of the events of the JSON id list ?1, by hour: the
/// index an erasure reads to find the archived objects holding someone (migration 0022). Runs
/// before the delete, in its batch.
pub const RECORD_ARCHIVED_SUBJECTS: &str = "\
INSERT OR IGNORE INTO archived_subjects (subject_kind, subject, hour)
SELECT 'user_id', user_id, substr(ts, 1, 13) FROM funnel_events
  WHERE id IN (SELECT value FROM json_each(?1)) AND user_id IS NOT NULL
UNION SELECT 'email_fingerprint', email_fingerprint, substr(ts, 1, 13) FROM funnel_events
  WHERE id IN (SELECT value FROM json_each(?1)) AND email_fingerprint IS NOT NULL";

/// Deletes the events of the JSON id list ?1, and only those of an archived hour.
pub const DELETE_ARCHIVED_EVENTS: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT value FROM json_each(?1))
  AND substr(ts, 1, 13) IN (SELECT hour FROM archived_hours)";

/// The ids of the events still in D1 in [?1, ?2) (an hour): the export skips them in the
/// hour's object, as it read them from D1.
pub const EVENT_IDS_BETWEEN: &str = "SELECT id FROM funnel_events WHERE ts >= ?1 AND ts < ?2";

/// Once no expired event is left: drops old quarantine entries, old volume counters and
/// sketch parts of old hours (compaction merged them long ago). Rollups and merged sketches
/// stay: summaries over archived ranges still answer from them. Binds: ?1 the cutoff.
pub const PRUNE_EXPIRED: &[&str] = &[
    "DELETE FROM event_quarantine WHERE received_at < ?1",
    "DELETE FROM event_volume WHERE day < substr(?1, 1, 10)",
    "DELETE FROM sketch_parts WHERE hour < substr(?1, 1, 13)",
];
