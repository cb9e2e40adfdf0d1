//! `GET /internal/quarantine` (rejected events, newest first, with reasons) and
//! `POST /internal/quarantine/replay` (re-validate against today's catalog).

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::cursor::{self, CursorKey};
use crate::query::params::{self, Params};
use crate::query::{bad, range::TimeRange};
use crate::report::event::split_page;
use crate::report::quarantine::{plan_replay, QuarantinedEvent, ReplayOutcome, MAX_REPLAY};
use crate::storage::{sql, Bind, Statement};
use crate::time::{parse_rfc3339, to_stored};

const LIST_PARAMS: &[&str] = &["from", "to", "tz", "type", "status", "limit", "cursor"];

pub async fn list(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(list_page(req, ctx).await)
}

pub async fn replay(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(replay_pending(req, ctx).await)
}

fn scope(params: &Params) -> String {
    format!("quarantine\n{}", params.canonical(&["cursor", "limit"]))
}

async fn list_page(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    let config = authorize(&req, &ctx.env)?;
    let params = query(&req, LIST_PARAMS)?;
    let limit = params::limit(&params, 50, 500)?;
    let mut range = TimeRange::parse(&params, Utc::now())?;
    let event_type = params.get("type");
    if event_type.is_some_and(|t| t.chars().count() > 128) {
        return Err(bad(
            "type",
            "parameter_too_long",
            "`type` is longer than 128 characters.",
        ));
    }
    let pending_only = match params.get("status").unwrap_or("all") {
        "all" => false,
        "pending" => true,
        _ => return Err(bad("status", "invalid_status", "`status` must be pending or all.")),
    };
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let after = match params.get("cursor") {
        None => None,
        Some(raw) => {
            let c = cursor::decode(&key, &scope(&params), raw)?;
            if let (Some(from), Some(to)) = (parse_rfc3339(&c.range.0), parse_rfc3339(&c.range.1)) {
                range = TimeRange { from, to, ..range };
            }
            Some(c.position)
        }
    };
    let (from, to) = (range.from_stored(), range.to_stored());
    let statement = sql::list_quarantine((&from, &to), event_type, pending_only, after.as_ref(), limit);
    let db = env::db(&ctx.env)?;
    let rows: Vec<QuarantinedEvent> = store::all(&db, &statement).await?;
    let (page, next) = split_page(rows, limit, QuarantinedEvent::position);
    let next_cursor = next.map(|p| cursor::encode(&key, &scope(&params), (from.clone(), to.clone()), p));
    http::json(
        200,
        &json!({
            "from": from,
            "to": to,
            "events": page.into_iter().map(QuarantinedEvent::into_view).collect::<Vec<_>>(),
            "next_cursor": next_cursor,
        }),
    )
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

async fn replay_pending(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    let config = authorize(&req, &ctx.env)?;
    let params = query(&req, &["limit"])?;
    let limit = params::limit(&params, MAX_REPLAY, MAX_REPLAY)?;
    let db = env::db(&ctx.env)?;
    let pending: Vec<QuarantinedEvent> = store::all(
        &db,
        &Statement::with(sql::QUARANTINE_PENDING_NEXT, [Bind::Int(limit as i64)]),
    )
    .await?;
    let plan = plan_replay(&pending, config.email_fingerprint_key.as_bytes());
    let inserted = store::apply_replay(&db, &plan, &to_stored(Utc::now())).await?;
    let remaining: Vec<Count> = store::all(&db, &Statement::new(sql::QUARANTINE_PENDING_COUNT)).await?;
    http::json(
        200,
        &ReplayOutcome {
            examined: pending.len(),
            replayed: inserted,
            already_stored: plan.rows.len() - inserted,
            still_failing: plan.still_failing.len(),
            pending: remaining.first().map_or(0, |c| c.n),
        },
    )
}
