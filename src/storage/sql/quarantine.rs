//! The quarantine: rejected events kept for listing and replay.

use super::{Bind, Statement, ONE_TYPE};
use crate::security::fingerprint::EmailFilter;
use crate::store::QuarantineQuery;

/// Keeps rejected events (already PII-free) for listing and replay; a copy
/// whose subject (fingerprint or user) is suppressed is kept nowhere.
pub const INSERT_QUARANTINE: &str = "\
INSERT INTO event_quarantine (received_at, source, event_type, event_id, header_trace_id, clock_skew_ms,
  errors_json, event_json)
SELECT json_extract(value, '$.received_at'), json_extract(value, '$.source'), json_extract(value, '$.event_type'),
  json_extract(value, '$.event_id'), json_extract(value, '$.header_trace_id'),
  json_extract(value, '$.clock_skew_ms'), json_extract(value, '$.errors_json'), json_extract(value, '$.event_json')
FROM json_each(?1)
WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_kind = 'email_fingerprint'
    AND subject = json_extract(value ->> 'event_json', '$.email_fingerprint'))
  AND NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_kind = 'user_id'
    AND subject = COALESCE(json_extract(value ->> 'event_json', '$.user_id'), json_extract(value ->> 'event_json', '$.userId'),
      json_extract(value ->> 'event_json', '$.sub')))
ON CONFLICT (source, event_id) DO NOTHING";

/// Rejected events per type received in `[from, to)`.
pub const REJECTIONS_BY_TYPE: &str = "\
SELECT event_type AS key, COUNT(*) AS n FROM event_quarantine
WHERE received_at >= ? AND received_at < ? GROUP BY event_type";

const QUARANTINE_COLUMNS: &str = "SELECT id, received_at, source, event_type, event_id, header_trace_id, \
clock_skew_ms, errors_json, event_json, replayed_at, checked_at FROM event_quarantine";
const QUARANTINE_RANGE: &str = " WHERE received_at >= ? AND received_at < ?";
const QUARANTINE_PENDING: &str = " AND replayed_at IS NULL";
const QUARANTINE_AFTER_CURSOR: &str = " AND received_at <= ? AND (received_at < ? OR id < ?)";
const QUARANTINE_NEWEST_FIRST: &str = " ORDER BY received_at DESC, id DESC LIMIT ?";

/// One page of quarantined events, newest first (`limit + 1` rows).
pub fn list_quarantine(q: &QuarantineQuery<'_>) -> Statement {
    let (range, event_type, pending_only, after, limit) = (
        (q.span.from.as_str(), q.span.to.as_str()),
        q.event_type,
        q.pending_only,
        q.after,
        q.limit,
    );
    let mut s = Statement::new(QUARANTINE_COLUMNS);
    s.push(QUARANTINE_RANGE, [Bind::text(range.0), Bind::text(range.1)]);
    if let Some(t) = event_type {
        s.push(ONE_TYPE, [Bind::text(t)]);
    }
    match q.email {
        // The copy's address is already its fingerprint and domain (migration 0012 indexes the fingerprint).
        Some(EmailFilter::Fingerprint(fp)) => s.push(
            " AND json_extract(event_json, '$.email_fingerprint') = ?",
            [Bind::text(fp)],
        ),
        Some(EmailFilter::Domain(d)) => s.push(" AND json_extract(event_json, '$.email_domain') = ?", [Bind::text(d)]),
        None => {}
    }
    if let Some(t) = q.trace_id {
        s.push(
            " AND (header_trace_id = ? OR json_extract(event_json, '$.trace_id') = ?)",
            [Bind::text(t), Bind::text(t)],
        );
    }
    if pending_only {
        s.push(QUARANTINE_PENDING, []);
    }
    if let Some(p) = after {
        s.push(
            QUARANTINE_AFTER_CURSOR,
            [Bind::text(&p.ts), Bind::text(&p.ts), Bind::Int(p.id)],
        );
    }
    s.push(QUARANTINE_NEWEST_FIRST, [Bind::Int(limit as i64 + 1)]);
    s
}

/// The pending quarantined events a replay re-validates next: never checked
/// first (oldest first), then those checked longest ago, so events that keep
/// failing cannot hide the ones behind them. Binds: limit.
pub const QUARANTINE_PENDING_NEXT: &str = "\
SELECT id, received_at, source, event_type, event_id, header_trace_id, clock_skew_ms, errors_json, event_json,
  replayed_at, checked_at
FROM event_quarantine WHERE replayed_at IS NULL ORDER BY checked_at, id LIMIT ?";

/// Marks replayed rows. Binds: replayed_at, JSON array of ids.
pub const QUARANTINE_MARK_REPLAYED: &str = "\
UPDATE event_quarantine SET replayed_at = ?
WHERE replayed_at IS NULL AND id IN (SELECT value FROM json_each(?))";

/// Records the latest validation of rows that still fail, and when it ran.
/// Binds: JSON array of `[id, errors_json]`, the replay's time.
pub const QUARANTINE_UPDATE_ERRORS: &str = "\
UPDATE event_quarantine
SET errors_json = (SELECT json_extract(u.value, '$[1]') FROM json_each(?1) AS u
                   WHERE json_extract(u.value, '$[0]') = event_quarantine.id),
  checked_at = ?2
WHERE replayed_at IS NULL AND id IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))";

/// Quarantined events still waiting for a replay.
pub const QUARANTINE_PENDING_COUNT: &str = "SELECT COUNT(*) AS n FROM event_quarantine WHERE replayed_at IS NULL";
