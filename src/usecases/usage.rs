//! Monthly usage per action and quota overrides. One user's usage and every
//! limit come from the same statements the ingest guard uses; the monthly
//! totals read the usage rollup (migration 0018), which counts exactly what
//! the guard counts (tests/sql_plans.rs checks it through every change), so
//! these answers never disagree with what ingest enforces.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::quotas::{self, QuotaAction, ACTIONS};
use crate::error::{AppError, AppResult};
use crate::ingest::body;
use crate::query::params::Params;
use crate::report::usage::{self, Month, Override, SubjectKind, SystemLine, UsageLine};
use crate::store::{EventStore, OverrideRow, Span};
use crate::time::to_stored;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserUsage {
    pub user_id: String,
    pub month: Month,
    pub actions: Vec<UsageLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverQuotaUser {
    pub user_id: String,
    pub line: UsageLine,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverQuota {
    pub month: Month,
    pub users: Vec<OverQuotaUser>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsageSummary {
    pub month: Month,
    pub actions: Vec<SystemLine>,
}

/// One month of a usage history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthUsage {
    pub month: Month,
    /// Without `user_id`: every action's totals that month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<SystemLine>>,
    /// With `user_id`: that user's usage and limit of each action that month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Vec<UsageLine>>,
}

/// Usage over a range of months, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsageHistory {
    /// Months start at midnight on the 1st in this zone.
    pub time_zone: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub months: Vec<MonthUsage>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quotas {
    /// Months start at midnight on the 1st in this zone.
    pub time_zone: &'static str,
    pub plan_from: &'static str,
    pub actions: &'static [QuotaAction],
    pub overrides: Vec<OverrideRow>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverrideSet {
    #[serde(rename = "override")]
    #[schema(rename = "override")]
    pub value: Override,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverrideDeleted {
    pub deleted: bool,
}

fn month_span(month: &Month) -> Span {
    Span {
        from: month.from.clone(),
        to: month.to.clone(),
    }
}

/// Each action's use in one month.
async fn one_month<S: EventStore>(store: &S, month: &Month) -> AppResult<Vec<usage::ActionMonth>> {
    let mut per_month = store.usage_by_months(&[month_span(month)], ACTIONS).await?;
    Ok(per_month.pop().unwrap_or_default())
}

pub async fn of_user<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<UserUsage> {
    let user_id = usage::subject_id(params.get("user_id"), "user_id")?;
    let month = usage::month(params, now)?;
    let rows = store.usage_of_user(&user_id, &month_span(&month), ACTIONS).await?;
    Ok(UserUsage {
        user_id,
        month,
        actions: rows.iter().map(UsageLine::from).collect(),
    })
}

pub async fn over_quota<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<OverQuota> {
    let month = usage::month(params, now)?;
    let per_action = one_month(store, &month).await?;
    let users = per_action
        .iter()
        .flat_map(|m| &m.at_limit)
        .map(|u| OverQuotaUser {
            user_id: u.user_id.clone(),
            line: UsageLine::from(u),
        })
        .collect();
    Ok(OverQuota { month, users })
}

pub async fn summary<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<UsageSummary> {
    let month = usage::month(params, now)?;
    let per_action = one_month(store, &month).await?;
    let actions = per_action.iter().map(usage::system_summary).collect();
    Ok(UsageSummary { month, actions })
}

/// `GET /internal/usage/months`: one user's usage, or every action's totals, per month of a range.
pub async fn history<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<UsageHistory> {
    let user_id = params
        .get("user_id")
        .map(|raw| usage::subject_id(Some(raw), "user_id"))
        .transpose()?;
    let range = usage::month_range(params, now)?;
    let months = match &user_id {
        Some(user) => {
            let mut months = Vec::with_capacity(range.len());
            for month in range {
                let rows = store.usage_of_user(user, &month_span(&month), ACTIONS).await?;
                months.push(MonthUsage {
                    month,
                    actions: None,
                    user: Some(rows.iter().map(UsageLine::from).collect()),
                });
            }
            months
        }
        None => {
            // Every month in one read.
            let spans: Vec<Span> = range.iter().map(month_span).collect();
            let per_month = store.usage_by_months(&spans, ACTIONS).await?;
            range
                .into_iter()
                .zip(per_month)
                .map(|(month, per_action)| MonthUsage {
                    month,
                    actions: Some(per_action.iter().map(usage::system_summary).collect()),
                    user: None,
                })
                .collect()
        }
    };
    Ok(UsageHistory {
        time_zone: quotas::MONTH_TIME_ZONE.name(),
        user_id,
        months,
    })
}

pub async fn quotas<S: EventStore>(store: &S) -> AppResult<Quotas> {
    Ok(Quotas {
        time_zone: quotas::MONTH_TIME_ZONE.name(),
        plan_from: "the user's latest subscription event that is not a `start` (payment not completed): free after a cancel or without one",
        actions: ACTIONS,
        overrides: store.list_overrides().await?,
    })
}

pub async fn set_override<S: EventStore>(
    store: &S,
    content_type: Option<&str>,
    raw: &[u8],
    now: DateTime<Utc>,
) -> AppResult<OverrideSet> {
    if !body::is_json_content_type(content_type) {
        return Err(AppError::UnsupportedMediaType);
    }
    let o = usage::parse_override(raw)?;
    store.set_override(&o, &to_stored(now)).await?;
    Ok(OverrideSet { value: o })
}

pub async fn delete_override<S: EventStore>(store: &S, params: &Params) -> AppResult<OverrideDeleted> {
    let kind = SubjectKind::parse(params.get("subject_kind"), "subject_kind")?;
    let id = usage::subject_id(params.get("subject_id"), "subject_id")?;
    let action = usage::action(params.get("action"), "action")?;
    let deleted = store.delete_override(kind, &id, action.name).await?;
    Ok(OverrideDeleted { deleted })
}
