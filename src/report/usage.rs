//! Monthly usage per action (the event dictionary's
//! `get_user_monthly_usage`, `usage_current_month_quota` and
//! `usage_monthly_system_summary`), and quota override requests.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::quotas::{self, QuotaAction, ACTIONS};
use crate::error::{AppError, AppResult};
use crate::query::{bad, params::Params};
use crate::time::to_stored;

/// Largest override accepted.
pub const MAX_MONTHLY_LIMIT: i64 = 1_000_000_000;

/// A quota month: its name and stored-form `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Month {
    pub month: String,
    pub time_zone: &'static str,
    pub from: String,
    pub to: String,
}

/// `month=YYYY-MM`, or the current month in the quota time zone.
pub fn month(params: &Params, now: DateTime<Utc>) -> AppResult<Month> {
    let first = match params.get("month") {
        Some(raw) => {
            quotas::parse_month(raw).ok_or_else(|| bad("month", "invalid_month", "`month` must look like 2026-03."))?
        }
        None => {
            let (start, _) = quotas::month_of(now);
            let local = start.with_timezone(&quotas::MONTH_TIME_ZONE).date_naive();
            NaiveDate::from_ymd_opt(chrono::Datelike::year(&local), chrono::Datelike::month(&local), 1)
                .expect("day 1 exists")
        }
    };
    let (start, end) = quotas::month_bounds(first);
    Ok(Month {
        month: first.format("%Y-%m").to_string(),
        time_zone: quotas::MONTH_TIME_ZONE.name(),
        from: to_stored(start),
        to: to_stored(end),
    })
}

/// Most months one usage-history request covers (each month is one read per action).
pub const MAX_MONTHS: u32 = 12;
/// Months a history covers when `from_month` is not given.
pub const DEFAULT_MONTHS: u32 = 6;

fn month_param(params: &Params, name: &'static str) -> AppResult<Option<NaiveDate>> {
    params
        .get(name)
        .map(|raw| {
            quotas::parse_month(raw)
                .ok_or_else(|| bad(name, "invalid_month", format!("`{name}` must look like 2026-03.")))
        })
        .transpose()
}

/// `from_month..=to_month` (YYYY-MM, both inclusive), oldest first: by default
/// the [`DEFAULT_MONTHS`] months up to the current one; at most [`MAX_MONTHS`].
pub fn month_range(params: &Params, now: DateTime<Utc>) -> AppResult<Vec<Month>> {
    let current = {
        let (start, _) = quotas::month_of(now);
        let local = start.with_timezone(&quotas::MONTH_TIME_ZONE).date_naive();
        NaiveDate::from_ymd_opt(chrono::Datelike::year(&local), chrono::Datelike::month(&local), 1)
            .expect("day 1 exists")
    };
    let last = month_param(params, "to_month")?.unwrap_or(current);
    let first = match month_param(params, "from_month")? {
        Some(f) => f,
        None => last - chrono::Months::new(DEFAULT_MONTHS - 1),
    };
    if first > last {
        return Err(bad(
            "to_month",
            "invalid_range",
            "`to_month` must not be before `from_month` (both are included).",
        ));
    }
    let span = {
        use chrono::Datelike;
        (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32 + 1
    };
    if span > MAX_MONTHS as i32 {
        return Err(bad(
            "from_month",
            "range_too_long",
            format!("A usage history covers at most {MAX_MONTHS} months; narrow `from_month`/`to_month`."),
        ));
    }
    Ok((0..span as u32)
        .map(|i| {
            let m = first + chrono::Months::new(i);
            let (start, end) = quotas::month_bounds(m);
            Month {
                month: m.format("%Y-%m").to_string(),
                time_zone: quotas::MONTH_TIME_ZONE.name(),
                from: to_stored(start),
                to: to_stored(end),
            }
        })
        .collect())
}

/// One user's use of one action in a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionUsage {
    pub user_id: String,
    pub action: String,
    pub used: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UsageLine {
    pub action: String,
    pub used: i64,
    pub limit: i64,
    pub remaining: i64,
    pub quota_exceeded: bool,
}

impl From<&ActionUsage> for UsageLine {
    fn from(u: &ActionUsage) -> Self {
        UsageLine {
            action: u.action.clone(),
            used: u.used,
            limit: u.limit,
            remaining: (u.limit - u.used).max(0),
            quota_exceeded: u.used >= u.limit,
        }
    }
}

/// The dictionary's `usage_monthly_system_summary`, one line per action.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SystemLine {
    pub action: &'static str,
    pub total_used: i64,
    pub users: usize,
    pub users_at_limit: usize,
    pub average_per_user: Option<f64>,
}

/// One action's use in one month, as the store reads it: how many users used
/// it, their summed use, and the users at or over their limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMonth {
    pub action: &'static QuotaAction,
    pub users: usize,
    pub used: i64,
    pub at_limit: Vec<ActionUsage>,
}

pub fn system_summary(m: &ActionMonth) -> SystemLine {
    SystemLine {
        action: m.action.name,
        total_used: m.used,
        users: m.users,
        users_at_limit: m.at_limit.len(),
        average_per_user: (m.users > 0).then(|| (m.used as f64 / m.users as f64 * 100.0).round() / 100.0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    User,
    Tenant,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Tenant => "tenant",
        }
    }

    pub fn parse(raw: Option<&str>, param: &str) -> AppResult<SubjectKind> {
        match raw {
            Some("user") => Ok(SubjectKind::User),
            Some("tenant") => Ok(SubjectKind::Tenant),
            _ => Err(bad(
                param,
                "invalid_subject_kind",
                "`subject_kind` must be user or tenant.",
            )),
        }
    }
}

/// An override as set through `PUT /internal/quotas/overrides`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Override {
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    pub action: &'static str,
    pub monthly_limit: i64,
}

pub fn subject_id(raw: Option<&str>, param: &str) -> AppResult<String> {
    match raw.map(str::trim) {
        Some(id) if !id.is_empty() && id.chars().count() <= 128 => Ok(id.to_string()),
        _ => Err(bad(
            param,
            "invalid_subject_id",
            "`subject_id` must be 1 to 128 characters.",
        )),
    }
}

pub fn action(raw: Option<&str>, param: &str) -> AppResult<&'static QuotaAction> {
    raw.and_then(quotas::action).ok_or_else(|| {
        let names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        bad(
            param,
            "unknown_action",
            format!("`action` must be one of: {}.", names.join(", ")),
        )
    })
}

/// Reads `{"subject_kind", "subject_id", "action", "monthly_limit"}`.
pub fn parse_override(body: &[u8]) -> AppResult<Override> {
    let value = crate::ingest::strict_json::from_slice(body)
        .map_err(|e| AppError::InvalidJson(format!("The body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(AppError::InvalidBody("The body must be a JSON object.".into()));
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str);
    let monthly_limit = map
        .get("monthly_limit")
        .and_then(Value::as_i64)
        .filter(|n| (0..=MAX_MONTHLY_LIMIT).contains(n))
        .ok_or_else(|| {
            bad(
                "monthly_limit",
                "invalid_monthly_limit",
                format!("`monthly_limit` must be a whole number from 0 to {MAX_MONTHLY_LIMIT}."),
            )
        })?;
    Ok(Override {
        subject_kind: SubjectKind::parse(text("subject_kind"), "subject_kind")?,
        subject_id: subject_id(text("subject_id"), "subject_id")?,
        action: action(text("action"), "action")?.name,
        monthly_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: AppError) -> &'static str {
        match e {
            AppError::InvalidParameter { code, .. } => code,
            AppError::InvalidJson(_) => "invalid_json",
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_month_is_its_seoul_calendar_month() {
        let p = Params::parse([("month", "2026-03")], &["month"]).unwrap();
        let m = month(&p, Utc::now()).unwrap();
        assert_eq!(
            (m.from.as_str(), m.to.as_str()),
            ("2026-02-28T15:00:00.000Z", "2026-03-31T15:00:00.000Z")
        );
        let now = crate::time::parse_rfc3339("2026-04-30T16:00:00Z").unwrap(); // May 1st in Seoul
        assert_eq!(month(&Params::default(), now).unwrap().month, "2026-05");
        let p = Params::parse([("month", "2026-3")], &["month"]).unwrap();
        assert_eq!(code(month(&p, Utc::now()).unwrap_err()), "invalid_month");
    }

    #[test]
    fn an_override_is_checked_field_by_field() {
        let ok =
            parse_override(br#"{"subject_kind":"tenant","subject_id":"acme","action":"compile","monthly_limit":0}"#);
        assert_eq!(ok.unwrap().monthly_limit, 0);
        for (body, expected) in [
            (
                r#"{"subject_kind":"org","subject_id":"a","action":"compile","monthly_limit":1}"#,
                "invalid_subject_kind",
            ),
            (
                r#"{"subject_kind":"user","subject_id":"","action":"compile","monthly_limit":1}"#,
                "invalid_subject_id",
            ),
            (
                r#"{"subject_kind":"user","subject_id":"a","action":"fly","monthly_limit":1}"#,
                "unknown_action",
            ),
            (
                r#"{"subject_kind":"user","subject_id":"a","action":"compile","monthly_limit":-1}"#,
                "invalid_monthly_limit",
            ),
            (
                r#"{"subject_kind":"user","subject_id":"a","action":"compile","monthly_limit":1.5}"#,
                "invalid_monthly_limit",
            ),
            (
                r#"{"subject_kind":"user","subject_id":"a","action":"compile","monthly_limit":1000000001}"#,
                "invalid_monthly_limit",
            ),
            (r#"{"a":1,"a":2}"#, "invalid_json"),
        ] {
            assert_eq!(code(parse_override(body.as_bytes()).unwrap_err()), expected, "{body}");
        }
        let max = format!(
            r#"{{"subject_kind":"user","subject_id":"a","action":"compile","monthly_limit":{MAX_MONTHLY_LIMIT}}}"#
        );
        assert!(parse_override(max.as_bytes()).is_ok());
    }

    #[test]
    fn the_system_summary_counts_users_total_and_those_at_the_limit() {
        let u = |id: &str, used| ActionUsage {
            user_id: id.into(),
            action: "compile".into(),
            used,
            limit: 20,
        };
        let compile = quotas::action("compile").unwrap();
        let month = |users, used, at_limit| ActionMonth {
            action: compile,
            users,
            used,
            at_limit,
        };
        let line = system_summary(&month(3, 28, vec![u("a", 20)]));
        assert_eq!((line.total_used, line.users, line.users_at_limit), (28, 3, 1));
        assert_eq!(line.average_per_user, Some(9.33));
        let empty = system_summary(&month(0, 0, vec![]));
        assert_eq!(empty.average_per_user, None);
    }

    #[test]
    fn a_month_range_is_every_month_from_first_to_last_and_at_most_twelve() {
        let now = crate::time::parse_rfc3339("2026-03-10T12:00:00Z").unwrap();
        let range = |pairs: &[(&str, &str)]| {
            let p = Params::parse(pairs.iter().copied(), &["from_month", "to_month"]).unwrap();
            month_range(&p, now)
        };
        let names = |r: AppResult<Vec<Month>>| r.unwrap().into_iter().map(|m| m.month).collect::<Vec<_>>();
        assert_eq!(
            names(range(&[])),
            ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
        );
        assert_eq!(
            names(range(&[("from_month", "2025-12"), ("to_month", "2026-01")])),
            ["2025-12", "2026-01"]
        );
        assert_eq!(
            names(range(&[("from_month", "2025-04"), ("to_month", "2026-03")])).len(),
            12
        );
        let code = |r: AppResult<Vec<Month>>| match r {
            Err(AppError::InvalidParameter { code, param, .. }) => (code, param),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code(range(&[("from_month", "2025-03"), ("to_month", "2026-03")])).0,
            "range_too_long"
        );
        assert_eq!(
            code(range(&[("from_month", "2026-04"), ("to_month", "2026-03")])).0,
            "invalid_range"
        );
        assert_eq!(code(range(&[("to_month", "2026-3")])).0, "invalid_month");
    }
}
