//! `GET /internal/funnels` (the declared funnels) and
//! `GET /internal/funnels/{name}` (one funnel counted over a range).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::funnels::{self, Funnel, FUNNELS};
use crate::error::AppResult;
use crate::query::params::Params;
use crate::query::{bad, range::TimeRange};
use crate::report::funnel::{self, Breakdown, BreakdownGroup, FunnelResult};
use crate::store::{EventStore, Span};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelList {
    pub funnels: &'static [Funnel],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelCount {
    pub from: String,
    pub to: String,
    pub tz: String,
    pub funnel: FunnelResult,
    /// With `by`: the funnel per value (the 10 largest groups, subjects without a value, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<FunnelBreakdown>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelBreakdown {
    /// `email_domain`, `source`, `tenant_id` or the property's name.
    pub by: &'static str,
    pub groups: Vec<BreakdownGroup>,
}

pub fn list() -> FunnelList {
    FunnelList { funnels: FUNNELS }
}

pub async fn count<S: EventStore>(
    store: &S,
    name: &str,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<FunnelCount> {
    let funnel = funnels::find(name).ok_or_else(|| {
        bad(
            "name",
            "unknown_funnel",
            "No funnel has this name; GET /internal/funnels lists them.",
        )
    })?;
    let by = params
        .get("by")
        .map(|raw| {
            Breakdown::parse(raw, funnel).ok_or_else(|| {
                bad(
                    "by",
                    "invalid_breakdown",
                    "`by` must be email_domain, source, tenant_id or a string property of the funnel's steps.",
                )
            })
        })
        .transpose()?;
    let range = TimeRange::parse(params, now)?;
    let steps: Vec<&str> = funnel.steps.iter().map(|s| s.event).collect();
    let (step_rows, error_rows) = store.funnel_rows(&Span::from(&range), &steps, by).await?;
    let (whole, groups) = funnel::compute_split(funnel, &step_rows, &error_rows, by.is_some());
    Ok(FunnelCount {
        from: range.from_stored(),
        to: range.to_stored(),
        tz: range.tz.name().to_string(),
        funnel: whole,
        breakdown: by.map(|by| FunnelBreakdown {
            by: by.name(),
            groups: groups.unwrap_or_default(),
        }),
    })
}
