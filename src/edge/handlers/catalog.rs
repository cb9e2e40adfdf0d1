//! `GET /internal/catalog`: every declared event type with live stats, and
//! the KPIs and funnels declared next to them.

use chrono::Utc;
use serde_json::json;
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::catalog::funnels::FUNNELS;
use crate::catalog::kpis::KPIS;
use crate::catalog::{limits, EVENTS, SERVICES};
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::range::TimeRange;
use crate::report::catalog_stats::{self, KeyCount};
use crate::storage::{sql, Bind, Statement};

pub async fn get(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(catalog(req, ctx).await)
}

async fn catalog(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, &["from", "to", "tz"])?;
    let range = TimeRange::parse(&params, Utc::now())?;
    let span = [Bind::text(range.from_stored()), Bind::text(range.to_stored())];
    // Volume is kept per UTC day: the days the range touches.
    let days = [
        Bind::text(&range.from_stored()[..10]),
        Bind::text(&range.to_stored()[..10]),
    ];
    let names: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
    let statements = [
        Statement::with(sql::FIRST_LAST_SEEN, [Bind::json(&names)]),
        Statement::with(sql::COUNTS_BY_TYPE, span.clone()),
        Statement::with(sql::REJECTIONS_BY_TYPE, span),
        Statement::with(sql::VOLUME_BY_TYPE, days),
    ];
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;
    let rejections: Vec<KeyCount> = store::rows(&results[2])?;
    let unknown: Vec<_> = catalog_stats::unknown_rejections(&rejections)
        .into_iter()
        .map(|(event_type, count)| json!({ "event_type": event_type, "count": count }))
        .collect();
    http::json(
        200,
        &json!({
            "from": range.from_stored(),
            "to": range.to_stored(),
            "services": SERVICES,
            "events": catalog_stats::build(
                &store::rows(&results[0])?,
                &store::rows(&results[1])?,
                &rejections,
                &store::rows(&results[3])?,
            ),
            "quota_actions": crate::catalog::quotas::ACTIONS,
            "unknown_rejections": unknown,
            "kpis": KPIS,
            "funnels": FUNNELS,
            "limits": {
                "string_max_chars": limits::STRING_MAX_CHARS,
                "object_max_bytes": limits::OBJECT_MAX_BYTES,
                "properties_max_bytes": limits::PROPERTIES_MAX_BYTES,
                "properties_max_count": limits::PROPERTIES_MAX_COUNT,
            },
        }),
    )
}
