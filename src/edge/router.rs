//! Every route of the worker, in one table.
//!
//! `wrangler.toml`'s `run_worker_first` must list a pattern covering each of
//! these paths; everything else is served from `admin-ui/` as static assets.

use worker::{Env, Request, Response, Result, Router};

use super::handlers::{health, ingest};

pub async fn route(req: Request, env: Env) -> Result<Response> {
    Router::new()
        .get_async("/api/health", health::get)
        .post_async("/internal/funnel-events/ingest", ingest::post)
        // The ops-console seed's name for the same endpoint.
        .post_async("/api/events", ingest::post)
        .run(req, env)
        .await
}
