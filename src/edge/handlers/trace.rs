//! `GET /internal/trace/{trace_id}`: one trace's chain, oldest first.

use worker::{Request, Response, Result, RouteContext};

use super::authorize;
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::{bad, params::percent_decode};
use crate::report::event::StoredEvent;
use crate::report::timeline;
use crate::storage::sql;
use crate::trace::accept_trace_id;

pub async fn get(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(timeline(req, ctx).await)
}

async fn timeline(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let raw = ctx
        .param("trace_id")
        .and_then(|p| percent_decode(p))
        .unwrap_or_default();
    let trace_id = accept_trace_id(&raw).ok_or_else(|| {
        bad(
            "trace_id",
            "invalid_trace_id",
            "The trace id must start with trace_, be at most 128 characters and hold visible ASCII only.",
        )
    })?;
    let db = env::db(&ctx.env)?;
    let rows: Vec<StoredEvent> = store::all(&db, &sql::trace_events(trace_id)).await?;
    http::json(200, &timeline::build(trace_id, rows, sql::TRACE_MAX_EVENTS))
}
