//! The summary: KPIs evaluated from the catalog's declarations, and
//! zero-filled daily counts per event type.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::kpis::{Better, Formula, Kpi, Lens, Measure, Unit, KPIS};
use crate::catalog::Text;
use crate::query::range::{split_by_hours, Day};

/// The property the hourly rollup sums (the revenue KPIs' `amount`, migration
/// 0005); sums of others read the rows.
pub const ROLLUP_SUM_PROPERTY: &str = "amount";

/// Whether the hourly `event_rollup` answers this measure: counts of named
/// types (per outcome) and sums of their [`ROLLUP_SUM_PROPERTY`].
pub fn in_event_rollup(m: &Measure) -> bool {
    match m {
        Measure::Count { events, .. } => !events.is_empty(),
        Measure::Sum { events, property } => !events.is_empty() && *property == ROLLUP_SUM_PROPERTY,
        Measure::Money { .. } | Measure::Distinct { .. } | Measure::Top { .. } => false,
    }
}

/// A row of `storage::sql::DAILY_ROLLUP_BY_TYPE`: one local day, event type and outcome.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DailyRollup {
    pub day: String,
    pub key: String,
    /// 1 success, 0 failure, -1 not given.
    pub outcome: i64,
    /// Events, each weighted 1/sample_rate.
    pub n: f64,
    /// `properties.amount`, each weighted 1/sample_rate.
    pub amount: f64,
    /// Rows kept at a rate below 1 that took part.
    pub sampled: i64,
}

/// A `(day, key, n)` row of the daily statements (key: event type or service).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DailyCount {
    pub day: String,
    pub key: String,
    pub n: i64,
    /// 1 when sampled rows took part: `n` is an estimate (weighted by 1/sample_rate).
    #[serde(default)]
    pub estimated: i64,
}

/// Keys whose counts are estimates (sampled rows took part somewhere in the range).
pub fn estimated_keys(counts: &[DailyCount]) -> Vec<String> {
    let mut keys: Vec<String> = counts
        .iter()
        .filter(|c| c.estimated != 0)
        .map(|c| c.key.clone())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DailyBucket {
    pub date: String,
    pub counts: BTreeMap<String, i64>,
}

/// UTC offsets (minutes) whose local days have a rollup of their own
/// (`event_day_rollup`, migration 0017, which lists the same offsets): UTC and
/// Korea (whole hours, no daylight saving).
pub const DAY_ROLLUP_ZONES: &[i64] = &[0, 540];

/// The three JSON arrays the daily statements bind
/// (`storage::sql::DAILY_ROLLUP_BY_TYPE`), one entry per day in order:
/// - `hours`: `[[date, first hour, end hour], ...]`, the whole hours read from
///   the hourly rollup (`["", ""]` when none fits or the day reads the day rollup);
/// - `raw`: `[[day index, start, end], ...]`, partial-hour edges read from the rows;
/// - `zone_days`: `[[day index, minutes, date], ...]`, whole local days of a
///   [`DAY_ROLLUP_ZONES`] zone, read from the day rollup (one row per type and outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayBinds {
    pub hours: String,
    pub raw: String,
    pub zone_days: String,
}

/// The day rollup's zone of a whole local day, if it has one.
fn rollup_zone(d: &Day) -> Option<i64> {
    if d.end - d.start != chrono::Duration::hours(24) {
        return None;
    }
    local_offset(d).filter(|offset| DAY_ROLLUP_ZONES.contains(offset))
}

/// Minutes east of UTC of the zone in which the day starts at its local midnight.
fn local_offset(d: &Day) -> Option<i64> {
    Some((d.date.and_hms_opt(0, 0, 0)? - d.start.naive_utc()).num_minutes())
}

/// The zone of [`DAY_ROLLUP_ZONES`] whose local days these are (every day
/// starting at its local midnight at the same offset), or 0: UTC. Reads of
/// sketches use its local days and months ([`crate::sketch::cover_in`]).
pub fn zone_of_days(days: &[Day]) -> i64 {
    let Some(first) = days.first().and_then(local_offset) else {
        return 0;
    };
    let same = days.iter().all(|d| local_offset(d) == Some(first));
    if same && DAY_ROLLUP_ZONES.contains(&first) {
        first
    } else {
        0
    }
}

pub fn days_json(days: &[Day]) -> DayBinds {
    let mut hours: Vec<(String, String, String)> = Vec::new();
    let mut raw: Vec<(usize, String, String)> = Vec::new();
    let mut zone_days: Vec<(usize, i64, String)> = Vec::new();
    for (i, d) in days.iter().enumerate() {
        if let Some(minutes) = rollup_zone(d) {
            hours.push((d.key.clone(), String::new(), String::new()));
            zone_days.push((i, minutes, d.date.to_string()));
            continue;
        }
        let split = split_by_hours(d.start, d.end);
        let (first, last) = split.hours.unwrap_or_default();
        hours.push((d.key.clone(), first, last));
        raw.extend(split.raw.into_iter().map(|(s, e)| (i, s, e)));
    }
    let json = "strings and numbers always serialize";
    DayBinds {
        hours: serde_json::to_string(&hours).expect(json),
        raw: serde_json::to_string(&raw).expect(json),
        zone_days: serde_json::to_string(&zone_days).expect(json),
    }
}

/// The chart's counts: per day and type over every outcome, rounded; types
/// with no (weighted) event that day are left out.
pub fn daily_counts(rows: &[DailyRollup]) -> Vec<DailyCount> {
    let mut sums: BTreeMap<(&str, &str), (f64, i64)> = BTreeMap::new();
    for r in rows {
        let sum = sums.entry((&r.day, &r.key)).or_default();
        sum.0 += r.n;
        sum.1 += r.sampled;
    }
    sums.into_iter()
        .map(|((day, key), (n, sampled))| DailyCount {
            day: day.to_string(),
            key: key.to_string(),
            n: n.round() as i64,
            estimated: i64::from(sampled > 0),
        })
        .filter(|c| c.n > 0)
        .collect()
}

/// A measure the hourly rollup answers ([`in_event_rollup`]) over the whole
/// range, from the day rows that cover it: no statement of its own. `None`
/// for any other measure.
pub fn from_daily(m: &Measure, rows: &[DailyRollup]) -> Option<Measured> {
    let (events, success) = match m {
        Measure::Count { events, outcome } if in_event_rollup(m) => (*events, outcome.success()),
        Measure::Sum { events, .. } if in_event_rollup(m) => (*events, None),
        _ => return None,
    };
    let matching = rows
        .iter()
        .filter(|r| events.contains(&r.key.as_str()) && success.is_none_or(|s| r.outcome == s));
    let (mut n, mut amount, mut sampled) = (0.0, 0.0, 0);
    for r in matching {
        n += r.n;
        amount += r.amount;
        sampled += r.sampled;
    }
    let value = match m {
        Measure::Count { .. } => Value::from(n.round() as i64),
        _ => serde_json::Number::from_f64(amount).map_or(Value::Null, Value::Number),
    };
    Some(Measured {
        value,
        estimate: sampled > 0,
    })
}

/// One day of a ratio KPI: its two parts that day and their quotient.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DailyRate {
    pub date: String,
    /// The numerator KPI's value that day (weighted by 1/sample_rate, rounded).
    pub numerator: i64,
    /// The denominator KPI's value that day.
    pub denominator: i64,
    /// `numerator / denominator` with four decimals; null on a day whose denominator is 0.
    pub value: Option<f64>,
}

/// The ratio KPIs of the catalog (fractions, not per-user counts) whose two
/// parts the day rollup answers ([`from_daily`]): each gets a daily series at
/// no extra read. A catalog test checks this is every fraction KPI.
pub fn daily_ratios() -> Vec<(&'static str, &'static Measure, &'static Measure)> {
    let measure_of = |id: &str| match crate::catalog::kpis::find(id).map(|k| &k.formula) {
        Some(Formula::Measure(m)) if in_event_rollup(m) => Some(m),
        _ => None,
    };
    KPIS.iter()
        .filter(|k| k.unit == Unit::Ratio)
        .filter_map(|k| match k.formula {
            Formula::Ratio { numerator, denominator } => Some((k.id, measure_of(numerator)?, measure_of(denominator)?)),
            Formula::Measure(_) => None,
        })
        .collect()
}

/// Every ratio KPI of [`daily_ratios`] per day of `days`, zero-safe: a day
/// without rows has 0 over 0 and a null value. Days are the local days of
/// the range, in order, the same as `daily`'s.
pub fn daily_rates(days: &[Day], rows: &[DailyRollup]) -> BTreeMap<&'static str, Vec<DailyRate>> {
    let mut by_day: HashMap<&str, Vec<DailyRollup>> = HashMap::new();
    for r in rows {
        by_day.entry(r.day.as_str()).or_default().push(r.clone());
    }
    let part = |m: &Measure, day_rows: &[DailyRollup]| -> i64 {
        from_daily(m, day_rows)
            .and_then(|v| v.value.as_f64())
            .map_or(0, |f| f.round() as i64)
    };
    daily_ratios()
        .into_iter()
        .map(|(id, numerator, denominator)| {
            let series = days
                .iter()
                .map(|d| {
                    let date = d.date.to_string();
                    let day_rows = by_day.get(date.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                    let (n, den) = (part(numerator, day_rows), part(denominator, day_rows));
                    let value = ratio(Some(&Value::from(n)), Some(&Value::from(den))).as_f64();
                    DailyRate {
                        date,
                        numerator: n,
                        denominator: den,
                        value,
                    }
                })
                .collect();
            (id, series)
        })
        .collect()
}

/// One bucket per day, every key seen anywhere in the range present (0 where absent).
pub fn zero_filled(days: &[Day], counts: &[DailyCount]) -> Vec<DailyBucket> {
    let keys: Vec<&str> = {
        let mut k: Vec<&str> = counts.iter().map(|c| c.key.as_str()).collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    let mut by_day: HashMap<&str, BTreeMap<String, i64>> = HashMap::new();
    for c in counts {
        *by_day.entry(&c.day).or_default().entry(c.key.clone()).or_default() += c.n;
    }
    days.iter()
        .map(|d| {
            let date = d.key.clone();
            let found = by_day.remove(date.as_str()).unwrap_or_default();
            let counts = keys
                .iter()
                .map(|k| (k.to_string(), found.get(*k).copied().unwrap_or(0)))
                .collect();
            DailyBucket { date, counts }
        })
        .collect()
}

/// Sums each key over all days.
pub fn totals(counts: &[DailyCount]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for c in counts {
        *out.entry(c.key.clone()).or_default() += c.n;
    }
    out
}

/// The KPIs whose value is read from storage, in catalog order.
pub fn measured() -> Vec<(&'static str, &'static Measure)> {
    KPIS.iter()
        .filter_map(|k| match &k.formula {
            Formula::Measure(m) => Some((k.id, m)),
            Formula::Ratio { .. } => None,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KpiValue {
    /// A number (count, sum, ratio in 0..=1), a string (top value), a per-currency list for money
    /// (`[{"currency": "KRW", "amount": n}, ...]`, won first), or null (no data / ratio of 0).
    #[schema(value_type = serde_json::Value)]
    pub value: Value,
    pub unit: Unit,
    pub lens: Lens,
    pub service: Option<&'static str>,
    pub label: Text,
    /// How the value is computed, as declared in the catalog.
    #[schema(value_type = Object)]
    pub formula: Formula,
    /// True when the value is an estimate: sampled events took part (counts
    /// and sums are scaled by 1/sample_rate), or distinct users come from
    /// sketches (HyperLogLog, standard error 0.8 %).
    pub estimate: bool,
    /// Which way a change of the value is good news (`lower` for failures and failure rates).
    pub better: Better,
}

/// One measured value and whether sampled rows took part in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub value: Value,
    pub estimate: bool,
}

/// Evaluates every KPI from the measured values (by KPI id); missing measures are null.
pub fn evaluate(measured: &HashMap<&str, Measured>) -> BTreeMap<&'static str, KpiValue> {
    let value_of = |id: &str| measured.get(id).map(|m| &m.value);
    let estimate_of = |id: &str| measured.get(id).is_some_and(|m| m.estimate);
    KPIS.iter()
        .map(|k| {
            let (value, estimate) = match &k.formula {
                Formula::Measure(_) => (
                    normalize(k, value_of(k.id).cloned().unwrap_or(Value::Null)),
                    estimate_of(k.id),
                ),
                Formula::Ratio { numerator, denominator } => (
                    ratio(value_of(numerator), value_of(denominator)),
                    estimate_of(numerator) || estimate_of(denominator),
                ),
            };
            (
                k.id,
                KpiValue {
                    value,
                    unit: k.unit,
                    lens: k.lens,
                    service: k.service,
                    label: k.label,
                    formula: k.formula,
                    estimate,
                    better: k.better,
                },
            )
        })
        .collect()
}

/// Counts are whole numbers; SQLite's TOTAL() answers a float. Money is a per-currency list.
fn normalize(kpi: &Kpi, v: Value) -> Value {
    match (kpi.unit, v.as_f64()) {
        (Unit::Count, Some(f)) => Value::from(f.round() as i64),
        _ => v,
    }
}

fn ratio(numerator: Option<&Value>, denominator: Option<&Value>) -> Value {
    match (numerator.and_then(Value::as_f64), denominator.and_then(Value::as_f64)) {
        (Some(n), Some(d)) if d > 0.0 => {
            // Four decimals: a percentage with two, without float noise.
            let r = (n / d * 10_000.0).round() / 10_000.0;
            serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::kpis::Outcome;
    use chrono::NaiveDate;

    fn day(d: u32) -> Day {
        let date = NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let start = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
        Day {
            key: date.to_string(),
            date,
            start,
            end: start + chrono::Duration::days(1),
        }
    }

    fn count(day: &str, key: &str, n: i64) -> DailyCount {
        DailyCount {
            day: day.into(),
            key: key.into(),
            n,
            estimated: 0,
        }
    }

    fn rollup(day: &str, key: &str, outcome: i64, n: f64, amount: f64, sampled: i64) -> DailyRollup {
        DailyRollup {
            day: day.into(),
            key: key.into(),
            outcome,
            n,
            amount,
            sampled,
        }
    }

    #[test]
    fn daily_counts_sum_the_outcomes_of_a_day_and_type_and_drop_empty_ones() {
        let rows = [
            rollup("2026-03-01", "a", 1, 2.0, 0.0, 0),
            rollup("2026-03-01", "a", 0, 10.0, 0.0, 1),
            rollup("2026-03-01", "b", -1, 0.4, 0.0, 1),
            rollup("2026-03-02", "a", -1, 3.0, 0.0, 0),
        ];
        let mut a1 = count("2026-03-01", "a", 12);
        a1.estimated = 1;
        assert_eq!(daily_counts(&rows), vec![a1, count("2026-03-02", "a", 3)]);
    }

    #[test]
    fn counts_and_amounts_of_named_types_come_from_the_day_rows_with_their_outcome() {
        let rows = [
            rollup("2026-03-01", "a", 1, 2.0, 100.0, 0),
            rollup("2026-03-01", "a", 0, 10.5, 0.0, 1),
            rollup("2026-03-02", "a", 1, 3.0, 50.0, 0),
            rollup("2026-03-02", "b", -1, 7.0, 1000.0, 0),
        ];
        let count_of = |events, outcome| from_daily(&Measure::Count { events, outcome }, &rows).unwrap();
        assert_eq!(
            count_of(&["a"], Outcome::Success),
            Measured {
                value: Value::from(5),
                estimate: false
            }
        );
        assert_eq!(
            count_of(&["a"], Outcome::Failure),
            Measured {
                value: Value::from(11),
                estimate: true
            }
        );
        assert_eq!(count_of(&["a", "b"], Outcome::Any).value, Value::from(23));
        assert_eq!(
            count_of(&["c"], Outcome::Any),
            Measured {
                value: Value::from(0),
                estimate: false
            }
        );
        let amount = from_daily(
            &Measure::Sum {
                events: &["a"],
                property: "amount",
            },
            &rows,
        )
        .unwrap();
        assert_eq!(amount.value, Value::from(150.0));
        assert!(amount.estimate, "a sampled row of the type took part");
    }

    #[test]
    fn distinct_top_and_unnamed_or_unrolled_measures_need_their_own_statement() {
        use crate::catalog::kpis::Column;
        let rows = [rollup("2026-03-01", "a", 1, 2.0, 0.0, 0)];
        for m in [
            Measure::Count {
                events: &[],
                outcome: Outcome::Any,
            },
            Measure::Sum {
                events: &["a"],
                property: "price",
            },
            Measure::Distinct {
                events: &["a"],
                column: Column::UserId,
            },
            Measure::Top {
                events: &["a"],
                property: "scope",
            },
        ] {
            assert!(!in_event_rollup(&m));
            assert_eq!(from_daily(&m, &rows), None);
        }
    }

    #[test]
    fn every_day_has_every_key_seen_in_the_range_zero_filled() {
        let days = [day(1), day(2), day(3)];
        let counts = [count("2026-03-01", "a", 2), count("2026-03-03", "b", 5)];
        let buckets = zero_filled(&days, &counts);
        assert_eq!(buckets.len(), 3);
        assert_eq!(buckets[1].date, "2026-03-02");
        assert_eq!(buckets[1].counts, BTreeMap::from([("a".into(), 0), ("b".into(), 0)]));
        assert_eq!(buckets[2].counts["b"], 5);
        assert_eq!(totals(&counts)["b"], 5);
    }

    #[test]
    fn whole_local_days_of_a_rollup_zone_read_the_day_rollup_and_nothing_else() {
        // 2026-03-01 in UTC, and in Seoul (+09:00: it starts at 15:00 UTC the day before).
        let seoul = Day {
            start: day(1).start - chrono::Duration::hours(9),
            end: day(1).end - chrono::Duration::hours(9),
            ..day(1)
        };
        for (d, minutes) in [(day(1), 0), (seoul, 540)] {
            let b = days_json(&[d]);
            assert_eq!(b.hours, r#"[["2026-03-01","",""]]"#);
            assert_eq!(b.raw, "[]");
            assert_eq!(b.zone_days, format!(r#"[[0,{minutes},"2026-03-01"]]"#));
        }
    }

    #[test]
    fn whole_hour_days_of_other_zones_read_the_hourly_rollup_and_nothing_raw() {
        // New York in March (-05:00): a whole day of whole hours, no day rollup.
        let new_york = Day {
            start: day(1).start + chrono::Duration::hours(5),
            end: day(1).end + chrono::Duration::hours(5),
            ..day(1)
        };
        let b = days_json(&[new_york]);
        assert_eq!(b.hours, r#"[["2026-03-01","2026-03-01T05","2026-03-02T05"]]"#);
        assert_eq!((b.raw.as_str(), b.zone_days.as_str()), ("[]", "[]"));
        // A clipped day (today, up to now) reads hours even in a rollup zone.
        let clipped = Day {
            end: day(1).start + chrono::Duration::hours(10),
            ..day(1)
        };
        assert_eq!(days_json(&[clipped]).zone_days, "[]");
    }

    #[test]
    fn every_fraction_kpi_of_the_catalog_has_a_daily_series() {
        // Per-user counts (their denominator is distinct users, not in the day rollup) have none.
        let ratios: Vec<&str> = KPIS.iter().filter(|k| k.unit == Unit::Ratio).map(|k| k.id).collect();
        let series: Vec<&str> = daily_ratios().into_iter().map(|(id, _, _)| id).collect();
        assert!(!ratios.is_empty());
        assert_eq!(
            series, ratios,
            "a ratio whose parts the day rollup cannot answer has no daily series"
        );
    }

    #[test]
    fn daily_rates_divide_each_days_parts_and_are_null_on_days_without_a_denominator() {
        let days = [day(1), day(2), day(3)];
        let rows = [
            rollup("2026-03-01", "m_otp_send_result", 0, 1.0, 0.0, 0),
            rollup("2026-03-01", "m_otp_send_result", 1, 3.0, 0.0, 0),
            rollup("2026-03-03", "m_otp_send_result", 0, 2.0, 0.0, 0),
            rollup("2026-03-03", "m_checkout_click", -1, 4.0, 0.0, 0),
            rollup("2026-03-03", "m_stripe_webhook_checkout_complete", -1, 1.0, 0.0, 0),
        ];
        let rates = daily_rates(&days, &rows);
        let otp = &rates["pregoi_otp_failure_rate"];
        let pairs: Vec<(i64, i64, Option<f64>)> = otp.iter().map(|r| (r.numerator, r.denominator, r.value)).collect();
        assert_eq!(pairs, [(1, 4, Some(0.25)), (0, 0, None), (2, 2, Some(1.0))]);
        assert_eq!(otp[1].date, "2026-03-02");
        let checkout = &rates["pregoi_checkout_completion_rate"];
        assert_eq!(checkout[2].value, Some(0.25));
        assert_eq!(checkout[0].value, None, "zero-safe: no checkout that day");
        assert!(rates.values().all(|series| series.len() == days.len()));
    }

    #[test]
    fn ratios_divide_measures_and_are_null_without_a_denominator() {
        assert_eq!(ratio(Some(&Value::from(1)), Some(&Value::from(3))), Value::from(0.3333));
        assert_eq!(ratio(Some(&Value::from(1)), Some(&Value::from(0))), Value::Null);
        assert_eq!(ratio(None, Some(&Value::from(2))), Value::Null);
    }

    #[test]
    fn every_declared_kpi_is_evaluated_and_every_ratio_from_its_measures() {
        let measured: HashMap<&str, Measured> = measured()
            .into_iter()
            .map(|(id, _)| {
                (
                    id,
                    Measured {
                        value: Value::from(4.0),
                        estimate: id == "pregoi_login_attempts",
                    },
                )
            })
            .collect();
        let out = evaluate(&measured);
        assert_eq!(out.len(), KPIS.len());
        for k in KPIS {
            let v = &out[k.id].value;
            match k.formula {
                Formula::Ratio { .. } => assert_eq!(*v, Value::from(1.0), "{}", k.id),
                Formula::Measure(_) if k.unit == Unit::Count => {
                    assert_eq!(*v, Value::from(4), "{}", k.id)
                }
                Formula::Measure(_) => {}
            }
        }
        assert!(out["pregoi_login_attempts"].estimate);
        assert!(
            out["pregoi_login_success_rate"].estimate,
            "a ratio of an estimate is an estimate"
        );
        assert!(!out["pregoi_login_success"].estimate);
    }
}
