//! Every route of the worker, in one table.
//!
//! `wrangler.toml`'s `run_worker_first` must list a pattern covering each of
//! these paths; anything else would be served from `admin-ui/public` directly.
//! Everything but health and ingest needs `Authorization: Bearer <INTERNAL_API_KEY>`.

use worker::{Env, Request, Response, Result, Router};

use super::handlers::{
    bench, catalog, console, events, funnels, health, ingest, overview, quarantine, summary, trace, usage,
};

pub async fn route(req: Request, env: Env) -> Result<Response> {
    Router::new()
        // The console: `/` leads there; its files get a strict CSP.
        .get_async("/", console::root)
        .get_async("/cp/*path", console::asset)
        .get_async("/api/health", health::get)
        // Ingest: signed (gateway) or bearer (control plane).
        .post_async("/internal/funnel-events/ingest", ingest::post)
        .post_async("/api/events", ingest::post) // the ops-console seed's name for it
        // Reads.
        .get_async("/internal/funnel-events", events::list)
        .get_async("/internal/funnel-events/export", events::export)
        .get_async("/internal/funnel-events/summary", summary::get)
        .get_async("/internal/trace/:trace_id", trace::get)
        .get_async("/internal/funnels", funnels::list)
        .get_async("/internal/funnels/:name", funnels::get)
        .get_async("/internal/catalog", catalog::get)
        .get_async("/internal/quarantine", quarantine::list)
        .post_async("/internal/quarantine/replay", quarantine::replay)
        .get_async("/api/overview", overview::get)
        // The ingest benchmark's references; a 404 unless BENCH_ROUTES = "1" (see bench/).
        .post_async("/bench/floor", bench::floor)
        .post_async("/bench/discard", bench::discard)
        // Monthly usage and quotas (the event dictionary seed).
        .get_async("/internal/usage", usage::user)
        .get_async("/internal/usage/over-quota", usage::over_quota)
        .get_async("/internal/usage/summary", usage::summary)
        .get_async("/internal/quotas", usage::quotas)
        .put_async("/internal/quotas/overrides", usage::put_override)
        .delete_async("/internal/quotas/overrides", usage::delete_override)
        .run(req, env)
        .await
}
