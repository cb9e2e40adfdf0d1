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
events_deleted, quarantine_deleted, archived_deleted, finished_at FROM erasures";

/// One erasure. Binds: id.
pub const GET_ERASURE: &str = concat!(
    "SELECT id, subject_kind, subject, suppress, requested_at, requested_by, ",
    "events_deleted, quarantine_deleted, archived_deleted, finished_at FROM erasures WHERE id = ?1"
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
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE email_fingerprint = ?1 LIMIT ?2) RETURNING id";

/// Up to ?2 events of a user.
pub const ERASE_EVENTS_BY_USER: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE user_id = ?1 LIMIT ?2) RETURNING id";

/// Before the delete of the same chunk (the same subquery, so the same rows): the rows of it in
/// an archived hour (a late event the next retention run would archive), whose delete the
/// triggers do not subtract (migration 0020), go through the rollups' debit (0022) instead.
/// `$column` is the subject's column (a column name cannot be bound).
macro_rules! debit_erased_events {
    ($column:literal) => {
        concat!(
            "INSERT INTO archive_debits (ts, event_type, user_id, success, error_code, payload_json, sample_rate)\n",
            "SELECT ts, event_type, user_id, success, error_code, payload_json, sample_rate FROM funnel_events\n",
            "WHERE id IN (SELECT id FROM funnel_events WHERE ",
            $column,
            " = ?1 LIMIT ?2)\n",
            "  AND substr(ts, 1, 13) IN (SELECT hour FROM archived_hours)"
        )
    };
}
pub const DEBIT_ERASED_EVENTS_BY_FINGERPRINT: &str = debit_erased_events!("email_fingerprint");
pub const DEBIT_ERASED_EVENTS_BY_USER: &str = debit_erased_events!("user_id");

/// (The erase statements return the ids they deleted: the caller counts those, as D1's
/// `changes` also counts the rollup triggers' writes.)
/// Up to ?2 quarantined copies that carry an address's fingerprint.
pub const ERASE_QUARANTINE_BY_FINGERPRINT: &str = "\
DELETE FROM event_quarantine WHERE id IN (SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.email_fingerprint') = ?1 LIMIT ?2) RETURNING id";

/// Up to ?2 quarantined copies of a user (under any spelling senders use).
pub const ERASE_QUARANTINE_BY_USER: &str = "\
DELETE FROM event_quarantine WHERE id IN (SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.user_id') = ?1 UNION SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.userId') = ?1 UNION SELECT id FROM event_quarantine
  WHERE json_extract(event_json, '$.sub') = ?1 LIMIT ?2) RETURNING id";

/// Adds a chunk's deletions; binds: id, events, quarantine rows, finished_at or NULL (D1 holds no
/// row of the subject). Finished only once no archived hour holds the subject either.
pub const RECORD_ERASURE_PROGRESS: &str = "\
UPDATE erasures SET events_deleted = events_deleted + ?2, quarantine_deleted = quarantine_deleted + ?3,
  finished_at = CASE WHEN NOT EXISTS (SELECT 1 FROM archived_subjects AS a
    WHERE a.subject_kind = erasures.subject_kind AND a.subject = erasures.subject) THEN ?4 END
  WHERE id = ?1";

// Erasure in the archive (src/usecases/erasure.rs): the hours whose objects hold the subject,
// and the two steps of rewriting one.

/// The manifests of up to ?3 archived hours holding subject ?2 of kind ?1, oldest first.
pub const ARCHIVED_HOURS_OF_SUBJECT: &str = "\
SELECT h.hour, h.object_key, h.rows, h.bytes, h.sha256, h.archived_at
FROM archived_subjects AS a JOIN archived_hours AS h ON h.hour = a.hour
WHERE a.subject_kind = ?1 AND a.subject = ?2 ORDER BY a.hour LIMIT ?3";

/// The pending rewrites of the hours in the JSON list ?1.
pub const ARCHIVE_REWRITES_OF: &str = "\
SELECT hour, erasure_id, rows, bytes, sha256 FROM archive_rewrites WHERE hour IN (SELECT value FROM json_each(?1))";

/// Step one of a rewrite: records the new object's manifest. Binds: hour, erasure id, rows, bytes, sha256.
pub const RECORD_ARCHIVE_REWRITE: &str = "\
INSERT OR REPLACE INTO archive_rewrites (hour, erasure_id, rows, bytes, sha256) VALUES (?1, ?2, ?3, ?4, ?5)";

/// ... in the same batch, debits the rollups by the removed events (the JSON list ?1 of stored
/// events; the triggers of archive_debits), then [`CLEAR_ARCHIVE_DEBITS`].
pub const DEBIT_ARCHIVED_EVENTS: &str = "\
INSERT INTO archive_debits (ts, event_type, user_id, success, error_code, payload_json, sample_rate)
SELECT value ->> 'ts', value ->> 'event_type', value ->> 'user_id', value ->> 'success',
       value ->> 'error_code', value ->> 'payload_json', value ->> 'sample_rate'
FROM json_each(?1)";

/// Empties the debit table once its insert triggers have debited the rollups.
pub const CLEAR_ARCHIVE_DEBITS: &str = "DELETE FROM archive_debits";

/// ... and counts them. Binds: erasure id, events removed.
pub const COUNT_ARCHIVED_ERASED: &str = "UPDATE erasures SET archived_deleted = archived_deleted + ?2 WHERE id = ?1";

/// Step two, once the new object is verified (its manifest replaces the hour's through
/// RECORD_ARCHIVED_HOURS): the pending rewrite goes. Binds: hour.
pub const FORGET_ARCHIVE_REWRITE: &str = "DELETE FROM archive_rewrites WHERE hour = ?1";

/// ... and the hour leaves the subject's index. Binds: hour, kind, subject.
pub const UNINDEX_ARCHIVED_SUBJECT: &str =
    "DELETE FROM archived_subjects WHERE hour = ?1 AND subject_kind = ?2 AND subject = ?3";

/// ... and finishes the erasure when no archived hour of the subject is left (D1's rows went first).
/// Binds: erasure id, finished_at.
pub const FINISH_ERASURE_IF_ARCHIVE_CLEAN: &str = "\
UPDATE erasures SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL AND NOT EXISTS
  (SELECT 1 FROM archived_subjects AS a WHERE a.subject_kind = erasures.subject_kind AND a.subject = erasures.subject)";

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
