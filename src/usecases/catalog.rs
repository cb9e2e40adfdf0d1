//! `GET /internal/catalog`: every declared event type with live stats, and
//! the KPIs, funnels and limits declared next to them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::funnels::{Funnel, FUNNELS};
use crate::catalog::kpis::{Kpi, KPIS};
use crate::catalog::quotas::{QuotaAction, ACTIONS};
use crate::catalog::{limits, EVENTS, SERVICES};
use crate::error::AppResult;
use crate::query::params::Params;
use crate::query::range::TimeRange;
use crate::report::catalog_stats::{self, EventStats};
use crate::store::{EventStore, Span};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnknownRejection {
    pub event_type: String,
    pub count: i64,
}

/// The limits every event is checked against.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Limits {
    pub string_max_chars: usize,
    pub object_max_bytes: usize,
    pub properties_max_bytes: usize,
    pub properties_max_count: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Catalog {
    pub from: String,
    pub to: String,
    pub services: &'static [&'static str],
    pub events: Vec<EventStats>,
    pub quota_actions: &'static [QuotaAction],
    pub unknown_rejections: Vec<UnknownRejection>,
    pub kpis: &'static [Kpi],
    pub funnels: &'static [Funnel],
    pub limits: Limits,
}

pub async fn catalog<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<Catalog> {
    let range = TimeRange::parse(params, now)?;
    let names: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
    let rows = store.catalog_rows(&Span::from(&range), &names).await?;
    let unknown_rejections = catalog_stats::unknown_rejections(&rows.rejections)
        .into_iter()
        .map(|(event_type, count)| UnknownRejection { event_type, count })
        .collect();
    Ok(Catalog {
        from: range.from_stored(),
        to: range.to_stored(),
        services: SERVICES,
        events: catalog_stats::build(&rows.seen, &rows.counts, &rows.rejections, &rows.volume),
        quota_actions: ACTIONS,
        unknown_rejections,
        kpis: KPIS,
        funnels: FUNNELS,
        limits: Limits {
            string_max_chars: limits::STRING_MAX_CHARS,
            object_max_bytes: limits::OBJECT_MAX_BYTES,
            properties_max_bytes: limits::PROPERTIES_MAX_BYTES,
            properties_max_count: limits::PROPERTIES_MAX_COUNT,
        },
    })
}
