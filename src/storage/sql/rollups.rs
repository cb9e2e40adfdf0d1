//! The rollups: what every write adds to them ([`MARK_NEW_ROWS`],
//! [`ROLL_UP_NEW_ROWS`]; deletes and updates keep them exact by triggers),
//! their reads (hourly `event_rollup`, `property_rollup`, `currency_rollup`;
//! `event_day_rollup` for whole local days of UTC and Seoul), and the KPI
//! measure statements, which read a rollup wherever it holds the answer and
//! the rows only for the partial hours at a range's edges.

use super::{Bind, Statement, RANGE, SUCCESS, TYPE_LIST};
use crate::catalog::kpis::{Column, Measure};

/// Weighted events, weighted `amount` and sampled rows per local day, event
/// type and outcome (1, 0, -1 when not given): whole local days of the day
/// rollup's zones from `event_day_rollup`, other days' whole hours from the
/// hourly rollup, the partial hours at the edges from the rows; each row
/// weighs 1/sample_rate (1 for unsampled types, so those counts are exact).
/// The summary's daily chart and every count and `amount` KPI of named types
/// come from this one read (`report::summary::daily_counts`, `from_daily`).
/// Binds ?1, ?2, ?3: `report::summary::DayBinds` (`hours`, `raw`, `zone_days`).
/// Rows group by the day's index and take its date only once per group:
/// reading the date out of the JSON for every rollup row cost ~40 % of the statement.
pub const DAILY_ROLLUP_BY_TYPE: &str = "\
SELECT json_extract(?1, '$[' || i || '][0]') AS day, key, outcome, SUM(n) AS n, TOTAL(amount) AS amount,
  SUM(sampled) AS sampled FROM (
  SELECT d.key AS i, r.event_type AS key, r.outcome AS outcome, r.n AS n, r.amount AS amount, r.sampled AS sampled
  FROM json_each(?1) AS d
  CROSS JOIN event_rollup AS r ON r.hour >= json_extract(d.value, '$[1]') AND r.hour < json_extract(d.value, '$[2]')
  UNION ALL
  SELECT json_extract(d.value, '$[0]'), r.event_type, r.outcome, r.n, r.amount, r.sampled
  FROM json_each(?3) AS d
  CROSS JOIN event_day_rollup AS r ON r.minutes = json_extract(d.value, '$[1]') AND r.day = json_extract(d.value, '$[2]')
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
  SELECT json_extract(d.value, '$[0]'), r.service, r.n, r.sampled
  FROM json_each(?3) AS d
  CROSS JOIN event_day_rollup AS r ON r.minutes = json_extract(d.value, '$[1]') AND r.day = json_extract(d.value, '$[2]')
  UNION ALL
  SELECT json_extract(d.value, '$[0]'), e.service, 1.0 / e.sample_rate, e.sample_rate < 1
  FROM json_each(?2) AS d
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
) GROUP BY i, key HAVING ROUND(SUM(n)) > 0";

pub use crate::report::summary::{in_event_rollup, DayBinds, DAY_ROLLUP_ZONES, ROLLUP_SUM_PROPERTY};

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

/// Per-currency sums of `properties.amount` over `[from, to)`: whole hours from
/// `currency_rollup` (migration 0014), the partial edges from the rows. Binds
/// as [`ROLLUP_COUNT`], with ?4 the property (`amount`, the one the rollup sums).
/// One row per currency: `currency`, `amount`, `estimated`.
const ROLLUP_MONEY: &str = "\
SELECT currency, TOTAL(x) AS amount, COALESCE(SUM(sampled), 0) > 0 AS estimated FROM (
  SELECT currency, amount AS x, sampled FROM currency_rollup
  WHERE event_type IN (SELECT value FROM json_each(?3)) AND hour >= ?1 AND hour < ?2
  UNION ALL
  SELECT COALESCE(json_extract(e.payload_json, '$.currency'), 'KRW'),
    json_extract(e.payload_json, '$.' || ?4) / e.sample_rate, e.sample_rate < 1 FROM json_each(?5) AS seg
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(seg.value, '$[0]') AND e.ts < json_extract(seg.value, '$[1]')
  WHERE e.event_type IN (SELECT value FROM json_each(?3)) AND json_extract(e.payload_json, '$.' || ?4) IS NOT NULL
) GROUP BY currency ORDER BY currency";

/// The statement of a [`Measure::Money`]: one row per currency (`currency`,
/// `amount` weighted by 1/sample_rate, `estimated`); a currency's amounts are
/// never added to another's. `amount` reads the currency rollup; any other
/// property reads the range's rows of the named types.
pub fn money_measure(events: &[&str], property: &str, from: &str, to: &str) -> Statement {
    if property == ROLLUP_SUM_PROPERTY && !events.is_empty() {
        return rollup_measure(ROLLUP_MONEY, events, Some(Bind::text(property)), from, to);
    }
    let path = format!("$.{property}");
    let mut s = Statement::new(
        "SELECT COALESCE(json_extract(payload_json, '$.currency'), 'KRW') AS currency, \
         TOTAL(json_extract(payload_json, ?) / sample_rate) AS amount, MIN(sample_rate) < 1 AS estimated \
         FROM funnel_events",
    );
    s.binds.push(Bind::text(&path));
    s.push(RANGE, [Bind::text(from), Bind::text(to)]);
    if !events.is_empty() {
        s.push(TYPE_LIST, [Bind::json(events)]);
    }
    s.push(
        " AND json_extract(payload_json, ?) IS NOT NULL GROUP BY 1 ORDER BY 1",
        [Bind::text(path)],
    );
    s
}

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

/// [`ROLLUP_TOP`] over a range cut into local days (binds ?1–?3:
/// `report::summary::DayBinds`; ?4 the JSON list of types, ?5 the property):
/// whole days of the day rollup's zones from `property_day_rollup`
/// (migration 0021), other days' whole hours from `property_rollup`, the
/// partial edges from the rows. A 90-day Seoul summary reads 90 days per
/// value, not 2,160 hours.
const ROLLUP_TOP_BY_DAYS: &str = "\
SELECT value, SUM(n) AS n, COALESCE(SUM(sampled), 0) > 0 AS estimated FROM (
  SELECT r.value AS value, r.n AS n, 0 AS sampled FROM json_each(?1) AS d
  CROSS JOIN property_rollup AS r ON r.hour >= json_extract(d.value, '$[1]') AND r.hour < json_extract(d.value, '$[2]')
  WHERE r.event_type IN (SELECT value FROM json_each(?4)) AND r.property = ?5
  UNION ALL
  SELECT r.value, r.n, 0 FROM json_each(?3) AS d
  CROSS JOIN property_day_rollup AS r ON r.minutes = json_extract(d.value, '$[1]') AND r.day = json_extract(d.value, '$[2]')
  WHERE r.event_type IN (SELECT value FROM json_each(?4)) AND r.property = ?5
  UNION ALL
  SELECT json_extract(e.payload_json, '$.' || ?5), 1.0 / e.sample_rate, e.sample_rate < 1 FROM json_each(?2) AS d
  CROSS JOIN funnel_events AS e ON e.ts >= json_extract(d.value, '$[1]') AND e.ts < json_extract(d.value, '$[2]')
  WHERE e.event_type IN (SELECT value FROM json_each(?4)) AND json_extract(e.payload_json, '$.' || ?5) IS NOT NULL
) GROUP BY value HAVING SUM(n) > 0 ORDER BY SUM(n) DESC, value LIMIT 1";

/// [`measure`] over a range given as its local days (`days`, in order,
/// covering `[from, to)`): a rolled-up "top value" reads the day rollup for
/// whole days of its zones; every other measure is [`measure`] itself.
pub fn measure_over_days(m: &Measure, from: &str, to: &str, days: &[crate::query::range::Day]) -> Statement {
    match m {
        Measure::Top { events, property } if is_rolled_up(events, property) && !days.is_empty() => {
            let b = crate::report::summary::days_json(days);
            Statement::with(
                ROLLUP_TOP_BY_DAYS,
                [
                    Bind::Text(b.hours),
                    Bind::Text(b.raw),
                    Bind::Text(b.zone_days),
                    Bind::json(events),
                    Bind::text(*property),
                ],
            )
        }
        _ => measure(m, from, to),
    }
}

fn is_rolled_up(events: &[&str], property: &str) -> bool {
    !events.is_empty() && events.iter().all(|e| ROLLUP_PROPERTIES.contains(&(*e, property)))
}

/// The binds of a read split into whole hours (from a rollup) and partial
/// edges (from the rows): the rollup's hours `[first, end)` ('' when none)
/// and the JSON `[[start, end], ...]` of the raw edges. An unparsable bound
/// reads everything from the rows.
pub fn hour_split(from: &str, to: &str) -> [Bind; 3] {
    let (Some(from_t), Some(to_t)) = (crate::time::parse_rfc3339(from), crate::time::parse_rfc3339(to)) else {
        return [Bind::text(""), Bind::text(""), Bind::json(&[[from, to]])];
    };
    let split = crate::query::range::split_by_hours(from_t, to_t);
    let (first, last) = split.hours.unwrap_or_default();
    let raw: Vec<[String; 2]> = split.raw.into_iter().map(|(s, e)| [s, e]).collect();
    [Bind::Text(first), Bind::Text(last), Bind::json(&raw)]
}

fn rollup_measure(sql: &'static str, events: &[&str], fourth: Option<Bind>, from: &str, to: &str) -> Statement {
    let [first, end, raw] = hour_split(from, to);
    Statement::with(sql, [first, end, Bind::json(events), fourth.unwrap_or(Bind::Null), raw])
}

/// Whether distinct users of these types come from the sketches (every
/// Distinct-users measure of named types: `storage::SqlStore::summary_rows`).
pub fn from_sketches(m: &Measure) -> bool {
    matches!(m, Measure::Distinct { events, column: Column::UserId } if !events.is_empty())
}

/// The statement computing one KPI measure over `[from, to)`: one row with
/// `value` (counts and sums weighted by 1/sample_rate) and `min_rate` (< 1
/// means sampled rows took part: the value is an estimate). A
/// [`Measure::Money`] answers one row per currency instead ([`money_measure`]).
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
        Measure::Money { events, property } => money_measure(events, property, from, to),
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
            s.binds.push(Bind::Real(crate::catalog::lowest_sample_rate(events)));
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

/// Before a write's inserts: remember the highest row id, so
/// [`ROLL_UP_NEW_ROWS`] after them reads exactly the rows this write inserted
/// (row ids only grow: SQLite gives a new row `MAX(id) + 1`). Every statement
/// of a write runs in one transaction, so no other write comes between.
pub const MARK_NEW_ROWS: &str =
    "UPDATE rollup_mark SET last_id = (SELECT COALESCE(MAX(id), 0) FROM funnel_events) WHERE k = 1";

/// After a write's inserts: add the rows above the mark to each rollup, one
/// grouped upsert per rollup instead of a trigger per row (migration 0015),
/// the monthly usage rollup's ([`super::ROLL_UP_USAGE`]) last.
/// A duplicate was never inserted, so it never counts. The rows are read by
/// rowid range; their `payload_json` is parsed once per statement that needs it.
pub const ROLL_UP_NEW_ROWS: [&str; 6] = [
    "INSERT INTO event_rollup (hour, event_type, outcome, service, n, amount, sampled, errored)
SELECT substr(ts, 1, 13), event_type, COALESCE(success, -1), MIN(service), SUM(1.0 / sample_rate),
  TOTAL(COALESCE(json_extract(payload_json, '$.amount'), 0) / sample_rate), SUM(sample_rate < 1),
  TOTAL((error_code IS NOT NULL) / sample_rate)
FROM funnel_events WHERE id > (SELECT last_id FROM rollup_mark WHERE k = 1)
GROUP BY 1, 2, 3
ON CONFLICT (hour, event_type, outcome) DO UPDATE SET
  n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled,
  errored = errored + excluded.errored",
    "INSERT INTO property_rollup (hour, event_type, property, value, n)
SELECT substr(e.ts, 1, 13), e.event_type, p.property, json_extract(e.payload_json, '$.' || p.property),
  SUM(1.0 / e.sample_rate)
FROM funnel_events AS e CROSS JOIN rollup_properties AS p ON p.event_type = e.event_type
WHERE e.id > (SELECT last_id FROM rollup_mark WHERE k = 1)
  AND json_extract(e.payload_json, '$.' || p.property) IS NOT NULL
GROUP BY 1, 2, 3, 4
ON CONFLICT (hour, event_type, property, value) DO UPDATE SET n = n + excluded.n",
    "INSERT INTO currency_rollup (hour, event_type, currency, amount, sampled)
SELECT substr(ts, 1, 13), event_type, COALESCE(json_extract(payload_json, '$.currency'), 'KRW'),
  TOTAL(json_extract(payload_json, '$.amount') / sample_rate), SUM(sample_rate < 1)
FROM funnel_events WHERE id > (SELECT last_id FROM rollup_mark WHERE k = 1)
  AND json_extract(payload_json, '$.amount') IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT (event_type, hour, currency) DO UPDATE SET
  amount = amount + excluded.amount, sampled = sampled + excluded.sampled",
    "INSERT INTO event_day_rollup (minutes, day, event_type, outcome, service, n, amount, sampled, errored)
SELECT z.minutes, date(e.ts, z.minutes || ' minutes'), e.event_type, COALESCE(e.success, -1), MIN(e.service),
  SUM(1.0 / e.sample_rate), TOTAL(COALESCE(json_extract(e.payload_json, '$.amount'), 0) / e.sample_rate),
  SUM(e.sample_rate < 1), TOTAL((e.error_code IS NOT NULL) / e.sample_rate)
FROM funnel_events AS e CROSS JOIN rollup_zones AS z
WHERE e.id > (SELECT last_id FROM rollup_mark WHERE k = 1)
GROUP BY 1, 2, 3, 4
ON CONFLICT (minutes, day, event_type, outcome) DO UPDATE SET
  n = n + excluded.n, amount = amount + excluded.amount, sampled = sampled + excluded.sampled,
  errored = errored + excluded.errored",
    "INSERT INTO property_day_rollup (minutes, day, event_type, property, value, n)
SELECT z.minutes, date(e.ts, z.minutes || ' minutes'), e.event_type, p.property,
  json_extract(e.payload_json, '$.' || p.property), SUM(1.0 / e.sample_rate)
FROM funnel_events AS e CROSS JOIN rollup_properties AS p ON p.event_type = e.event_type
CROSS JOIN rollup_zones AS z
WHERE e.id > (SELECT last_id FROM rollup_mark WHERE k = 1)
  AND json_extract(e.payload_json, '$.' || p.property) IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (minutes, day, event_type, property, value) DO UPDATE SET n = n + excluded.n",
    super::ROLL_UP_USAGE,
];

/// The hourly event rollup's statement of [`ROLL_UP_NEW_ROWS`]; every write runs it.
pub const ROLL_UP_EVENTS: &str = ROLL_UP_NEW_ROWS[0];
/// The property rollup's: only for writes holding a type of [`ROLLUP_PROPERTIES`].
pub const ROLL_UP_PROPERTIES: &str = ROLL_UP_NEW_ROWS[1];
/// The currency rollup's: only for writes holding an `amount`.
pub const ROLL_UP_CURRENCIES: &str = ROLL_UP_NEW_ROWS[2];
/// The day rollup's; every write runs it.
pub const ROLL_UP_DAYS: &str = ROLL_UP_NEW_ROWS[3];
/// The property day rollup's (migration 0021): with [`ROLL_UP_PROPERTIES`].
pub const ROLL_UP_PROPERTY_DAYS: &str = ROLL_UP_NEW_ROWS[4];

/// Empties the rollups, so [`ROLL_UP_NEW_ROWS`] after a mark of 0 rebuilds them
/// from every row (the bulk loader's rows, which no write rolled up).
pub const CLEAR_ROLLUPS: [&str; 8] = [
    "DELETE FROM event_rollup",
    "DELETE FROM event_day_rollup",
    "DELETE FROM property_rollup",
    "DELETE FROM property_day_rollup",
    "DELETE FROM currency_rollup",
    "DELETE FROM usage_rollup",
    "DELETE FROM usage_totals",
    "UPDATE rollup_mark SET last_id = 0 WHERE k = 1",
];
