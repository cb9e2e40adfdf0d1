//! `GET /api/overview`: the ops console's first screen, in one D1 round trip.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use serde::Deserialize;
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::catalog::kpis::{Formula, Measure, Unit, KPIS};
use crate::catalog::EVENTS;
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::filter::EventFilter;
use crate::query::range::{start_of_day, TimeRange};
use crate::report::event::StoredEvent;
use crate::report::overview::{self, Inputs, Totals, QUIET_AFTER_HOURS, RECENT_EVENTS};
use crate::report::summary::{self, DailyCount};
use crate::storage::{sql, Bind, Statement};
use crate::time::to_stored;

pub async fn get(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(overview(req, ctx).await)
}

#[derive(Deserialize)]
struct Measured {
    value: Option<f64>,
}

async fn overview(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, &["from", "to", "tz"])?;
    let now = Utc::now();
    let range = TimeRange::parse(&params, now)?;
    let days = range.days();
    let (from, to) = (range.from_stored(), range.to_stored());
    let today = to_stored(start_of_day(range.tz, now.with_timezone(&range.tz).date_naive()));
    let span = [Bind::text(&from), Bind::text(&to)];
    let names: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
    let everything = EventFilter {
        range,
        types: Vec::new(),
        email: None,
        trace_id: None,
        tenant_id: None,
        source: None,
        success: None,
        error_code: None,
    };
    // Revenue is whatever the catalog declares as a won sum, per service.
    let revenue: Vec<(&'static str, &'static Measure)> = KPIS
        .iter()
        .filter(|k| k.unit == Unit::Krw)
        .filter_map(|k| match (&k.formula, k.service) {
            (Formula::Measure(m @ Measure::Sum { .. }), Some(service)) => Some((service, m)),
            _ => None,
        })
        .collect();

    let mut statements = vec![
        Statement::with(sql::TOTALS, [Bind::text(&today)].into_iter().chain(span.clone())),
        Statement::with(
            sql::SERVICE_SNAPSHOT,
            [Bind::text(&today)].into_iter().chain(span.clone()),
        ),
        Statement::with(sql::COUNTS_BY_SERVICE_AND_TYPE, span.clone()),
        Statement::with(sql::FIRST_LAST_SEEN, [Bind::json(&names)]),
        Statement::with(sql::DAILY_COUNTS_BY_SERVICE, {
            let (rollup_days, raw_days) = summary::days_json(&days);
            [Bind::Text(rollup_days), Bind::Text(raw_days)]
        }),
        sql::list_events(&everything, None, RECENT_EVENTS),
    ];
    statements.extend(revenue.iter().map(|(_, m)| sql::measure(m, &from, &to)));
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;

    let mut by_service: HashMap<&'static str, i64> = HashMap::new();
    for ((service, _), result) in revenue.iter().zip(&results[6..]) {
        let value = store::rows::<Measured>(result)?
            .first()
            .and_then(|m| m.value)
            .unwrap_or(0.0);
        *by_service.entry(service).or_default() += value.round() as i64;
    }
    let daily: Vec<DailyCount> = store::rows(&results[4])?;
    let mut recent: Vec<StoredEvent> = store::rows(&results[5])?;
    recent.truncate(RECENT_EVENTS);
    let inputs = Inputs {
        totals: store::rows::<Totals>(&results[0])?
            .into_iter()
            .next()
            .unwrap_or_default(),
        services: store::rows(&results[1])?,
        type_counts: store::rows(&results[2])?,
        seen: store::rows(&results[3])?,
        revenue: by_service,
        timeline: summary::zero_filled(&days, &daily),
        recent: recent.into_iter().map(StoredEvent::into_view).collect(),
    };
    let quiet_before = to_stored(now - Duration::hours(QUIET_AFTER_HOURS));
    let body = overview::build((from, to, range.tz.name().to_string()), today, &quiet_before, inputs);
    http::json(200, &body)
}
