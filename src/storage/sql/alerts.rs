//! Alerts: what the rules read (the hourly rollup, last-seen seeks, the
//! quarantine's received index) and the incident table (migration 0019).

/// Each listed type's latest stored event (one index seek each on
/// `idx_funnel_events_type_ts`). Binds: ?1 JSON event types.
pub const LAST_SEEN_BY_TYPE: &str = "\
SELECT t.value AS event_type, (SELECT MAX(ts) FROM funnel_events WHERE event_type = t.value) AS last_seen
FROM json_each(?1) AS t";

/// Weighted events and failures of the listed types from the hourly rollup
/// only: hours in `[?2, ?3)` are the window, hours in `[?4, ?2)` the baseline.
/// A failure is `success = 0`, a type named as one (?5, JSON), or a row with
/// an error code (the overview's rule). Binds: ?1 JSON types, ?2 window
/// start hour, ?3 end hour, ?4 baseline start hour, ?5 JSON failure types.
pub const FAILURE_COUNTS: &str = "\
SELECT TOTAL(CASE WHEN hour >= ?2 THEN n END) AS window_events,
  TOTAL(CASE WHEN hour >= ?2 THEN failed END) AS window_failed,
  TOTAL(CASE WHEN hour < ?2 THEN n END) AS baseline_events,
  TOTAL(CASE WHEN hour < ?2 THEN failed END) AS baseline_failed
FROM (SELECT hour, n,
    CASE WHEN outcome = 0 OR event_type IN (SELECT value FROM json_each(?5)) THEN n ELSE errored END AS failed
  FROM event_rollup
  WHERE event_type IN (SELECT value FROM json_each(?1)) AND hour >= ?4 AND hour < ?3)";

/// Rows quarantined since ?1 (a range of `idx_event_quarantine_received`).
pub const QUARANTINED_SINCE: &str = "SELECT COUNT(*) AS n FROM event_quarantine WHERE received_at >= ?1";

/// Every open incident, oldest first.
pub const OPEN_INCIDENTS: &str = concat!(
    "SELECT id, rule, scope, opened_at, resolved_at, value, threshold, summary, ",
    "notified_at, resolve_notified_at FROM alert_incidents WHERE resolved_at IS NULL ORDER BY id"
);

/// Incidents resolved since ?1, latest first, ?2 at most.
pub const RECENT_INCIDENTS: &str = concat!(
    "SELECT id, rule, scope, opened_at, resolved_at, value, threshold, summary, ",
    "notified_at, resolve_notified_at FROM alert_incidents WHERE resolved_at >= ?1 ",
    "ORDER BY resolved_at DESC, id DESC LIMIT ?2"
);

/// Incidents that still owe a message (firing, or resolve) and changed since
/// ?1, oldest first, ?2 at most.
pub const OWED_INCIDENTS: &str = concat!(
    "SELECT id, rule, scope, opened_at, resolved_at, value, threshold, summary, ",
    "notified_at, resolve_notified_at FROM alert_incidents ",
    "WHERE (notified_at IS NULL OR (resolved_at IS NOT NULL AND resolve_notified_at IS NULL)) ",
    "AND COALESCE(resolved_at, opened_at) >= ?1 ORDER BY id LIMIT ?2"
);

/// Opens an incident unless one of its (rule, scope) is open (the partial unique index).
/// Binds: rule, scope, opened_at, value, threshold, summary.
pub const OPEN_INCIDENT: &str = "\
INSERT INTO alert_incidents (rule, scope, opened_at, value, threshold, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT DO NOTHING";

/// Resolves the open incidents of ?1 (JSON ids) at ?2.
pub const RESOLVE_INCIDENTS: &str = "\
UPDATE alert_incidents SET resolved_at = ?2
WHERE id IN (SELECT value FROM json_each(?1)) AND resolved_at IS NULL";

/// Records that every webhook took incident ?1's firing message at ?2.
pub const MARK_NOTIFIED: &str = "UPDATE alert_incidents SET notified_at = ?2 WHERE id = ?1 AND notified_at IS NULL";

/// Records that every webhook took incident ?1's resolve message at ?2.
pub const MARK_RESOLVE_NOTIFIED: &str =
    "UPDATE alert_incidents SET resolve_notified_at = ?2 WHERE id = ?1 AND resolve_notified_at IS NULL";

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT_COLUMNS: &str = "SELECT id, rule, scope, opened_at, resolved_at, value, threshold, summary, \
    notified_at, resolve_notified_at FROM alert_incidents";

    #[test]
    fn every_incident_read_selects_the_same_columns() {
        for sql in [OPEN_INCIDENTS, RECENT_INCIDENTS, OWED_INCIDENTS] {
            assert!(sql.starts_with(INCIDENT_COLUMNS), "{sql}");
        }
    }
}
