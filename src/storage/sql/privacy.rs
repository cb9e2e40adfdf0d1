//! The access log, erasure, suppression and the PII sweep.

use super::{Bind, Statement};
use crate::query::cursor::Position;

/// Column `i` of a serialized event row is `value ->> i`: these two positions
/// (checked against the record by a test) name the row's subjects.
macro_rules! row_fingerprint {
    () => {
        "value ->> 12"
    };
}
macro_rules! row_user {
    () => {
        "value ->> 9"
    };
}

/// True when the serialized row's subjects are not suppressed. The table is
/// usually empty: that is checked once per statement (an uncorrelated
/// subquery), and only otherwise two primary-key probes per row.
macro_rules! row_not_suppressed {
    () => {
        concat!(
            "(NOT EXISTS (SELECT 1 FROM suppressions) OR (",
            "NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_kind = 'email_fingerprint' AND subject = ",
            row_fingerprint!(),
            ") AND NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_kind = 'user_id' AND subject = ",
            row_user!(),
            ")))"
        )
    };
}

/// Ingest's insert: like [`super::INSERT_EVENTS`], but a row of a suppressed subject is not stored.
pub const INSERT_EVENTS_UNLESS_SUPPRESSED: &str = concat!(
    insert_event_rows!("?1"),
    row_not_suppressed!(),
    " ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
);

/// Which of the given subjects are suppressed. Binds: JSON `[[kind, subject], ...]`.
pub const SUPPRESSED_AMONG: &str = "\
SELECT subject_kind, subject FROM suppressions
WHERE (subject_kind, subject) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))";

// The access log.

/// Appends one entry. Binds: at, key name, route, kind, subject, rows.
pub const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (at, key_name, route, kind, subject, rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

const AUDIT_COLUMNS: &str =
    "SELECT id, at, key_name, route, kind, subject, rows FROM audit_log WHERE at >= ? AND at < ?";

/// One page of the access log, newest first (`limit + 1` rows).
pub fn list_audit(
    range: (&str, &str),
    key_name: Option<&str>,
    subject: Option<&str>,
    after: Option<&Position>,
    limit: usize,
) -> Statement {
    let mut s = Statement::with(AUDIT_COLUMNS, [Bind::text(range.0), Bind::text(range.1)]);
    if let Some(k) = key_name {
        s.push(" AND key_name = ?", [Bind::text(k)]);
    }
    if let Some(subject) = subject {
        s.push(" AND subject = ?", [Bind::text(subject)]);
    }
    if let Some(p) = after {
        s.push(
            " AND at <= ? AND (at < ? OR id < ?)",
            [Bind::text(&p.ts), Bind::text(&p.ts), Bind::Int(p.id)],
        );
    }
    s.push(" ORDER BY at DESC, id DESC LIMIT ?", [Bind::Int(limit as i64 + 1)]);
    s
}

/// Drops access-log entries older than `?1` (the cron, after AUDIT_RETENTION_DAYS).
pub const PRUNE_AUDIT: &str = "DELETE FROM audit_log WHERE at < ?1";

// Erasure.

/// Binds: id, subject kind, subject, suppress (0/1), requested_at, requested_by.
pub const INSERT_ERASURE: &str = "\
INSERT INTO erasures (id, subject_kind, subject, suppress, requested_at, requested_by)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Binds: subject kind, subject, erasure id, created_at.
pub const INSERT_SUPPRESSION: &str = "\
INSERT INTO suppressions (subject_kind, subject, erasure_id, created_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (subject_kind, subject) DO NOTHING";

const ERASURE_COLUMNS: &str = "SELECT id, subject_kind, subject, suppress, requested_at, requested_by, \
events_deleted, quarantine_deleted, finished_at FROM erasures";

/// One erasure. Binds: id.
pub const GET_ERASURE: &str = concat!(
    "SELECT id, subject_kind, subject, suppress, requested_at, requested_by, ",
    "events_deleted, quarantine_deleted, finished_at FROM erasures WHERE id = ?1"
);

/// Erasures with rows left, oldest first. Binds: limit.
pub fn unfinished_erasures(limit: usize) -> Statement {
    let mut s = Statement::new(ERASURE_COLUMNS);
    s.push(
        " WHERE finished_at IS NULL ORDER BY requested_at LIMIT ?",
        [Bind::Int(limit as i64)],
    );
    s
}

/// Up to ?2 events of an address. The delete triggers keep every rollup exact.
pub const ERASE_EVENTS_BY_FINGERPRINT: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE email_fingerprint = ?1 LIMIT ?2)";

/// Up to ?2 events of a user.
pub const ERASE_EVENTS_BY_USER: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE user_id = ?1 LIMIT ?2)";

/// Up to ?2 quarantined copies that carry an address's fingerprint.
pub const ERASE_QUARANTINE_BY_FINGERPRINT: &str = "\
DELETE FROM event_quarantine WHERE id IN (SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.email_fingerprint') = ?1 LIMIT ?2)";

/// Up to ?2 quarantined copies of a user (under any spelling senders use).
pub const ERASE_QUARANTINE_BY_USER: &str = "\
DELETE FROM event_quarantine WHERE id IN (SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.user_id') = ?1 UNION SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.userId') = ?1 UNION SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.sub') = ?1 LIMIT ?2)";

/// Adds a chunk's deletions; binds: id, events, quarantine rows, finished_at or NULL.
pub const RECORD_ERASURE_PROGRESS: &str = "\
UPDATE erasures SET events_deleted = events_deleted + ?2, quarantine_deleted = quarantine_deleted + ?3,
  finished_at = ?4 WHERE id = ?1";

// The PII sweep of rows stored before every string was scrubbed.

/// A job's progress. Binds: job.
pub const GET_JOB: &str = "SELECT job, after_id, changed, finished_at FROM maintenance_jobs WHERE job = ?1";

/// Records a job's progress. Binds: job, after_id, rows changed in this step, finished_at or NULL, updated_at.
pub const RECORD_JOB: &str = "\
INSERT INTO maintenance_jobs (job, after_id, changed, finished_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (job) DO UPDATE SET after_id = excluded.after_id, changed = changed + excluded.changed,
  finished_at = excluded.finished_at, updated_at = excluded.updated_at";

/// The next events to sweep. Binds: after id, limit.
pub const SWEEP_EVENTS_PAGE: &str = "\
SELECT id, error_message, payload_json FROM funnel_events WHERE id > ?1 ORDER BY id LIMIT ?2";

/// Rewrites swept events. Binds: JSON `[[id, error_message, payload_json], ...]`.
pub const SWEEP_EVENTS_WRITE: &str = "\
UPDATE funnel_events SET error_message = (SELECT u.value ->> 1 FROM json_each(?1) AS u WHERE u.value ->> 0 = funnel_events.id),
  payload_json = (SELECT u.value ->> 2 FROM json_each(?1) AS u WHERE u.value ->> 0 = funnel_events.id)
WHERE id IN (SELECT value ->> 0 FROM json_each(?1))";

/// The next quarantined copies to sweep. Binds: after id, limit.
pub const SWEEP_QUARANTINE_PAGE: &str = "\
SELECT id, event_json FROM event_quarantine WHERE id > ?1 ORDER BY id LIMIT ?2";

/// Rewrites swept copies. Binds: JSON `[[id, event_json], ...]`.
pub const SWEEP_QUARANTINE_WRITE: &str = "\
UPDATE event_quarantine SET event_json = (SELECT u.value ->> 1 FROM json_each(?1) AS u WHERE u.value ->> 0 = event_quarantine.id)
WHERE id IN (SELECT value ->> 0 FROM json_each(?1))";

#[cfg(test)]
mod tests {
    use crate::record::EventRow;

    #[test]
    fn the_suppression_guard_reads_the_rows_subject_columns() {
        assert_eq!(
            row_fingerprint!(),
            format!(
                "value ->> {}",
                EventRow::COLUMNS
                    .iter()
                    .position(|c| *c == "email_fingerprint")
                    .unwrap()
            )
        );
        assert_eq!(
            row_user!(),
            format!(
                "value ->> {}",
                EventRow::COLUMNS.iter().position(|c| *c == "user_id").unwrap()
            )
        );
    }
}
