//! `POST /internal/funnel-events/ingest` (and `POST /api/events`).
//!
//! Order of checks: size (before reading a declared-too-large body) →
//! credentials → content type → JSON → per-event validation → one D1 batch.

use chrono::Utc;
use worker::{Request, Response, Result, RouteContext};

use super::header;
use crate::edge::{env, http, store};
use crate::error::{AppError, AppResult, PROBLEM_CONTENT_TYPE};
use crate::ingest::batch::{self, StoreOutcome};
use crate::ingest::{body, normalize::RequestContext};
use crate::security::{self, signature};
use crate::trace::accept_trace_id;

pub async fn post(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(ingest(req, ctx, Sink::D1).await)
}

/// Where an accepted batch goes.
pub enum Sink {
    D1,
    /// Nowhere, every row reported new: the benchmark's measure of the
    /// worker's own cost (`POST /bench/discard`, see `bench.rs`).
    Discard,
}

pub async fn ingest(mut req: Request, ctx: RouteContext<()>, sink: Sink) -> AppResult<Response> {
    let received_at = Utc::now();
    body::check_declared_length(header(&req, "content-length").as_deref())?;
    let raw = req
        .bytes()
        .await
        .map_err(|_| AppError::InvalidBody("The body could not be read.".into()))?;
    body::check_body_size(&raw)?;

    let config = env::config(&ctx.env)?;
    let credential = security::authenticate_ingest(
        header(&req, signature::HEADER).as_deref(),
        header(&req, "authorization").as_deref(),
        &raw,
        &config,
        received_at.timestamp(),
    )
    .map_err(AppError::Unauthorized)?;

    if !body::is_json_content_type(header(&req, "content-type").as_deref()) {
        return Err(AppError::UnsupportedMediaType);
    }
    let envelope = body::parse_envelope(&raw)?;

    let header_trace = header(&req, "x-trace-id");
    let accepted_trace = header_trace.as_deref().and_then(accept_trace_id);
    let mut request_warnings = Vec::new();
    if header_trace.is_some() && accepted_trace.is_none() {
        request_warnings.push("x-trace-id header is not a trace id; ignored".to_string());
    }
    let request = RequestContext {
        received_at,
        clock_skew: envelope
            .sent_at
            .map_or(chrono::Duration::zero(), |sent| received_at - sent),
        default_source: credential.default_source(),
        header_trace_id: accepted_trace,
        fingerprint_key: config.email_fingerprint_key.as_bytes(),
        replay: false,
    };
    let plan = batch::plan(&envelope.events, &request, request_warnings, &mut new_event_id);

    let outcome = match sink {
        Sink::D1 => store::insert_batch(&env::db(&ctx.env)?, &plan).await?,
        Sink::Discard => StoreOutcome {
            inserted: plan
                .rows
                .iter()
                .map(|r| (r.source.clone(), r.event_id.clone()))
                .collect(),
            ..StoreOutcome::default()
        },
    };
    let answer = batch::respond_with(&plan, &outcome);

    let content_type = if answer.is_problem {
        PROBLEM_CONTENT_TYPE
    } else {
        "application/json"
    };
    let response = http::body_response(answer.status, content_type, &answer.body)?;
    if let Some(trace) = accepted_trace {
        // Echoed only after it passed the trace rule.
        response.headers().set("x-trace-id", trace).map_err(http::internal)?;
    }
    Ok(response)
}

/// A server-made idempotency key for events sent without `event_id`.
fn new_event_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without randomness, fall back to the clock: unique enough, never a panic.
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
    }
    format!("evt_{}", hex::encode(bytes))
}
