//! Which stored sketches answer a range `[from, to)`.
//!
//! Sketches are stored per UTC period key: hour `YYYY-MM-DDTHH` (13 chars),
//! day `YYYY-MM-DD` (10) and month `YYYY-MM` (7), so each key is a prefix of
//! the stored timestamps it covers. [`cover`] picks the largest periods that
//! fit entirely inside the range (whole months, then whole days outside those
//! months, then whole hours outside those days) and leaves the edges outside
//! whole hours as raw `[start, end)` pieces in stored timestamp form, to be read
//! from the rows. Together they partition the range exactly: no gap, no overlap.
//!
//! Worst case, a 400-day range (the longest any read accepts) reads at most
//! 13 months + 2·30 days + 2·23 hours = 119 sketches, plus ≤ 2 raw edges that
//! together last under 2 hours: days only fill the partial month at either end,
//! hours only the partial day at either end. A range holding no whole hour
//! (say 10:30 to 11:30) is one raw piece.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::query::range::{hour_key, split_by_hours};

/// The periods and raw edges that exactly partition a range, each list in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// Whole UTC months, `YYYY-MM`.
    pub months: Vec<String>,
    /// Whole UTC days outside `months`, `YYYY-MM-DD`.
    pub days: Vec<String>,
    /// Whole UTC hours outside `days`, `YYYY-MM-DDTHH`.
    pub hours: Vec<String>,
    /// The edges outside whole hours as stored-form `[start, end)` (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub raw: Vec<(String, String)>,
}

impl Cover {
    /// How many stored sketches the cover reads (months + days + hours).
    pub fn sketch_count(&self) -> usize {
        self.months.len() + self.days.len() + self.hours.len()
    }
}

/// The cover of `[from, to)` (empty when `to <= from`).
pub fn cover(from: DateTime<Utc>, to: DateTime<Utc>) -> Cover {
    if to <= from {
        return Cover::default();
    }
    let split = split_by_hours(from, to);
    let mut cover = Cover {
        raw: split.raw,
        ..Cover::default()
    };
    let Some((first, last)) = split.hours else {
        return cover;
    };
    let (first_hour, last_hour) = (hour_start(&first), hour_start(&last));

    // Whole days inside the whole hours; none fits when the first day start is past the last.
    let first_day = ceil_day(first_hour);
    let last_day = floor_day(last_hour);
    if first_day >= last_day {
        cover.hours = hours_between(first_hour, last_hour);
        return cover;
    }
    cover.hours = hours_between(first_hour, first_day);

    let first_month = ceil_month(first_day);
    let last_month = floor_month(last_day);
    if first_month >= last_month {
        cover.days = days_between(first_day, last_day);
    } else {
        cover.days = days_between(first_day, first_month);
        cover.months = months_between(first_month, last_month);
        cover.days.extend(days_between(last_month, last_day));
    }
    cover.hours.extend(hours_between(last_day, last_hour));
    cover
}

/// The hour, UTC day and UTC month keys an hour belongs to, for merging one
/// hour part into all three. `ts_hour` is an hour key (`YYYY-MM-DDTHH`) or any
/// longer stored timestamp; the keys are its 13-, 10- and 7-character prefixes.
pub fn containing(ts_hour: &str) -> [String; 3] {
    let prefix = |n: usize| ts_hour.get(..n).unwrap_or(ts_hour).to_string();
    [prefix(13), prefix(10), prefix(7)]
}

/// The suffix of a day or month key in a zone `minutes` east of UTC
/// (`2026-03-04@540`); UTC's keys have none.
fn zone_suffix(minutes: i64) -> String {
    if minutes == 0 {
        String::new()
    } else {
        format!("@{minutes}")
    }
}

/// [`cover`] in local time of a zone with a fixed whole-hour offset: whole
/// local months and days (keys suffixed `@<minutes>`, see [`containing_in`]),
/// then whole hours (UTC hour keys: with a whole-hour offset a local hour is
/// a UTC hour) and raw edges. A read in Seoul over local days then reads one
/// sketch per day instead of two partial UTC days' hours.
pub fn cover_in(from: DateTime<Utc>, to: DateTime<Utc>, minutes: i64) -> Cover {
    if minutes == 0 {
        return cover(from, to);
    }
    let shift = chrono::Duration::minutes(minutes);
    let local = cover(from + shift, to + shift);
    let suffix = zone_suffix(minutes);
    let back = |key: &String| hour_key(hour_start(key) - shift);
    let back_raw = |t: &String| {
        crate::time::to_stored(crate::time::parse_rfc3339(t).expect("cover writes stored timestamps") - shift)
    };
    Cover {
        months: local.months.iter().map(|m| format!("{m}{suffix}")).collect(),
        days: local.days.iter().map(|d| format!("{d}{suffix}")).collect(),
        hours: local.hours.iter().map(back).collect(),
        raw: local.raw.iter().map(|(s, e)| (back_raw(s), back_raw(e))).collect(),
    }
}

/// Every key an hour's part is merged into: the UTC hour, and for each zone
/// its local day and month (`minutes` 0 gives the UTC day and month).
pub fn containing_in(ts_hour: &str, zones: &[i64]) -> Vec<String> {
    let [hour, ..] = containing(ts_hour);
    let mut keys = vec![hour.clone()];
    let Some(start) = crate::time::parse_rfc3339(&format!("{hour}:00:00.000Z")) else {
        return keys;
    };
    for &minutes in zones {
        let local = start + chrono::Duration::minutes(minutes);
        let suffix = zone_suffix(minutes);
        keys.push(format!("{}{suffix}", local.format("%Y-%m-%d")));
        keys.push(format!("{}{suffix}", local.format("%Y-%m")));
    }
    keys
}

/// The start of an hour key `split_by_hours` produced (always well-formed).
fn hour_start(key: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(&format!("{key}:00"), "%Y-%m-%dT%H:%M")
        .expect("split_by_hours yields YYYY-MM-DDTHH keys");
    Utc.from_utc_datetime(&naive)
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("00:00:00 is a valid time"))
}

fn floor_day(t: DateTime<Utc>) -> DateTime<Utc> {
    midnight(t.date_naive())
}

fn ceil_day(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_day(t);
    if floor == t {
        t
    } else {
        floor + chrono::Duration::days(1)
    }
}

fn floor_month(t: DateTime<Utc>) -> DateTime<Utc> {
    midnight(t.date_naive().with_day(1).expect("every month has a day 1"))
}

fn ceil_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_month(t);
    if floor == t {
        t
    } else {
        floor + Months::new(1)
    }
}

fn hours_between(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut t = start;
    while t < end {
        keys.push(hour_key(t));
        t += chrono::Duration::hours(1);
    }
    keys
}

fn days_between(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut t = start;
    while t < end {
        keys.push(t.format("%Y-%m-%d").to_string());
        t += chrono::Duration::days(1);
    }
    keys
}

fn months_between(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut t = start;
    while t < end {
        keys.push(t.format("%Y-%m").to_string());
        t = t + Months::new(1);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        time::parse_rfc3339(s).unwrap()
    }

    /// The `[start, end)` a period key stands for.
    fn span_of_key(key: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        match key.len() {
            7 => {
                let start = midnight(NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").unwrap());
                (start, start + Months::new(1))
            }
            10 => {
                let start = midnight(NaiveDate::parse_from_str(key, "%Y-%m-%d").unwrap());
                (start, start + chrono::Duration::days(1))
            }
            13 => {
                let start = hour_start(key);
                (start, start + chrono::Duration::hours(1))
            }
            _ => panic!("not a period key: {key}"),
        }
    }

    /// Every piece of the cover as its span, sorted by start.
    fn spans(c: &Cover) -> Vec<(DateTime<Utc>, DateTime<Utc>, String)> {
        let mut out: Vec<_> = c
            .months
            .iter()
            .chain(&c.days)
            .chain(&c.hours)
            .map(|k| {
                let (s, e) = span_of_key(k);
                (s, e, k.clone())
            })
            .chain(c.raw.iter().map(|(s, e)| (utc(s), utc(e), format!("raw {s}..{e}"))))
            .collect();
        out.sort();
        out
    }

    /// No gap, no overlap, nothing empty, and nothing that a larger period could replace.
    fn assert_exact_partition(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), TestCaseError> {
        let c = cover(from, to);
        let pieces = spans(&c);
        let mut at = from;
        for (start, end, name) in &pieces {
            prop_assert_eq!(*start, at, "gap or overlap before {}", name);
            prop_assert!(start < end, "empty piece {}", name);
            at = *end;
        }
        prop_assert_eq!(at, to, "the pieces end at {} instead of {}", at, to);

        // Largest periods: raw edges hold no whole hour, hours no whole day, days no whole month.
        prop_assert!(c.raw.len() <= 2);
        let raw_total = c.raw.iter().map(|(s, e)| utc(e) - utc(s)).sum::<chrono::Duration>();
        prop_assert!(raw_total < chrono::Duration::hours(2), "{:?}", c.raw);
        for (s, e) in &c.raw {
            prop_assert!(
                split_by_hours(utc(s), utc(e)).hours.is_none(),
                "{}..{} holds a whole hour",
                s,
                e
            );
        }
        for day in c.hours.iter().map(|h| &h[..10]) {
            prop_assert!(
                c.hours.iter().filter(|h| h.starts_with(day)).count() < 24,
                "all of {} in hours",
                day
            );
        }
        for month in c.days.iter().map(|d| &d[..7]) {
            let (s, e) = span_of_key(month);
            let whole = (e - s).num_days() as usize;
            prop_assert!(
                c.days.iter().filter(|d| d.starts_with(month)).count() < whole,
                "all of {} in days",
                month
            );
        }
        // Within the bound the module documents (a 400-day range at most).
        if to - from <= chrono::Duration::days(400) {
            prop_assert!(
                c.months.len() <= 13 && c.days.len() <= 60 && c.hours.len() <= 46,
                "{:?}",
                c
            );
        }
        Ok(())
    }

    #[test]
    fn a_range_uses_months_then_days_then_hours_then_raw_edges() {
        let c = cover(utc("2026-01-30T22:30:00Z"), utc("2026-04-02T01:15:00Z"));
        assert_eq!(c.months, ["2026-02", "2026-03"]);
        assert_eq!(c.days, ["2026-01-31", "2026-04-01"]);
        assert_eq!(c.hours, ["2026-01-30T23", "2026-04-02T00"]);
        assert_eq!(
            c.raw,
            [
                (
                    "2026-01-30T22:30:00.000Z".to_string(),
                    "2026-01-30T23:00:00.000Z".to_string()
                ),
                (
                    "2026-04-02T01:00:00.000Z".to_string(),
                    "2026-04-02T01:15:00.000Z".to_string()
                ),
            ]
        );
        assert_eq!(c.sketch_count(), 6);
        assert_exact_partition(utc("2026-01-30T22:30:00Z"), utc("2026-04-02T01:15:00Z")).unwrap();
    }

    #[test]
    fn aligned_ranges_read_no_raw_rows() {
        let month = cover(utc("2026-03-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"));
        assert_eq!(month.months, ["2026-03"]);
        assert_eq!((month.sketch_count(), month.raw.len()), (1, 0));
        let day = cover(utc("2026-03-05T00:00:00Z"), utc("2026-03-06T00:00:00Z"));
        assert_eq!(day.days, ["2026-03-05"]);
        assert_eq!((day.sketch_count(), day.raw.len()), (1, 0));
    }

    #[test]
    fn a_range_inside_one_hour_is_one_raw_piece() {
        let c = cover(utc("2026-03-01T10:30:00Z"), utc("2026-03-01T10:45:00.500Z"));
        assert_eq!(c.sketch_count(), 0);
        assert_eq!(
            c.raw,
            [(
                "2026-03-01T10:30:00.000Z".to_string(),
                "2026-03-01T10:45:00.500Z".to_string()
            )]
        );
        assert_eq!(
            cover(utc("2026-03-01T10:30:00Z"), utc("2026-03-01T10:30:00Z")),
            Cover::default()
        );
    }

    #[test]
    fn leap_days_and_year_ends_are_whole_periods() {
        let c = cover(utc("2023-12-31T00:00:00Z"), utc("2024-03-01T00:00:00Z"));
        assert_eq!(c.months, ["2024-01", "2024-02"]);
        assert_eq!(c.days, ["2023-12-31"]);
        let leap = cover(utc("2024-02-28T12:00:00Z"), utc("2024-03-01T01:00:00Z"));
        assert_eq!(leap.days, ["2024-02-29"]);
        assert_eq!(leap.hours.len(), 12 + 1);
        assert_exact_partition(utc("2024-02-28T12:00:00Z"), utc("2024-03-01T01:00:00Z")).unwrap();
    }

    #[test]
    fn the_worst_400_day_range_stays_within_the_documented_bound() {
        let from = utc("2025-01-01T01:00:00Z");
        let c = cover(from, from + chrono::Duration::days(400));
        assert!(c.sketch_count() <= 13 + 2 * 30 + 2 * 23, "{}", c.sketch_count());
        // Both partial months as long as they get (30 whole days, 23 whole hours each side).
        let (from, to) = (utc("2025-01-01T00:30:00Z"), utc("2026-01-31T23:30:00Z"));
        let worst = cover(from, to);
        assert_eq!(
            (worst.months.len(), worst.days.len(), worst.hours.len(), worst.raw.len()),
            (11, 60, 46, 2)
        );
        assert_exact_partition(from, to).unwrap();
    }

    #[test]
    fn an_hour_belongs_to_its_day_and_month() {
        assert_eq!(containing("2026-02-28T23"), ["2026-02-28T23", "2026-02-28", "2026-02"]);
        assert_eq!(
            containing("2026-02-28T23:59:59.999Z"),
            ["2026-02-28T23", "2026-02-28", "2026-02"]
        );
        // Never panics on short input; keys of a malformed hour are just that input.
        assert_eq!(containing("2026"), ["2026", "2026", "2026"]);
    }

    /// A millisecond instant between 2023 and 2031, often aligned to a month, day, hour or :30.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        let start = utc("2023-01-01T00:00:00Z").timestamp_millis();
        let end = utc("2031-01-01T00:00:00Z").timestamp_millis();
        (start..end, 0u8..5).prop_map(|(ms, align)| {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            match align {
                0 => floor_month(t),
                1 => floor_day(t),
                2 => DateTime::from_timestamp_millis(ms - ms.rem_euclid(3_600_000)).unwrap(),
                3 => DateTime::from_timestamp_millis(ms - ms.rem_euclid(3_600_000) + 1_800_000).unwrap(),
                _ => t,
            }
        })
    }

    /// Lengths from a millisecond to 400 days, short ones and whole hours/days as likely as long ones.
    fn length() -> impl Strategy<Value = chrono::Duration> {
        prop_oneof![
            (1i64..3_600_000).prop_map(chrono::Duration::milliseconds),
            (1i64..72).prop_map(chrono::Duration::hours),
            (1i64..=400).prop_map(chrono::Duration::days),
            (1i64..400 * 86_400_000).prop_map(chrono::Duration::milliseconds),
        ]
    }

    /// The `[start, end)` of any key [`cover_in`] gives, in UTC.
    fn span_in_zone(key: &str) -> (DateTime<Utc>, DateTime<Utc>) {
        match key.split_once('@') {
            None => span_of_key(key),
            Some((local, minutes)) => {
                let shift = chrono::Duration::minutes(minutes.parse().unwrap());
                let (s, e) = span_of_key(local);
                (s - shift, e - shift)
            }
        }
    }

    fn assert_zone_partition(from: DateTime<Utc>, to: DateTime<Utc>, minutes: i64) -> Result<(), TestCaseError> {
        let c = cover_in(from, to, minutes);
        let mut pieces: Vec<(DateTime<Utc>, DateTime<Utc>)> = c
            .months
            .iter()
            .chain(&c.days)
            .chain(&c.hours)
            .map(|k| span_in_zone(k))
            .chain(c.raw.iter().map(|(s, e)| (utc(s), utc(e))))
            .collect();
        pieces.sort();
        let mut at = from;
        for (s, e) in pieces {
            prop_assert_eq!(s, at, "gap or overlap in {:?}", c);
            prop_assert!(e > s);
            at = e;
        }
        prop_assert_eq!(at, to);
        // Every key the cover reads is one a part is merged into.
        for k in c.months.iter().chain(&c.days) {
            let (s, _) = span_in_zone(k);
            let keys = containing_in(&hour_key(s), &[0, minutes]);
            prop_assert!(keys.contains(k), "{} not among {:?}", k, keys);
        }
        Ok(())
    }

    #[test]
    fn a_seoul_day_is_one_sketch_and_a_seoul_fortnight_fourteen() {
        let day = cover_in(utc("2026-03-03T15:00:00.000Z"), utc("2026-03-04T15:00:00.000Z"), 540);
        assert_eq!(day.days, ["2026-03-04@540"]);
        assert!(day.hours.is_empty() && day.raw.is_empty() && day.months.is_empty());
        let fortnight = cover_in(utc("2026-03-03T15:00:00.000Z"), utc("2026-03-17T15:00:00.000Z"), 540);
        assert_eq!(fortnight.sketch_count(), 14);
        assert_eq!(
            containing_in("2026-03-03T15", &[0, 540]),
            [
                "2026-03-03T15",
                "2026-03-03",
                "2026-03",
                "2026-03-04@540",
                "2026-03@540"
            ]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn a_zone_cover_partitions_any_range_exactly(from in instant(), len in length(), zone in 0usize..3) {
            let minutes = [0, 540, -300][zone];
            assert_zone_partition(from, from + len, minutes)?;
        }

        #[test]
        fn the_cover_partitions_any_range_exactly(from in instant(), len in length()) {
            assert_exact_partition(from, from + len)?;
        }

        #[test]
        fn every_hour_of_a_cover_lies_in_the_day_and_month_containing_it(from in instant(), len in length()) {
            for hour in &cover(from, from + len).hours {
                let [h, d, m] = containing(hour);
                let (start, end) = span_of_key(hour);
                for key in [&h, &d, &m] {
                    let (s, e) = span_of_key(key);
                    prop_assert!(s <= start && end <= e, "{} is not inside {}", hour, key);
                }
                prop_assert_eq!((h.len(), d.len(), m.len()), (13, 10, 7));
            }
        }
    }
}
