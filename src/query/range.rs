//! Time ranges of the read APIs: `from` inclusive, `to` exclusive, each an
//! RFC 3339 instant or a `YYYY-MM-DD` date (midnight in `tz`), with day
//! buckets that follow the zone's calendar, DST days included.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::{bad, params::Params};
use crate::error::AppResult;
use crate::time;

/// The range when neither end is given: today and the 13 days before it, in `tz`.
pub const DEFAULT_DAYS: u64 = 14;
/// Longest range any read API accepts.
pub const MAX_RANGE_DAYS: i64 = 400;
/// Longest range the summary buckets by hour (`bucket=hour`).
pub const MAX_HOURLY_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: Tz,
}

/// One bucket of the range: a calendar day in its zone (or an hour), clipped to the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// What the answer calls the bucket: the local date (`2026-03-01`), or
    /// for an hour its start as a stored UTC instant (`2026-03-01T15:00:00.000Z`).
    pub key: String,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// Reads `from`, `to` and `tz` (default `UTC`) from `params`.
    pub fn parse(params: &Params, now: DateTime<Utc>) -> AppResult<TimeRange> {
        let tz = parse_tz(params.get("tz"))?;
        let to = match params.get("to") {
            Some(raw) => parse_bound("to", raw, tz)?,
            None => start_of_day(tz, local_date(tz, now) + Days::new(1)),
        };
        let from = match params.get("from") {
            Some(raw) => parse_bound("from", raw, tz)?,
            None => start_of_day(tz, last_day(tz, to) - Days::new(DEFAULT_DAYS - 1)),
        };
        if to <= from {
            return Err(bad(
                "to",
                "invalid_range",
                "`to` must be later than `from` (`to` is exclusive).",
            ));
        }
        if to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
            return Err(bad(
                "from",
                "range_too_long",
                format!("A range covers at most {MAX_RANGE_DAYS} days; narrow `from`/`to`."),
            ));
        }
        Ok(TimeRange { from, to, tz })
    }

    pub fn from_stored(&self) -> String {
        time::to_stored(self.from)
    }

    pub fn to_stored(&self) -> String {
        time::to_stored(self.to)
    }

    /// The range's hours from `from` on (local hours when `from` is a local
    /// midnight), the last clipped to `to`.
    pub fn hours(&self) -> Vec<Day> {
        let mut hours = Vec::new();
        let mut start = self.from;
        while start < self.to {
            let end = (start + chrono::Duration::hours(1)).min(self.to);
            hours.push(Day {
                key: time::to_stored(start),
                date: local_date(self.tz, start),
                start,
                end,
            });
            start = end;
        }
        hours
    }

    /// The buckets `bucket` asks for: `day` (default) or `hour` (ranges of at most [`MAX_HOURLY_DAYS`]).
    pub fn buckets(&self, bucket: Option<&str>) -> AppResult<Vec<Day>> {
        match bucket {
            None | Some("day") => Ok(self.days()),
            Some("hour") if self.to - self.from > chrono::Duration::days(MAX_HOURLY_DAYS) => Err(bad(
                "bucket",
                "range_too_long",
                format!("Hourly buckets cover at most {MAX_HOURLY_DAYS} days; narrow `from`/`to` or use `bucket=day`."),
            )),
            Some("hour") => Ok(self.hours()),
            Some(_) => Err(bad("bucket", "invalid_bucket", "`bucket` must be `day` or `hour`.")),
        }
    }

    /// Every local day the range touches, in order, each clipped to the range.
    pub fn days(&self) -> Vec<Day> {
        let mut days = Vec::new();
        let mut date = local_date(self.tz, self.from);
        let last = last_day(self.tz, self.to);
        while date <= last {
            let next = date + Days::new(1);
            days.push(Day {
                key: date.to_string(),
                date,
                start: start_of_day(self.tz, date).max(self.from),
                end: start_of_day(self.tz, next).min(self.to),
            });
            date = next;
        }
        days
    }
}

/// `[start, end)` cut into whole UTC hours (read from the hourly rollup) and
/// the partial hours at either edge (read from the rows themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourSplit {
    /// `[first, last)` as rollup hour keys (`YYYY-MM-DDTHH`); `None` when no whole hour fits.
    pub hours: Option<(String, String)>,
    /// Stored-form `[start, end)` pieces outside the whole hours.
    pub raw: Vec<(String, String)>,
}

pub fn hour_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

/// The start of the UTC hour `t` falls in.
pub fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

pub fn split_by_hours(start: DateTime<Utc>, end: DateTime<Utc>) -> HourSplit {
    let first = {
        let f = floor_hour(start);
        if f == start {
            f
        } else {
            f + chrono::Duration::hours(1)
        }
    };
    let last = floor_hour(end);
    if first >= last {
        return HourSplit {
            hours: None,
            raw: vec![(time::to_stored(start), time::to_stored(end))],
        };
    }
    let mut raw = Vec::new();
    if start < first {
        raw.push((time::to_stored(start), time::to_stored(first)));
    }
    if last < end {
        raw.push((time::to_stored(last), time::to_stored(end)));
    }
    HourSplit {
        hours: Some((hour_key(first), hour_key(last))),
        raw,
    }
}

fn parse_tz(raw: Option<&str>) -> AppResult<Tz> {
    match raw {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            bad(
                "tz",
                "invalid_tz",
                "`tz` must be an IANA time zone name such as Asia/Seoul or UTC.",
            )
        }),
    }
}

fn parse_bound(param: &str, raw: &str, tz: Tz) -> AppResult<DateTime<Utc>> {
    let parsed = if raw.len() == 10 {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .map(|d| start_of_day(tz, d))
    } else {
        time::parse_rfc3339(raw)
    };
    match parsed {
        Some(t) if time::is_storable(t) && time::is_storable(t + chrono::Duration::days(MAX_RANGE_DAYS + 1)) => Ok(t),
        _ => Err(bad(
            param,
            "invalid_date",
            format!("`{param}` must be RFC 3339 (2026-03-01T00:00:00Z) or a date (2026-03-01)."),
        )),
    }
}

fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The local date of the last instant before the exclusive end `to`.
fn last_day(tz: Tz, to: DateTime<Utc>) -> NaiveDate {
    local_date(tz, to - chrono::Duration::milliseconds(1))
}

/// The first instant of `date` in `tz`. Where midnight does not exist (a DST
/// gap at 00:00) the day starts at the first local time that does.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("00:00:00 is a valid time");
    for minutes in (0..=180).step_by(15) {
        let local = midnight + chrono::Duration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // No zone has a gap this long; fall back to the UTC reading.
    Utc.from_utc_datetime(&midnight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn now() -> DateTime<Utc> {
        time::parse_rfc3339("2026-03-15T12:34:56Z").unwrap()
    }

    fn parse(pairs: &[(&str, &str)]) -> AppResult<TimeRange> {
        let params = Params::parse(pairs.iter().copied(), &["from", "to", "tz"]).unwrap();
        TimeRange::parse(&params, now())
    }

    fn err(pairs: &[(&str, &str)]) -> (&'static str, String) {
        match parse(pairs).unwrap_err() {
            AppError::InvalidParameter { code, param, .. } => (code, param),
            other => panic!("{other:?}"),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn default_is_today_and_the_13_days_before_in_the_zone() {
        let r = parse(&[]).unwrap();
        assert_eq!(r.from, utc("2026-03-02T00:00:00Z"));
        assert_eq!(r.to, utc("2026-03-16T00:00:00Z"));
        assert_eq!(r.days().len(), 14);

        let seoul = parse(&[("tz", "Asia/Seoul")]).unwrap();
        assert_eq!(seoul.to, utc("2026-03-15T15:00:00Z"));
        assert_eq!(seoul.from, utc("2026-03-01T15:00:00Z"));
    }

    #[test]
    fn dates_are_local_midnights_and_instants_keep_their_offset() {
        let r = parse(&[
            ("from", "2026-03-01"),
            ("to", "2026-03-02T09:00:00+09:00"),
            ("tz", "Asia/Seoul"),
        ])
        .unwrap();
        assert_eq!(r.from, utc("2026-02-28T15:00:00Z"));
        assert_eq!(r.to, utc("2026-03-02T00:00:00Z"));
        let days = r.days();
        assert_eq!(days.len(), 2);
        assert_eq!(days[1].date, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(days[1].end, r.to, "the last day is clipped to the range");
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let r = parse(&[("from", "2026-03-07"), ("to", "2026-03-10"), ("tz", "America/New_York")]).unwrap();
        let hours: Vec<i64> = r.days().iter().map(|d| (d.end - d.start).num_hours()).collect();
        assert_eq!(hours, [24, 23, 24]);
        let r = parse(&[("from", "2026-10-31"), ("to", "2026-11-03"), ("tz", "America/New_York")]).unwrap();
        let hours: Vec<i64> = r.days().iter().map(|d| (d.end - d.start).num_hours()).collect();
        assert_eq!(hours, [24, 25, 24]);
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_starts_at_the_first_real_minute() {
        // America/Santiago skips 00:00 → 01:00 on its spring-forward day (2026-09-06).
        let start = start_of_day(Tz::America__Santiago, NaiveDate::from_ymd_opt(2026, 9, 6).unwrap());
        assert_eq!(
            start.with_timezone(&Tz::America__Santiago).format("%H:%M").to_string(),
            "01:00"
        );
    }

    #[test]
    fn a_range_splits_into_whole_hours_and_partial_edges() {
        let s = split_by_hours(utc("2026-03-01T10:30:00Z"), utc("2026-03-02T03:15:00Z"));
        assert_eq!(s.hours, Some(("2026-03-01T11".into(), "2026-03-02T03".into())));
        assert_eq!(
            s.raw,
            [
                (
                    "2026-03-01T10:30:00.000Z".to_string(),
                    "2026-03-01T11:00:00.000Z".to_string()
                ),
                (
                    "2026-03-02T03:00:00.000Z".to_string(),
                    "2026-03-02T03:15:00.000Z".to_string()
                ),
            ]
        );
        let aligned = split_by_hours(utc("2026-03-01T00:00:00Z"), utc("2026-03-02T00:00:00Z"));
        assert_eq!(
            (aligned.hours.unwrap().0.as_str(), aligned.raw.len()),
            ("2026-03-01T00", 0)
        );
        let short = split_by_hours(utc("2026-03-01T10:10:00Z"), utc("2026-03-01T10:50:00Z"));
        assert_eq!((short.hours, short.raw.len()), (None, 1));
        // Asia/Kathmandu (+5:45): every day boundary is mid-hour, so each day has two raw edges.
        let r = parse(&[("from", "2026-03-01"), ("to", "2026-03-03"), ("tz", "Asia/Kathmandu")]).unwrap();
        for d in r.days() {
            assert_eq!(split_by_hours(d.start, d.end).raw.len(), 2);
        }
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert_eq!(err(&[("from", "yesterday")]), ("invalid_date", "from".into()));
        assert_eq!(err(&[("to", "2026-02-30")]), ("invalid_date", "to".into()));
        assert_eq!(err(&[("from", "2026-03-01T00:00:00")]), ("invalid_date", "from".into()));
        assert_eq!(err(&[("tz", "Mars/Olympus")]), ("invalid_tz", "tz".into()));
        assert_eq!(
            err(&[("from", "2026-03-02"), ("to", "2026-03-01")]),
            ("invalid_range", "to".into())
        );
        assert_eq!(
            err(&[("from", "2026-03-01"), ("to", "2026-03-01")]),
            ("invalid_range", "to".into())
        );
    }

    #[test]
    fn ranges_up_to_400_days_pass_and_longer_ones_do_not() {
        assert!(parse(&[("from", "2025-01-01T00:00:00Z"), ("to", "2026-02-05T00:00:00Z")]).is_ok());
        assert_eq!(
            err(&[("from", "2025-01-01T00:00:00Z"), ("to", "2026-02-05T00:00:00.001Z")]),
            ("range_too_long", "from".into())
        );
    }
}
