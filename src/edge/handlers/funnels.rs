//! `GET /internal/funnels` (the declared funnels) and
//! `GET /internal/funnels/{name}` (one funnel counted over a range).

use chrono::Utc;
use serde_json::json;
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::catalog::funnels::{self, FUNNELS};
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::{bad, range::TimeRange};
use crate::report::funnel::{self, ErrorRow, StepRow};
use crate::storage::{sql, Bind, Statement};

pub async fn list(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(authorize(&req, &ctx.env).and_then(|_| http::json(200, &json!({ "funnels": FUNNELS }))))
}

pub async fn get(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(count(req, ctx).await)
}

async fn count(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let name = ctx.param("name").map(String::as_str).unwrap_or_default();
    let funnel = funnels::find(name).ok_or_else(|| {
        bad(
            "name",
            "unknown_funnel",
            "No funnel has this name; GET /internal/funnels lists them.",
        )
    })?;
    let params = query(&req, &["from", "to", "tz"])?;
    let range = TimeRange::parse(&params, Utc::now())?;
    let (from, to) = (Bind::text(range.from_stored()), Bind::text(range.to_stored()));
    let events: Vec<&str> = funnel.steps.iter().map(|s| s.event).collect();
    let statements = [
        Statement::with(sql::FUNNEL_STEPS, [from.clone(), to.clone(), Bind::json(&events)]),
        Statement::with(sql::FUNNEL_ERRORS, [from, to]),
    ];
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;
    let steps: Vec<StepRow> = store::rows(&results[0])?;
    let errors: Vec<ErrorRow> = store::rows(&results[1])?;
    let result = funnel::compute(funnel, &steps, &errors);
    http::json(
        200,
        &json!({
            "from": range.from_stored(),
            "to": range.to_stored(),
            "tz": range.tz.name(),
            "funnel": result,
        }),
    )
}
