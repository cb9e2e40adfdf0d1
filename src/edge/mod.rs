//! The worker shell: routing ([`router`]), env ([`env`]), D1 ([`store`]) and
//! HTTP mapping ([`http`]). Logic lives in the pure core; handlers here only
//! read the request, call the core, run the SQL it names, and answer.

mod env;
mod handlers;
mod http;
mod retention;
mod router;
mod store;

use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Every error becomes a problem+json here; only a failure to build any
    // response at all reaches workers-rs (which answers a bare 500).
    http::finish(router::route(req, env).await)
}

/// The cron of wrangler.toml: retention (see [`retention`]).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    retention::run(&env).await;
}
