//! Statements over `funnel_events` itself: the insert, the list and trace
//! reads, and the per-type/per-service aggregates of the overview, catalog
//! and funnels.

use super::{Bind, Statement, ONE_TYPE, RANGE, TYPE_LIST};
use crate::query::cursor::Position;
use crate::query::filter::EventFilter;
use crate::report::funnel::Breakdown;
use crate::security::fingerprint::EmailFilter;

/// Inserts the rows of [`crate::ingest::normalize::EventRow`] serialized as a
/// JSON array; an existing `(source, event_id)` is skipped. Returns the new keys.
pub const INSERT_EVENTS: &str = concat!(
    insert_event_rows!("?1"),
    "true ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
);

/// The health probe: proves D1 answers, reads no event data.
pub const HEALTH_PROBE: &str = "SELECT 1 AS ok";

/// The columns every event read returns, by [`crate::record::StoredEvent`]'s names.
const EVENT_COLUMNS: &str = concat!("SELECT ", event_select_columns!(), " FROM funnel_events");

const FINGERPRINT: &str = " AND email_fingerprint = ?";
const DOMAIN: &str = " AND email_domain = ?";
const TRACE: &str = " AND trace_id = ?";
const TENANT: &str = " AND tenant_id = ?";
const USER: &str = " AND user_id = ?";
const JOB: &str = " AND job_id = ?";
const SESSION: &str = " AND session_id = ?";
const SOURCE: &str = " AND source = ?";
const ERROR_CODE: &str = " AND error_code = ?";
/// `success=false`: a stored failure, or an event of a type named as a failure (`..._fail`,
/// `..._failed`) whatever its `success` says, as the trace counts it. Bind: JSON list of those types.
const FAILED: &str = " AND (success = 0 OR event_type IN (SELECT value FROM json_each(?)))";
/// `success=true`: a stored success of a type not named as a failure. Same bind.
const SUCCEEDED: &str = " AND success = 1 AND event_type NOT IN (SELECT value FROM json_each(?))";
/// Rows strictly after the cursor in `(ts DESC, id DESC)` order; `ts <= ?` lets the index bound the scan.
const AFTER_CURSOR: &str = " AND ts <= ? AND (ts < ? OR id < ?)";
const NEWEST_FIRST: &str = " ORDER BY ts DESC, id DESC LIMIT ?";

/// One page of the event list: `limit + 1` rows, so the caller knows whether another page exists.
pub fn list_events(filter: &EventFilter, after: Option<&Position>, limit: usize) -> Statement {
    let mut s = matching_events(EVENT_COLUMNS, filter, after);
    s.push(NEWEST_FIRST, [Bind::Int(limit as i64 + 1)]);
    s
}

/// The positions (`ts`, `id`) of the `skip + 1`th and `skip + 2`th events of
/// the list's order: the export's probe for where one request's rows end. The
/// same filter and index as [`list_events`], reading no other column.
pub fn event_positions_at(filter: &EventFilter, after: Option<&Position>, skip: usize) -> Statement {
    let mut s = matching_events("SELECT ts, id FROM funnel_events", filter, after);
    s.push(" ORDER BY ts DESC, id DESC LIMIT 2 OFFSET ?", [Bind::Int(skip as i64)]);
    s
}

/// `select` over the events of `filter` after the cursor `after` (no order yet).
fn matching_events(select: &'static str, filter: &EventFilter, after: Option<&Position>) -> Statement {
    let mut s = Statement::new(select);
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
        (USER, &filter.user_id),
        (JOB, &filter.job_id),
        (SESSION, &filter.session_id),
        (SOURCE, &filter.source),
        (ERROR_CODE, &filter.error_code),
    ] {
        if let Some(v) = value {
            s.push(fragment, [Bind::text(v)]);
        }
    }
    if let Some(success) = filter.success {
        let failure_types = Bind::json(&crate::catalog::failure_types());
        s.push(if success { SUCCEEDED } else { FAILED }, [failure_types]);
    }
    if let Some(p) = after {
        s.push(AFTER_CURSOR, [Bind::text(&p.ts), Bind::text(&p.ts), Bind::Int(p.id)]);
    }
    s
}

/// A trace's events, oldest first: `max + 1` at most, so the caller knows it was cut.
pub fn trace_events(trace_id: &str, max: usize) -> Statement {
    let mut s = Statement::new(EVENT_COLUMNS);
    s.push(
        " WHERE trace_id = ? ORDER BY ts, id LIMIT ?",
        [Bind::text(trace_id), Bind::Int(max as i64 + 1)],
    );
    s
}

/// Per event type of a funnel: each subject's first and last time at that step.
/// Binds: from, to, JSON array of the step event types.
pub const FUNNEL_STEPS: &str = "\
SELECT trace_id, user_id, event_type, MIN(ts) AS first_ts, MAX(ts) AS last_ts
FROM funnel_events
WHERE ts >= ? AND ts < ? AND event_type IN (SELECT value FROM json_each(?))
  AND (trace_id IS NOT NULL OR user_id IS NOT NULL)
GROUP BY trace_id, user_id, event_type";

/// [`FUNNEL_STEPS`] with each group's breakdown value as `group_value`
/// (`$value`: a column, or `json_extract(payload_json, ?4)`): the same rows
/// read, grouped the same way, so a breakdown costs what the funnel costs.
/// Binds: ?1 from, ?2 to, ?3 JSON array of the step event types, ?4 the property path.
macro_rules! funnel_steps_by {
    ($value:literal) => {
        concat!(
            "SELECT trace_id, user_id, event_type, MIN(ts) AS first_ts, MAX(ts) AS last_ts, MAX(",
            $value,
            ") AS group_value FROM funnel_events",
            " WHERE ts >= ?1 AND ts < ?2 AND event_type IN (SELECT value FROM json_each(?3))",
            " AND (trace_id IS NOT NULL OR user_id IS NOT NULL)",
            " GROUP BY trace_id, user_id, event_type"
        )
    };
}

/// The funnel's step rows, split by `by` when given.
pub fn funnel_steps(from: &str, to: &str, steps: &[&str], by: Option<Breakdown>) -> Statement {
    let range = [Bind::text(from), Bind::text(to), Bind::json(steps)];
    // Column names cannot be bound; each statement is a constant chosen by the enum.
    let sql = match by {
        None => return Statement::with(FUNNEL_STEPS, range),
        Some(Breakdown::EmailDomain) => funnel_steps_by!("email_domain"),
        Some(Breakdown::Source) => funnel_steps_by!("source"),
        Some(Breakdown::TenantId) => funnel_steps_by!("tenant_id"),
        Some(Breakdown::Property(name)) => {
            let mut s = Statement::with(funnel_steps_by!("json_extract(payload_json, ?4)"), range);
            s.binds.push(Bind::text(format!("$.{name}")));
            return s;
        }
    };
    Statement::with(sql, range)
}

/// The failures with an error code in the range of the funnel's subjects,
/// per subject: its latest time. A failure belongs to a subject when its trace
/// is a step trace, or, sent without a trace, when its user is a step user
/// (`report::funnel` maps it to that user's trace); any other failure could
/// not be counted. Each step subject costs a seek into an index of failures
/// only (migration 0017), so the read grows with the funnel's own events,
/// never with other events. Binds: ?1 from, ?2 to, ?3 JSON array of the step types.
pub const FUNNEL_ERRORS: &str = "\
WITH steps AS (
  SELECT trace_id, user_id FROM funnel_events
  WHERE ts >= ?1 AND ts < ?2 AND event_type IN (SELECT value FROM json_each(?3))
    AND (trace_id IS NOT NULL OR user_id IS NOT NULL)
)
SELECT trace_id, user_id, error_code, MAX(ts) AS last_ts FROM (
  SELECT trace_id, user_id, error_code, ts FROM funnel_events
  WHERE trace_id IN (SELECT trace_id FROM steps WHERE trace_id IS NOT NULL)
    AND error_code IS NOT NULL AND trace_id IS NOT NULL AND ts >= ?1 AND ts < ?2
  UNION ALL
  SELECT trace_id, user_id, error_code, ts FROM funnel_events
  WHERE user_id IN (SELECT user_id FROM steps WHERE user_id IS NOT NULL)
    AND error_code IS NOT NULL AND trace_id IS NULL AND user_id IS NOT NULL AND ts >= ?1 AND ts < ?2
) GROUP BY trace_id, user_id, error_code";

/// First and last time each listed event type was ever stored (one index seek each).
/// Binds: JSON array of event types.
pub const FIRST_LAST_SEEN: &str = "\
SELECT t.value AS event_type,
  (SELECT MIN(ts) FROM funnel_events WHERE event_type = t.value) AS first_seen,
  (SELECT MAX(ts) FROM funnel_events WHERE event_type = t.value) AS last_seen
FROM json_each(?) AS t";

/// Events per type over a range: whole hours from the rollup, the partial
/// edges from the rows (binds as [`super::hour_split`]: ?1, ?2 the rollup's
/// hours `[first, end)`, ?3 JSON `[[start, end], ...]` raw edges).
pub const COUNTS_BY_TYPE: &str = "\
SELECT event_type AS key, CAST(ROUND(SUM(n)) AS INTEGER) AS n, SUM(sampled) > 0 AS estimated FROM (
  SELECT event_type, n, sampled FROM event_rollup WHERE hour >= ?1 AND hour < ?2
  UNION ALL
  SELECT e.event_type, 1.0 / e.sample_rate, e.sample_rate < 1 FROM json_each(?3) AS seg
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(seg.value, '$[0]') AND e.ts < json_extract(seg.value, '$[1]')
) GROUP BY event_type HAVING ROUND(SUM(n)) > 0";

/// Events per service and type over a range (the overview's snapshot, its
/// totals and its top events), with how many of them failed: `success =
/// false`, an `error_code`, or a type named `*_fail`/`*_failed` (the trace's
/// rule, `catalog::is_failure_type`; ?4 is their JSON list). The range comes
/// as its local days (binds ?1–?3: `report::summary::DayBinds`, as
/// [`super::DAILY_ROLLUP_BY_TYPE`]): whole days of the day rollup's zones read
/// one row per type and outcome, other days their whole hours (`errored`
/// counts the rows with an error code, migration 0015), the partial edges
/// the rows. A 14-day overview in Seoul reads 14 day rows per type, not 336 hours.
pub const COUNTS_BY_SERVICE_AND_TYPE: &str = "\
SELECT service, event_type, CAST(ROUND(SUM(n)) AS INTEGER) AS n, CAST(ROUND(SUM(failed)) AS INTEGER) AS failed FROM (
  SELECT r.service AS service, r.event_type AS event_type, r.n AS n,
    CASE WHEN r.outcome = 0 OR r.event_type IN (SELECT value FROM json_each(?4)) THEN r.n ELSE r.errored END AS failed
  FROM json_each(?1) AS d
  CROSS JOIN event_rollup AS r ON r.hour >= json_extract(d.value, '$[1]') AND r.hour < json_extract(d.value, '$[2]')
  UNION ALL
  SELECT r.service, r.event_type, r.n,
    CASE WHEN r.outcome = 0 OR r.event_type IN (SELECT value FROM json_each(?4)) THEN r.n ELSE r.errored END
  FROM json_each(?3) AS d
  CROSS JOIN event_day_rollup AS r ON r.minutes = json_extract(d.value, '$[1]') AND r.day = json_extract(d.value, '$[2]')
  UNION ALL
  SELECT e.service, e.event_type, 1.0 / e.sample_rate,
    (COALESCE(e.success, 1) = 0 OR e.error_code IS NOT NULL OR e.event_type IN (SELECT value FROM json_each(?4)))
      / e.sample_rate
  FROM json_each(?2) AS d
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
) GROUP BY service, event_type HAVING ROUND(SUM(n)) > 0";
