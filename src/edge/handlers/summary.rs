//! `GET /internal/funnel-events/summary`: the catalog's KPIs and zero-filled
//! daily counts per event type, in one D1 round trip.

use std::collections::HashMap;

use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::range::TimeRange;
use crate::report::summary::{self, DailyCount};
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

    let (rollup_days, raw_days) = summary::days_json(&days);
    let mut statements = vec![Statement::with(
        sql::DAILY_COUNTS_BY_TYPE,
        [Bind::Text(rollup_days), Bind::Text(raw_days)],
    )];
    statements.extend(measured.iter().map(|(_, m)| sql::measure(m, &from, &to)));
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;

    let daily: Vec<DailyCount> = store::rows(&results[0])?;
    let mut values: HashMap<&str, summary::Measured> = HashMap::new();
    for ((id, _), result) in measured.iter().zip(&results[1..]) {
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
