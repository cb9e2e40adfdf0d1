//! The worker shell: turns the platform's request into the core's
//! ([`crate::api::ApiRequest`]), runs it through [`crate::api::handle`] over
//! the D1 backend ([`d1`]), and turns the reply back ([`http`]). Routes,
//! access rules and logic all live in the core.

mod archive;
mod d1;
mod env;
mod http;
mod log;
mod notify;
mod queue;
mod ratelimit;

use chrono::Utc;
use worker::{event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::api;

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    log::install();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Every error becomes a problem+json in the core; only a failure to build
    // any response at all reaches workers-rs (which answers a bare 500).
    let config = env::config(&env);
    let mut api_req = match http::request_of(&req) {
        Ok(api_req) => api_req,
        Err(e) => {
            worker::console_error!("request unreadable: {e}");
            let reply = api::dispatch::refuse(&crate::error::AppError::Internal);
            return http::into_response(reply, None, &env).await;
        }
    };
    match http::serve(req, &mut api_req, config, &env).await {
        Ok(response) => Ok(response),
        Err(e) => {
            worker::console_error!("response failed: {e}");
            // The last resort leaves like every other answer (CORS on /collect).
            let config = env::config(&env);
            let reply = api::dispatch::refuse_request(config.as_ref(), &api_req, &crate::error::AppError::Internal);
            http::into_response(reply, None, &env).await
        }
    }
}

/// wrangler.toml's frequent cron: sketch compaction and a retention step.
const COMPACTION_CRON: &str = "*/10 * * * *";

/// wrangler.toml's every-minute cron: the alert rules only.
const ALERTS_CRON: &str = "* * * * *";

/// The crons of wrangler.toml: the daily maintenance (retention, erasures, the
/// access log's retention, compaction, the PII sweep), the frequent compaction,
/// and the every-minute alert rules.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let (Some(config), Ok(store)) = (env::config(&env), env::store(&env)) else {
        worker::console_error!("maintenance skipped: configuration or D1 binding missing");
        return;
    };
    if event.cron() == ALERTS_CRON {
        let line =
            crate::usecases::maintenance::alerts(&store, &config, Some(&notify::FetchNotifier), Utc::now()).await;
        worker::console_log!("{line}");
        return;
    }
    let archive = archive::bucket(&env);
    if event.cron() == COMPACTION_CRON {
        let line = crate::usecases::maintenance::compaction(&store).await;
        worker::console_log!("{line}");
        // Retention also runs here, so a backlog of expired hours drains in bounded steps.
        let line = crate::usecases::maintenance::retention_step(&store, archive.as_deref(), &config, Utc::now()).await;
        worker::console_log!("{line}");
        return;
    }
    for line in crate::usecases::maintenance::run(&store, archive.as_deref(), &config, Utc::now())
        .await
        .lines
    {
        worker::console_log!("{line}");
    }
}

/// The ingest queue's consumer (wrangler.toml `[[queues.consumers]]`): each
/// message acknowledged once stored, retried otherwise. Always `Ok`.
#[event(queue)]
async fn consume_ingest_queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    if batch.queue() == queue::DEAD_LETTER_QUEUE {
        queue::keep_dead_letters(batch, &env).await;
        return Ok(());
    }
    queue::consume(batch, &env).await;
    Ok(())
}
