//! All SQL. Values are always bound (`?1`…), never spliced into the text.
//!
//! Batch inserts read one bound JSON array with `json_each`, so a 500-event
//! batch is one statement with one parameter: far under D1's 100-parameter
//! limit, and one round trip.

/// Inserts the rows of [`crate::ingest::normalize::EventRow`] serialized as a
/// JSON array; an existing `(source, event_id)` is skipped. Returns the new keys.
pub const INSERT_EVENTS: &str = "\
INSERT INTO funnel_events (ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id,
  job_id, user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code,
  error_message, payload_json)
SELECT json_extract(value, '$.ts'), json_extract(value, '$.occurred_at'), json_extract(value, '$.event_type'),
  json_extract(value, '$.service'), json_extract(value, '$.source'), json_extract(value, '$.event_id'),
  json_extract(value, '$.trace_id'), json_extract(value, '$.tenant_id'), json_extract(value, '$.job_id'),
  json_extract(value, '$.user_id'), json_extract(value, '$.session_id'), json_extract(value, '$.anonymous_id'),
  json_extract(value, '$.email_fingerprint'), json_extract(value, '$.email_domain'),
  json_extract(value, '$.success'), json_extract(value, '$.error_code'), json_extract(value, '$.error_message'),
  json_extract(value, '$.payload_json')
FROM json_each(?1) WHERE true
ON CONFLICT (source, event_id) DO NOTHING
RETURNING source, event_id";

/// Keeps rejected events (already PII-free) for listing and replay.
pub const INSERT_QUARANTINE: &str = "\
INSERT INTO event_quarantine (received_at, source, event_type, event_id, header_trace_id, clock_skew_ms,
  errors_json, event_json)
SELECT json_extract(value, '$.received_at'), json_extract(value, '$.source'), json_extract(value, '$.event_type'),
  json_extract(value, '$.event_id'), json_extract(value, '$.header_trace_id'),
  json_extract(value, '$.clock_skew_ms'), json_extract(value, '$.errors_json'), json_extract(value, '$.event_json')
FROM json_each(?1) WHERE true
ON CONFLICT (source, event_id) DO NOTHING";

/// The health probe: proves D1 answers, reads no event data.
pub const HEALTH_PROBE: &str = "SELECT 1 AS ok";

// ---------------------------------------------------------------------------
// Reads. Statements with optional filters are assembled from the constant
// fragments below; every value is a bound `?` (anonymous, bound in order).

use super::{Bind, Statement};
use crate::catalog::kpis::{Column, Measure, Outcome};
use crate::query::cursor::Position;
use crate::query::filter::EventFilter;
use crate::security::fingerprint::EmailFilter;

/// The columns every event read returns, in `StoredEvent`'s shape.
const EVENT_COLUMNS: &str = "SELECT id, ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id, \
job_id, user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code, error_message, \
payload_json FROM funnel_events";

const RANGE: &str = " WHERE ts >= ? AND ts < ?";
const ONE_TYPE: &str = " AND event_type = ?";
const TYPE_LIST: &str = " AND event_type IN (SELECT value FROM json_each(?))";
const FINGERPRINT: &str = " AND email_fingerprint = ?";
const DOMAIN: &str = " AND email_domain = ?";
const TRACE: &str = " AND trace_id = ?";
const TENANT: &str = " AND tenant_id = ?";
const SOURCE: &str = " AND source = ?";
const SUCCESS: &str = " AND success = ?";
const ERROR_CODE: &str = " AND error_code = ?";
/// Rows strictly after the cursor in `(ts DESC, id DESC)` order; `ts <= ?` lets the index bound the scan.
const AFTER_CURSOR: &str = " AND ts <= ? AND (ts < ? OR id < ?)";
const NEWEST_FIRST: &str = " ORDER BY ts DESC, id DESC LIMIT ?";

/// One page of the event list: `limit + 1` rows, so the caller knows whether another page exists.
pub fn list_events(filter: &EventFilter, after: Option<&Position>, limit: usize) -> Statement {
    let mut s = Statement::new(EVENT_COLUMNS);
    s.push(
        RANGE,
        [
            Bind::text(filter.range.from_stored()),
            Bind::text(filter.range.to_stored()),
        ],
    );
    match filter.types.as_slice() {
        [] => {}
        [one] => s.push(ONE_TYPE, [Bind::text(one)]),
        many => s.push(TYPE_LIST, [Bind::json(many)]),
    }
    match &filter.email {
        Some(EmailFilter::Fingerprint(fp)) => s.push(FINGERPRINT, [Bind::text(fp)]),
        Some(EmailFilter::Domain(domain)) => s.push(DOMAIN, [Bind::text(domain)]),
        None => {}
    }
    for (fragment, value) in [
        (TRACE, &filter.trace_id),
        (TENANT, &filter.tenant_id),
        (SOURCE, &filter.source),
        (ERROR_CODE, &filter.error_code),
    ] {
        if let Some(v) = value {
            s.push(fragment, [Bind::text(v)]);
        }
    }
    if let Some(success) = filter.success {
        s.push(SUCCESS, [Bind::Int(i64::from(success))]);
    }
    if let Some(p) = after {
        s.push(AFTER_CURSOR, [Bind::text(&p.ts), Bind::text(&p.ts), Bind::Int(p.id)]);
    }
    s.push(NEWEST_FIRST, [Bind::Int(limit as i64 + 1)]);
    s
}

/// Most events a trace timeline returns (one more is read to say it was cut).
pub const TRACE_MAX_EVENTS: usize = 1000;

/// A trace's events, oldest first.
pub fn trace_events(trace_id: &str) -> Statement {
    let mut s = Statement::new(EVENT_COLUMNS);
    s.push(
        " WHERE trace_id = ? ORDER BY ts, id LIMIT ?",
        [Bind::text(trace_id), Bind::Int(TRACE_MAX_EVENTS as i64 + 1)],
    );
    s
}

/// Events per local day and type. `?1` is a JSON array of `[date, start, end]` (stored timestamps).
pub const DAILY_COUNTS_BY_TYPE: &str = "\
SELECT json_extract(d.value, '$[0]') AS day, e.event_type AS key, COUNT(*) AS n
FROM json_each(?) AS d
JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
GROUP BY day, e.event_type";

/// Events per local day and service (the overview's timeline). Same binding as [`DAILY_COUNTS_BY_TYPE`].
pub const DAILY_COUNTS_BY_SERVICE: &str = "\
SELECT json_extract(d.value, '$[0]') AS day, e.service AS key, COUNT(*) AS n
FROM json_each(?) AS d
JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
GROUP BY day, e.service";

/// The statement computing one KPI measure over `[from, to)`: one row, column `value`.
pub fn measure(m: &Measure, from: &str, to: &str) -> Statement {
    let range = [Bind::text(from), Bind::text(to)];
    let types = |s: &mut Statement, events: &[&str]| {
        if !events.is_empty() {
            s.push(TYPE_LIST, [Bind::json(events)]);
        }
    };
    match m {
        Measure::Count { events, outcome } => {
            let mut s = Statement::new("SELECT COUNT(*) AS value FROM funnel_events");
            s.push(RANGE, range);
            types(&mut s, events);
            match outcome {
                Outcome::Any => {}
                Outcome::Success => s.push(SUCCESS, [Bind::Int(1)]),
                Outcome::Failure => s.push(SUCCESS, [Bind::Int(0)]),
            }
            s
        }
        Measure::Sum { events, property } => {
            let mut s = Statement::new("SELECT TOTAL(json_extract(payload_json, ?)) AS value FROM funnel_events");
            s.binds.push(Bind::text(format!("$.{property}")));
            s.push(RANGE, range);
            types(&mut s, events);
            s
        }
        Measure::Distinct { events, column } => {
            // Column names cannot be bound; each is a constant chosen by the enum.
            let select = match column {
                Column::UserId => "SELECT COUNT(DISTINCT user_id) AS value FROM funnel_events",
                Column::SessionId => "SELECT COUNT(DISTINCT session_id) AS value FROM funnel_events",
                Column::AnonymousId => "SELECT COUNT(DISTINCT anonymous_id) AS value FROM funnel_events",
                Column::EmailFingerprint => "SELECT COUNT(DISTINCT email_fingerprint) AS value FROM funnel_events",
                Column::TraceId => "SELECT COUNT(DISTINCT trace_id) AS value FROM funnel_events",
                Column::TenantId => "SELECT COUNT(DISTINCT tenant_id) AS value FROM funnel_events",
            };
            let mut s = Statement::new(select);
            s.push(RANGE, range);
            types(&mut s, events);
            s
        }
        Measure::Top { events, property } => {
            let path = format!("$.{property}");
            let mut s =
                Statement::new("SELECT json_extract(payload_json, ?) AS value, COUNT(*) AS n FROM funnel_events");
            s.binds.push(Bind::text(&path));
            s.push(RANGE, range);
            types(&mut s, events);
            s.push(
                " AND json_extract(payload_json, ?) IS NOT NULL GROUP BY 1 ORDER BY n DESC, value LIMIT 1",
                [Bind::text(path)],
            );
            s
        }
    }
}

/// Per event type of a funnel: each subject's first and last time at that step.
/// Binds: from, to, JSON array of the step event types.
pub const FUNNEL_STEPS: &str = "\
SELECT trace_id, user_id, event_type, MIN(ts) AS first_ts, MAX(ts) AS last_ts
FROM funnel_events
WHERE ts >= ? AND ts < ? AND event_type IN (SELECT value FROM json_each(?))
  AND (trace_id IS NOT NULL OR user_id IS NOT NULL)
GROUP BY trace_id, user_id, event_type";

/// Every failure with an error code in the range, per subject: its latest time.
pub const FUNNEL_ERRORS: &str = "\
SELECT trace_id, user_id, error_code, MAX(ts) AS last_ts
FROM funnel_events
WHERE error_code IS NOT NULL AND ts >= ? AND ts < ?
  AND (trace_id IS NOT NULL OR user_id IS NOT NULL)
GROUP BY trace_id, user_id, error_code";

/// First and last time each listed event type was ever stored (one index seek each).
/// Binds: JSON array of event types.
pub const FIRST_LAST_SEEN: &str = "\
SELECT t.value AS event_type,
  (SELECT MIN(ts) FROM funnel_events WHERE event_type = t.value) AS first_seen,
  (SELECT MAX(ts) FROM funnel_events WHERE event_type = t.value) AS last_seen
FROM json_each(?) AS t";

/// Events per type in `[from, to)`.
pub const COUNTS_BY_TYPE: &str = "\
SELECT event_type AS key, COUNT(*) AS n FROM funnel_events WHERE ts >= ? AND ts < ? GROUP BY event_type";

/// Rejected events per type received in `[from, to)`.
pub const REJECTIONS_BY_TYPE: &str = "\
SELECT event_type AS key, COUNT(*) AS n FROM event_quarantine
WHERE received_at >= ? AND received_at < ? GROUP BY event_type";

/// The overview's per-service snapshot over `[from, to)`; the last bind is the start of today.
pub const SERVICE_SNAPSHOT: &str = "\
SELECT service, COUNT(*) AS events, COUNT(DISTINCT user_id) AS users, COUNT(DISTINCT session_id) AS sessions,
  SUM(ts >= ?) AS today
FROM funnel_events WHERE ts >= ? AND ts < ? GROUP BY service";

/// Totals over `[from, to)`; the first bind is the start of today.
pub const TOTALS: &str = "\
SELECT COUNT(*) AS events, COUNT(DISTINCT user_id) AS users, COUNT(DISTINCT session_id) AS sessions,
  COALESCE(SUM(ts >= ?), 0) AS today
FROM funnel_events WHERE ts >= ? AND ts < ?";

/// Events per service and type over `[from, to)` (the snapshot's top events).
pub const COUNTS_BY_SERVICE_AND_TYPE: &str = "\
SELECT service, event_type, COUNT(*) AS n FROM funnel_events WHERE ts >= ? AND ts < ?
GROUP BY service, event_type";

// Quarantine.

const QUARANTINE_COLUMNS: &str = "SELECT id, received_at, source, event_type, event_id, header_trace_id, \
clock_skew_ms, errors_json, event_json, replayed_at FROM event_quarantine";
const QUARANTINE_RANGE: &str = " WHERE received_at >= ? AND received_at < ?";
const QUARANTINE_PENDING: &str = " AND replayed_at IS NULL";
const QUARANTINE_AFTER_CURSOR: &str = " AND received_at <= ? AND (received_at < ? OR id < ?)";
const QUARANTINE_NEWEST_FIRST: &str = " ORDER BY received_at DESC, id DESC LIMIT ?";

/// One page of quarantined events, newest first (`limit + 1` rows).
pub fn list_quarantine(
    range: (&str, &str),
    event_type: Option<&str>,
    pending_only: bool,
    after: Option<&Position>,
    limit: usize,
) -> Statement {
    let mut s = Statement::new(QUARANTINE_COLUMNS);
    s.push(QUARANTINE_RANGE, [Bind::text(range.0), Bind::text(range.1)]);
    if let Some(t) = event_type {
        s.push(ONE_TYPE, [Bind::text(t)]);
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

/// The oldest quarantined events not yet replayed. Binds: limit.
pub const QUARANTINE_PENDING_OLDEST: &str = "\
SELECT id, received_at, source, event_type, event_id, header_trace_id, clock_skew_ms, errors_json, event_json,
  replayed_at
FROM event_quarantine WHERE replayed_at IS NULL ORDER BY id LIMIT ?";

/// Marks replayed rows. Binds: replayed_at, JSON array of ids.
pub const QUARANTINE_MARK_REPLAYED: &str = "\
UPDATE event_quarantine SET replayed_at = ?
WHERE replayed_at IS NULL AND id IN (SELECT value FROM json_each(?))";

/// Records the latest validation of rows that still fail. Binds: JSON array of `[id, errors_json]`.
pub const QUARANTINE_UPDATE_ERRORS: &str = "\
UPDATE event_quarantine
SET errors_json = (SELECT json_extract(u.value, '$[1]') FROM json_each(?1) AS u
                   WHERE json_extract(u.value, '$[0]') = event_quarantine.id)
WHERE replayed_at IS NULL AND id IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))";

/// Quarantined events still waiting for a replay.
pub const QUARANTINE_PENDING_COUNT: &str = "SELECT COUNT(*) AS n FROM event_quarantine WHERE replayed_at IS NULL";
