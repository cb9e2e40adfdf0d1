//! `GET /internal/funnel-events/summary`: the catalog's KPIs and zero-filled
//! daily counts per event type, in one D1 round trip: one read of the day
//! rollup, plus one statement per KPI the rollup cannot answer.

use std::collections::HashMap;

use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::range::TimeRange;
use crate::report::summary::{self, DailyRollup};
use crate::storage::{sql, Bind, Statement};

pub const PARAMS: &[&str] = &["from", "to", "tz"];

pub async fn get(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(summarize(req, ctx).await)
}

#[derive(Deserialize)]
struct MeasureRow {
    value: Value,
    /// Raw statements report the smallest sample rate, rollup ones whether sampled rows took part.
    min_rate: Option<f64>,
    estimated: Option<i64>,
}

async fn summarize(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, PARAMS)?;
    let range = TimeRange::parse(&params, Utc::now())?;
    let days = range.days();
    let (from, to) = (range.from_stored(), range.to_stored());
    let measured = summary::measured();

    // One read of the day rollup answers the chart and every count and amount
    // KPI of named types; the others (distinct users, top values) get a statement each.
    let (rollup_days, raw_days) = summary::days_json(&days);
    let (from_rollup, queried): (Vec<_>, Vec<_>) = measured.iter().partition(|(_, m)| sql::in_event_rollup(m));
    let mut statements = vec![Statement::with(
        sql::DAILY_ROLLUP_BY_TYPE,
        [Bind::Text(rollup_days), Bind::Text(raw_days)],
    )];
    statements.extend(queried.iter().map(|(_, m)| sql::measure(m, &from, &to)));
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;

    let day_rows: Vec<DailyRollup> = store::rows(&results[0])?;
    let daily = summary::daily_counts(&day_rows);
    let mut values: HashMap<&str, summary::Measured> = HashMap::new();
    for (id, m) in &from_rollup {
        if let Some(v) = summary::from_daily(m, &day_rows) {
            values.insert(id, v);
        }
    }
    for ((id, _), result) in queried.iter().zip(&results[1..]) {
        let row = store::rows::<MeasureRow>(result)?.into_iter().next();
        let estimate = row
            .as_ref()
            .is_some_and(|r| r.min_rate.is_some_and(|m| m < 1.0) || r.estimated.is_some_and(|e| e != 0));
        let value = row.map_or(Value::Null, |r| r.value);
        values.insert(id, summary::Measured { value, estimate });
    }
    http::json(
        200,
        &json!({
            "from": from,
            "to": to,
            "tz": range.tz.name(),
            "kpis": summary::evaluate(&values),
            "totals": summary::totals(&daily),
            // Counts of these types are estimates: sampled rows weigh 1/sample_rate.
            "estimated": summary::estimated_keys(&daily),
            "daily": summary::zero_filled(&days, &daily),
        }),
    )
}
