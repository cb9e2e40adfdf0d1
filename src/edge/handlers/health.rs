//! `GET /api/health`: no key needed; reveals no event data.

use serde_json::json;
use worker::{Request, Response, Result, RouteContext};

use crate::edge::{env, http, store};
use crate::error::AppResult;

pub async fn get(_req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(check(&ctx).await)
}

async fn check(ctx: &RouteContext<()>) -> AppResult<Response> {
    let db = env::db(&ctx.env)?;
    store::ping(&db).await?;
    http::json(
        200,
        &json!({
            "status": "ok",
            "db": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "time": crate::time::to_stored(chrono::Utc::now()),
        }),
    )
}
