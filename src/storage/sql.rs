//! All SQL. Values are always bound (`?1`…), never spliced into the text.
//!
//! Batch inserts read one bound JSON array with `json_each`, so a 500-event
//! batch is one statement with one parameter: far under D1's 100-parameter
//! limit, and one round trip.

/// `INSERT ... SELECT` of the rows in the bound JSON array `?1`, each an array in
/// [`crate::ingest::normalize::EventRow::COLUMNS`] order (element `i` is column
/// `i`; a test checks the two lists agree). Ends in `WHERE `: each statement
/// adds its own condition.
macro_rules! insert_event_rows {
    () => {
        concat!(
            "INSERT INTO funnel_events (ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id, ",
            "job_id, user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code, ",
            "error_message, payload_json, sample_rate) ",
            "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, ",
            "value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13, ",
            "value ->> 14, value ->> 15, value ->> 16, value ->> 17, value ->> 18 ",
            "FROM json_each(?1) WHERE "
        )
    };
}

/// Inserts the rows of [`crate::ingest::normalize::EventRow`] serialized as a
/// JSON array; an existing `(source, event_id)` is skipped. Returns the new keys.
pub const INSERT_EVENTS: &str = concat!(
    insert_event_rows!(),
    "true ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
);

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
use crate::catalog::kpis::{Column, Measure};
use crate::query::cursor::Position;
use crate::query::filter::EventFilter;
use crate::security::fingerprint::EmailFilter;

/// The columns every event read returns, in `StoredEvent`'s shape.
const EVENT_COLUMNS: &str = "SELECT id, ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id, \
job_id, user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code, error_message, \
payload_json, sample_rate FROM funnel_events";

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

/// Weighted events, weighted `amount` and sampled rows per local day, event
/// type and outcome (1, 0, -1 when not given): whole hours from the rollup,
/// the partial hours at the edges from the rows; each row weighs
/// 1/sample_rate (1 for unsampled types, so those counts are exact). The
/// summary's daily chart and every count and `amount` KPI of named types come
/// from this one read (`report::summary::daily_counts`, `from_daily`).
/// `?1`: JSON `[[date, first hour, end hour], ...]`, one per day in order;
/// `?2`: JSON `[[day index, start, end], ...]` (see `report::summary::days_json`).
/// Rows group by the day's index (json_each's `key`) and take its date only
/// once per group: reading the date out of the JSON for every rollup row
/// cost ~40 % of the statement.
pub const DAILY_ROLLUP_BY_TYPE: &str = "\
SELECT json_extract(?1, '$[' || i || '][0]') AS day, key, outcome, SUM(n) AS n, TOTAL(amount) AS amount,
  SUM(sampled) AS sampled FROM (
  SELECT d.key AS i, r.event_type AS key, r.outcome AS outcome, r.n AS n, r.amount AS amount, r.sampled AS sampled
  FROM json_each(?1) AS d
  CROSS JOIN event_rollup AS r ON r.hour >= json_extract(d.value, '$[1]') AND r.hour < json_extract(d.value, '$[2]')
  UNION ALL
  SELECT json_extract(d.value, '$[0]'), e.event_type, COALESCE(e.success, -1), 1.0 / e.sample_rate,
    COALESCE(json_extract(e.payload_json, '$.amount'), 0) / e.sample_rate, e.sample_rate < 1
  FROM json_each(?2) AS d
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
) GROUP BY i, key, outcome";

/// Events per local day and service (the overview's timeline). Same binding as [`DAILY_ROLLUP_BY_TYPE`].
pub const DAILY_COUNTS_BY_SERVICE: &str = "\
SELECT json_extract(?1, '$[' || i || '][0]') AS day, key, CAST(ROUND(SUM(n)) AS INTEGER) AS n,
  SUM(sampled) > 0 AS estimated FROM (
  SELECT d.key AS i, r.service AS key, r.n AS n, r.sampled AS sampled
  FROM json_each(?1) AS d
  CROSS JOIN event_rollup AS r ON r.hour >= json_extract(d.value, '$[1]') AND r.hour < json_extract(d.value, '$[2]')
  UNION ALL
  SELECT json_extract(d.value, '$[0]'), e.service, 1.0 / e.sample_rate, e.sample_rate < 1
  FROM json_each(?2) AS d
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
) GROUP BY i, key HAVING ROUND(SUM(n)) > 0";

/// The property the rollup sums (the revenue KPIs' `amount`); sums of others read the rows.
pub const ROLLUP_SUM_PROPERTY: &str = "amount";

// `CROSS JOIN` keeps SQLite's join order: the few edge segments (or days)
// drive index range reads on `ts`; otherwise the planner may walk every row
// of a type and test it against the segments.

/// A weighted total of event types over `[from, to)`: `$rollup` summed over the
/// rollup's whole hours plus `$row` summed over the rows of the partial edges.
/// Binds: ?1, ?2 rollup hours `[first, end)` ('' when none), ?3 JSON event types,
/// ?4 outcome (1, 0) or NULL for any, ?5 JSON `[[start, end], ...]` raw edges.
/// One row: `value`, `estimated`.
macro_rules! rollup_total {
    ($total:literal, $rollup:literal, $row:literal) => {
        concat!(
            "SELECT ",
            $total,
            " AS value, COALESCE(SUM(sampled), 0) > 0 AS estimated FROM (",
            " SELECT ",
            $rollup,
            " AS x, sampled FROM event_rollup",
            " WHERE hour >= ?1 AND hour < ?2 AND event_type IN (SELECT value FROM json_each(?3))",
            " AND (?4 IS NULL OR outcome = ?4)",
            " UNION ALL",
            " SELECT ",
            $row,
            ", e.sample_rate < 1 FROM json_each(?5) AS seg",
            " CROSS JOIN funnel_events AS e",
            " ON e.ts >= json_extract(seg.value, '$[0]') AND e.ts < json_extract(seg.value, '$[1]')",
            " WHERE e.event_type IN (SELECT value FROM json_each(?3)) AND (?4 IS NULL OR e.success = ?4))"
        )
    };
}

/// Weighted event count.
const ROLLUP_COUNT: &str = rollup_total!(
    "CAST(ROUND(COALESCE(SUM(x), 0)) AS INTEGER)",
    "n",
    "1.0 / e.sample_rate"
);

/// Weighted sum of `properties.amount`.
const ROLLUP_AMOUNT: &str = rollup_total!(
    "TOTAL(x)",
    "amount",
    "COALESCE(json_extract(e.payload_json, '$.amount'), 0) / e.sample_rate"
);

/// `(event type, property)` pairs whose values migration 0006 rolls up per hour
/// (`rollup_properties`); a "top value" KPI over one of them reads the rollup.
pub const ROLLUP_PROPERTIES: &[(&str, &str)] = &[("command_executed", "scope"), ("command_executed", "action")];

/// The most frequent value of a rolled-up property over `[from, to)`. Binds as
/// [`ROLLUP_COUNT`], with ?4 the property name.
const ROLLUP_TOP: &str = "\
SELECT value, SUM(n) AS n, COALESCE(SUM(sampled), 0) > 0 AS estimated FROM (
  SELECT value, n, 0 AS sampled FROM property_rollup
  WHERE hour >= ?1 AND hour < ?2 AND event_type IN (SELECT value FROM json_each(?3)) AND property = ?4
  UNION ALL
  SELECT json_extract(e.payload_json, '$.' || ?4), 1.0 / e.sample_rate, e.sample_rate < 1 FROM json_each(?5) AS seg
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(seg.value, '$[0]') AND e.ts < json_extract(seg.value, '$[1]')
  WHERE e.event_type IN (SELECT value FROM json_each(?3)) AND json_extract(e.payload_json, '$.' || ?4) IS NOT NULL
) GROUP BY value HAVING SUM(n) > 0 ORDER BY SUM(n) DESC, value LIMIT 1";

/// Whether the hourly `event_rollup` answers this measure: counts of named
/// types (per outcome) and sums of their [`ROLLUP_SUM_PROPERTY`].
pub fn in_event_rollup(m: &Measure) -> bool {
    match m {
        Measure::Count { events, .. } => !events.is_empty(),
        Measure::Sum { events, property } => !events.is_empty() && *property == ROLLUP_SUM_PROPERTY,
        Measure::Distinct { .. } | Measure::Top { .. } => false,
    }
}

fn is_rolled_up(events: &[&str], property: &str) -> bool {
    !events.is_empty() && events.iter().all(|e| ROLLUP_PROPERTIES.contains(&(*e, property)))
}

fn rollup_measure(sql: &'static str, events: &[&str], fourth: Option<Bind>, from: &str, to: &str) -> Statement {
    let (Some(from_t), Some(to_t)) = (crate::time::parse_rfc3339(from), crate::time::parse_rfc3339(to)) else {
        return Statement::with(
            sql,
            [
                Bind::text(""),
                Bind::text(""),
                Bind::json(events),
                Bind::Null,
                Bind::json(&[[from, to]]),
            ],
        );
    };
    let split = crate::query::range::split_by_hours(from_t, to_t);
    let (first, last) = split.hours.unwrap_or_default();
    let raw: Vec<[String; 2]> = split.raw.into_iter().map(|(s, e)| [s, e]).collect();
    Statement::with(
        sql,
        [
            Bind::Text(first),
            Bind::Text(last),
            Bind::json(events),
            fourth.unwrap_or(Bind::Null),
            Bind::json(&raw),
        ],
    )
}

/// The catalog's lowest sampling rate among `events` (all types when empty):
/// below 1, sampled rows may take part in a distinct count, which is then a
/// lower bound. Reading `sample_rate` per row would cost the covering index
/// its table-free read.
fn lowest_sample_rate(events: &[&str]) -> f64 {
    let rates: Vec<f64> = if events.is_empty() {
        crate::catalog::EVENTS.iter().map(|e| e.sample_rate).collect()
    } else {
        events
            .iter()
            .filter_map(|e| crate::catalog::find(e))
            .map(|e| e.sample_rate)
            .collect()
    };
    rates.into_iter().fold(1.0, f64::min)
}

/// A user-pair visit costs about this many range entries: a seek into
/// `idx_funnel_events_user_type_ts` against one step of a range scan that also
/// feeds COUNT(DISTINCT)'s temporary b-tree. Measured on the bench's data
/// (python3 + sqlite3, best of 5): 600 visits 1.05 ms against 2,000 entries
/// 1.15 ms at 10k events (≈ 3 entries a visit), 600 visits 2.2 ms against
/// 200,000 entries 57 ms at 1M (≈ 13, on a 600 MB database); 6 sits
/// between, and either read is at most ~2× off where the two are close.
pub const USER_VISIT_COST: i64 = 6;

/// Distinct users of the types `?3` over `[?1, ?2)`, exactly, by the cheaper of
/// two reads, chosen inside the statement from two cheap counts:
/// - the range's events of those types (from the hourly rollup, an estimate)
///   → read them through `idx_funnel_events_type_ts_user` (one entry each);
/// - the `(type, user)` pairs ever stored (`event_type_users`), times
///   [`USER_VISIT_COST`] → visit each pair and seek its events in the range.
///
/// The first grows with the range's events, the second with users: at a
/// million events the second keeps the summary flat. `?4` is bound as
/// `min_rate`, `?5` is [`USER_VISIT_COST`]. One row: `value`, `min_rate`.
pub const DISTINCT_USERS: &str = concat!(
    "SELECT CASE WHEN ",
    "(SELECT COUNT(*) FROM event_type_users WHERE event_type IN (SELECT value FROM json_each(?3))) * ?5",
    " < (SELECT COALESCE(SUM(n), 0) FROM event_rollup WHERE event_type IN (SELECT value FROM json_each(?3))",
    " AND hour >= substr(?1, 1, 13) AND hour <= substr(?2, 1, 13))",
    " THEN (SELECT COUNT(DISTINCT u.user_id) FROM event_type_users AS u",
    " WHERE u.event_type IN (SELECT value FROM json_each(?3)) AND EXISTS (SELECT 1 FROM funnel_events AS e",
    " WHERE e.user_id = u.user_id AND e.event_type = u.event_type AND e.ts >= ?1 AND e.ts < ?2))",
    " ELSE (SELECT COUNT(DISTINCT user_id) FROM funnel_events",
    " WHERE ts >= ?1 AND ts < ?2 AND event_type IN (SELECT value FROM json_each(?3)))",
    " END AS value, ?4 AS min_rate"
);

/// The statement computing one KPI measure over `[from, to)`: one row with
/// `value` (counts and sums weighted by 1/sample_rate) and `min_rate` (< 1
/// means sampled rows took part: the value is an estimate).
pub fn measure(m: &Measure, from: &str, to: &str) -> Statement {
    let range = [Bind::text(from), Bind::text(to)];
    let types = |s: &mut Statement, events: &[&str]| {
        if !events.is_empty() {
            s.push(TYPE_LIST, [Bind::json(events)]);
        }
    };
    match m {
        // Counts and `amount` sums of named types read the hourly rollup: flat in stored events.
        Measure::Count { events, outcome } if in_event_rollup(m) => {
            rollup_measure(ROLLUP_COUNT, events, outcome.success().map(Bind::Int), from, to)
        }
        Measure::Top { events, property } if is_rolled_up(events, property) => {
            rollup_measure(ROLLUP_TOP, events, Some(Bind::text(*property)), from, to)
        }
        Measure::Sum { events, .. } if in_event_rollup(m) => rollup_measure(ROLLUP_AMOUNT, events, None, from, to),
        Measure::Count { events, outcome } => {
            let mut s = Statement::new(
                "SELECT CAST(ROUND(COALESCE(SUM(1.0 / sample_rate), 0)) AS INTEGER) AS value, MIN(sample_rate) AS min_rate \
                 FROM funnel_events",
            );
            s.push(RANGE, range);
            types(&mut s, events);
            if let Some(success) = outcome.success() {
                s.push(SUCCESS, [Bind::Int(success)]);
            }
            s
        }
        Measure::Sum { events, property } => {
            let mut s = Statement::new(
                "SELECT TOTAL(json_extract(payload_json, ?) / sample_rate) AS value, MIN(sample_rate) AS min_rate \
                 FROM funnel_events",
            );
            s.binds.push(Bind::text(format!("$.{property}")));
            s.push(RANGE, range);
            types(&mut s, events);
            s
        }
        Measure::Distinct {
            events,
            column: Column::UserId,
        } if !events.is_empty() => Statement::with(
            DISTINCT_USERS,
            [
                Bind::text(from),
                Bind::text(to),
                Bind::json(events),
                Bind::Real(lowest_sample_rate(events)),
                Bind::Int(USER_VISIT_COST),
            ],
        ),
        Measure::Distinct { events, column } => {
            // Column names cannot be bound; each is a constant chosen by the enum.
            let select = match column {
                Column::UserId => "SELECT COUNT(DISTINCT user_id) AS value, ? AS min_rate FROM funnel_events",
                Column::SessionId => "SELECT COUNT(DISTINCT session_id) AS value, ? AS min_rate FROM funnel_events",
                Column::AnonymousId => "SELECT COUNT(DISTINCT anonymous_id) AS value, ? AS min_rate FROM funnel_events",
                Column::EmailFingerprint => {
                    "SELECT COUNT(DISTINCT email_fingerprint) AS value, ? AS min_rate FROM funnel_events"
                }
                Column::TraceId => "SELECT COUNT(DISTINCT trace_id) AS value, ? AS min_rate FROM funnel_events",
                Column::TenantId => "SELECT COUNT(DISTINCT tenant_id) AS value, ? AS min_rate FROM funnel_events",
            };
            let mut s = Statement::new(select);
            s.binds.push(Bind::Real(lowest_sample_rate(events)));
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
SELECT event_type AS key, CAST(ROUND(SUM(1.0 / sample_rate)) AS INTEGER) AS n, MIN(sample_rate) < 1 AS estimated
FROM funnel_events WHERE ts >= ? AND ts < ? GROUP BY event_type";

/// Rejected events per type received in `[from, to)`.
pub const REJECTIONS_BY_TYPE: &str = "\
SELECT event_type AS key, COUNT(*) AS n FROM event_quarantine
WHERE received_at >= ? AND received_at < ? GROUP BY event_type";

/// The overview's per-service snapshot over `[from, to)`; the last bind is the start of today.
pub const SERVICE_SNAPSHOT: &str = "\
SELECT service, CAST(ROUND(SUM(1.0 / sample_rate)) AS INTEGER) AS events, COUNT(DISTINCT user_id) AS users,
  COUNT(DISTINCT session_id) AS sessions, CAST(ROUND(SUM((ts >= ?) / sample_rate)) AS INTEGER) AS today
FROM funnel_events WHERE ts >= ? AND ts < ? GROUP BY service";

/// Totals over `[from, to)`; the first bind is the start of today.
pub const TOTALS: &str = "\
SELECT CAST(ROUND(COALESCE(SUM(1.0 / sample_rate), 0)) AS INTEGER) AS events, COUNT(DISTINCT user_id) AS users,
  COUNT(DISTINCT session_id) AS sessions, CAST(ROUND(COALESCE(SUM((ts >= ?) / sample_rate), 0)) AS INTEGER) AS today
FROM funnel_events WHERE ts >= ? AND ts < ?";

/// Events per service and type over `[from, to)` (the snapshot's top events).
pub const COUNTS_BY_SERVICE_AND_TYPE: &str = "\
SELECT service, event_type, CAST(ROUND(SUM(1.0 / sample_rate)) AS INTEGER) AS n FROM funnel_events
WHERE ts >= ? AND ts < ? GROUP BY service, event_type";

// Quarantine.

const QUARANTINE_COLUMNS: &str = "SELECT id, received_at, source, event_type, event_id, header_trace_id, \
clock_skew_ms, errors_json, event_json, replayed_at, checked_at FROM event_quarantine";
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

// Sampling volume and quotas.

/// Adds a batch's valid events received and kept per `(day, type)`. Binds: JSON `[[day, type, received, kept], ...]`.
pub const UPSERT_VOLUME: &str = "\
INSERT INTO event_volume (day, event_type, received, kept)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
FROM json_each(?1) WHERE true
ON CONFLICT (day, event_type) DO UPDATE SET received = received + excluded.received, kept = kept + excluded.kept";

/// Received and kept valid events per type over `[from day, to day]` (inclusive UTC days).
pub const VOLUME_BY_TYPE: &str = "\
SELECT event_type AS key, SUM(received) AS received, SUM(kept) AS kept FROM event_volume
WHERE day >= ? AND day <= ? GROUP BY event_type";

// The quota statements share one binding, so usage and limits are computed
// the same way everywhere (the counter can never disagree with the usage API):
//   ?1 the row (JSON array of one EventRow; insert only)   ?2, ?3 the month [start, end)
//   ?4 JSON array of the action's event types              ?5, ?6 condition path and value, or NULL
//   ?7 user_id   ?8 the event's tenant_id or NULL   ?9 action   ?10, ?11, ?12 free, pro, team limits

/// A user's usage of the action in the month.
macro_rules! usage_count {
    ($user:literal) => {
        concat!(
            "(SELECT COUNT(*) FROM funnel_events WHERE user_id = ",
            $user,
            " AND event_type IN (SELECT value FROM json_each(?4)) AND ts >= ?2 AND ts < ?3",
            " AND (?5 IS NULL OR json_extract(payload_json, ?5) = ?6))"
        )
    };
}

/// The user's monthly limit: their override, else their tenant's (the event's
/// tenant, else the user's latest), else their plan's (latest `subscription`;
/// `free` after a cancel or without one).
macro_rules! quota_limit {
    ($user:literal) => {
        concat!(
            "COALESCE(",
            "(SELECT monthly_limit FROM quota_overrides WHERE subject_kind = 'user' AND subject_id = ",
            $user,
            " AND action = ?9), ",
            "(SELECT monthly_limit FROM quota_overrides WHERE subject_kind = 'tenant' AND action = ?9 AND subject_id = ",
            "COALESCE(?8, (SELECT tenant_id FROM funnel_events WHERE user_id = ",
            $user,
            " AND tenant_id IS NOT NULL ORDER BY ts DESC, id DESC LIMIT 1))), ",
            "(SELECT CASE WHEN json_extract(payload_json, '$.action') = 'cancel' THEN ?10",
            " WHEN json_extract(payload_json, '$.plan_type') = 'team' THEN ?12",
            " WHEN json_extract(payload_json, '$.plan_type') = 'pro' THEN ?11 ELSE ?10 END",
            " FROM funnel_events WHERE user_id = ",
            $user,
            " AND event_type = 'subscription' ORDER BY ts DESC, id DESC LIMIT 1), ",
            "?10)"
        )
    };
}

/// Stores one metered row only while the user is under the limit. D1 runs a
/// batch's statements one after another in one transaction, so each metered
/// row sees every row stored before it: concurrent ingests cannot overshoot.
pub const INSERT_METERED_EVENT: &str = concat!(
    insert_event_rows!(),
    usage_count!("?7"),
    " < ",
    quota_limit!("?7"),
    " ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
);

/// A user's usage and limit of one action in a month: one row `user_id, action, used, limit`.
pub const QUOTA_STATE: &str = concat!(
    "SELECT ?7 AS user_id, ?9 AS action, ",
    usage_count!("?7"),
    " AS used, ",
    quota_limit!("?7"),
    " AS \"limit\""
);

/// Every user who used the action in the month, with usage and limit. Same binding
/// (?1, ?7 and ?8 NULL: unused, as SQLite numbers parameters up to the highest).
pub const QUOTA_USERS: &str = concat!(
    "SELECT g.user_id AS user_id, ?9 AS action, g.used AS used, ",
    quota_limit!("g.user_id"),
    " AS \"limit\" FROM (SELECT user_id, COUNT(*) AS used FROM funnel_events",
    " WHERE event_type IN (SELECT value FROM json_each(?4)) AND ts >= ?2 AND ts < ?3",
    " AND (?5 IS NULL OR json_extract(payload_json, ?5) = ?6) AND user_id IS NOT NULL",
    " GROUP BY user_id) AS g ORDER BY g.used DESC, g.user_id"
);

/// Which of the given keys are stored. Binds: JSON `[[source, event_id], ...]`.
pub const EXISTING_KEYS: &str = "\
SELECT source, event_id FROM funnel_events
WHERE (source, event_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))";

/// Sets (or replaces) an override. Binds: kind, subject id, action, limit, updated_at.
pub const UPSERT_QUOTA_OVERRIDE: &str = "\
INSERT INTO quota_overrides (subject_kind, subject_id, action, monthly_limit, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (subject_kind, subject_id, action) DO UPDATE SET monthly_limit = excluded.monthly_limit,
  updated_at = excluded.updated_at";

/// Removes an override. Binds: kind, subject id, action.
pub const DELETE_QUOTA_OVERRIDE: &str =
    "DELETE FROM quota_overrides WHERE subject_kind = ?1 AND subject_id = ?2 AND action = ?3";

/// Every override.
pub const LIST_QUOTA_OVERRIDES: &str = "\
SELECT subject_kind, subject_id, action, monthly_limit, updated_at FROM quota_overrides
ORDER BY subject_kind, subject_id, action";

/// The binding of [`INSERT_METERED_EVENT`], [`QUOTA_STATE`] and [`QUOTA_USERS`].
pub fn quota_binds(
    row_json: Option<String>,
    month: (&str, &str),
    action: &crate::catalog::quotas::QuotaAction,
    user_id: Option<&str>,
    tenant_id: Option<&str>,
) -> Vec<Bind> {
    let (path, value) = match action.only_when {
        Some((prop, value)) => (Bind::text(format!("$.{prop}")), Bind::text(value)),
        None => (Bind::Null, Bind::Null),
    };
    vec![
        Bind::opt_text(row_json),
        Bind::text(month.0),
        Bind::text(month.1),
        Bind::json(action.events),
        path,
        value,
        Bind::opt_text(user_id),
        Bind::opt_text(tenant_id),
        Bind::text(action.name),
        Bind::Int(action.limits.free),
        Bind::Int(action.limits.pro),
        Bind::Int(action.limits.team),
    ]
}

// Retention.

/// Deletes up to ?2 of the oldest events before ?1; triggers keep the rollups right.
pub const DELETE_EXPIRED_EVENTS: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE ts < ?1 ORDER BY ts LIMIT ?2)";

/// Once no expired event is left: drops emptied rollup hours, old quarantine
/// entries and old volume counters. Binds: ?1 the cutoff.
pub const PRUNE_EXPIRED: &[&str] = &[
    "DELETE FROM event_rollup WHERE hour < substr(?1, 1, 13)",
    "DELETE FROM property_rollup WHERE hour < substr(?1, 1, 13)",
    "DELETE FROM event_quarantine WHERE received_at < ?1",
    "DELETE FROM event_volume WHERE day < substr(?1, 1, 10)",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::normalize::EventRow;

    /// The column list of an insert, and the element index each selected value reads.
    fn columns_and_elements(sql: &str) -> (Vec<String>, Vec<usize>) {
        let open = sql.find('(').unwrap();
        let close = sql[open..].find(')').unwrap() + open;
        let columns = sql[open + 1..close].split(',').map(|c| c.trim().to_string()).collect();
        let select = &sql[sql.find("SELECT ").unwrap() + 7..sql.find(" FROM json_each(?1)").unwrap()];
        let elements = select
            .split(',')
            .map(|e| e.trim().trim_start_matches("value ->> ").parse().unwrap())
            .collect();
        (columns, elements)
    }

    #[test]
    fn every_insert_reads_each_column_from_its_element_of_the_serialized_row() {
        let expected: Vec<String> = EventRow::COLUMNS.iter().map(|c| c.to_string()).collect();
        for sql in [INSERT_EVENTS, INSERT_METERED_EVENT] {
            let (columns, elements) = columns_and_elements(sql);
            assert_eq!(columns, expected);
            assert_eq!(elements, (0..expected.len()).collect::<Vec<_>>());
        }
    }
}
