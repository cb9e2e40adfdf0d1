//! The ingest benchmark's two reference routes. Both exist only when the
//! deployment sets `BENCH_ROUTES = "1"` (the bench harness does, locally)
//! *and* the request was addressed to a loopback host, so a variable set by
//! mistake on a deployed worker still opens nothing (Cloudflare routes by
//! host: no outside request reaches a worker as `127.0.0.1`). Everywhere
//! else they are a 404 like any unknown path.
//!
//! - `POST /bench/floor`: D1's own cost. Writes the rows it is given (a JSON
//!   array of prepared `funnel_events` rows) with the same one statement
//!   ingest uses, and does nothing else: no auth, no validation.
//! - `POST /bench/discard`: the worker's own cost. Everything ingest does
//!   (signature, parse, validation, fingerprints, the per-event answer) but
//!   no D1 call.

use worker::{Request, Response, Result, RouteContext};

use super::ingest;
use crate::edge::{env, http, store};
use crate::error::{AppError, AppResult};
use crate::storage::{sql, Bind, Statement};

pub fn enabled(req: &Request, env: &worker::Env) -> bool {
    let loopback = req
        .url()
        .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")));
    loopback && env.var("BENCH_ROUTES").is_ok_and(|v| v.to_string() == "1")
}

pub async fn discard(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    if !enabled(&req, &ctx.env) {
        return http::problem(&AppError::NotFound);
    }
    http::respond(ingest::ingest(req, ctx, ingest::Sink::Discard).await)
}

pub async fn floor(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    if !enabled(&req, &ctx.env) {
        return http::problem(&AppError::NotFound);
    }
    http::respond(write_rows(req, ctx).await)
}

async fn write_rows(mut req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    let rows = req
        .text()
        .await
        .map_err(|_| AppError::InvalidBody("The body could not be read.".into()))?;
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &[Statement::with(sql::INSERT_EVENTS, [Bind::Text(rows)])]).await?;
    let inserted = match results.first() {
        Some(r) => store::rows::<serde_json::Value>(r)?.len(),
        None => 0,
    };
    http::json(200, &serde_json::json!({ "inserted": inserted }))
}
