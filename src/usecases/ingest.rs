//! `POST /internal/funnel-events/ingest` (and `POST /api/events`).
//!
//! Order of checks: size (by the dispatcher, before the body is read) →
//! credentials → content type → JSON → per-event validation → one
//! transaction.
//!
//! When D1 cannot take a batch that holds no metered event, and the worker
//! has a queue, the batch goes to the queue instead: its valid events answer
//! `queued` and the request 202; the queue's consumer stores them later
//! ([`super::queue`]). A metered event needs D1 at once (its quota is checked
//! in the same transaction), so a batch holding one keeps the 503. With
//! `INGEST_MODE=queue` a batch without metered events goes to the queue first.

use chrono::{DateTime, Duration, Utc};

use crate::catalog::quotas;
use crate::config::{Config, IngestMode};
use crate::error::{AppError, AppResult};
use crate::ingest::batch::{self, IngestResponse, Plan, StoreOutcome};
use crate::ingest::{body, normalize::RequestContext, queued};
use crate::security::fingerprint::Fingerprinter;
use crate::security::{self, keys::Role};
use crate::spool::Spool;
use crate::store::{EventStore, Span, StorageError};
use crate::time::{parse_rfc3339, to_stored};
use crate::trace::accept_trace_id;

/// Where an accepted batch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Store,
    /// Nowhere, every row reported new: the benchmark's measure of the
    /// worker's own cost (`POST /bench/discard`).
    Discard,
}

/// What ingest reads of a request: its credentials, content type, trace header and raw body.
#[derive(Debug, Clone, Copy)]
pub struct IngestRequest<'a> {
    pub signature: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub trace_header: Option<&'a str>,
    pub body: &'a [u8],
}

/// The answer, and the trace id to echo (only one that passed the trace rule).
#[derive(Debug, Clone, PartialEq)]
pub struct IngestAnswer {
    pub response: IngestResponse,
    pub trace_id: Option<String>,
}

/// The quota month of a batch: the month its first row falls in (rows of one
/// request are stamped with the same receive time).
pub fn quota_month(plan: &Plan) -> Span {
    let (from, to) = plan
        .rows
        .first()
        .and_then(|r| parse_rfc3339(&r.ts))
        .map(quotas::month_of)
        .map(|(a, b)| (to_stored(a), to_stored(b)))
        .unwrap_or_default();
    Span { from, to }
}

/// Puts a planned batch (no metered row) in the queue: every message, in as
/// few calls as the limits allow. A failure is a 503: the sender retries
/// (events with an `event_id` are stored once whatever was already queued).
async fn enqueue(spool: &dyn Spool, plan: &Plan) -> AppResult<StoreOutcome> {
    let messages = queued::encode(plan, &super::random_id("q")).map_err(|e| {
        log::warn!("ingest: batch not queued: {e}");
        AppError::StorageUnavailable
    })?;
    for call in queued::send_calls(messages) {
        spool.send(call).await.map_err(|e| {
            log::warn!("ingest: batch not queued: {e}");
            AppError::StorageUnavailable
        })?;
    }
    Ok(StoreOutcome {
        queued: true,
        ..StoreOutcome::default()
    })
}

/// Stores a planned batch, through the queue when the mode says so or D1 cannot take it.
async fn store_plan<S: EventStore>(
    store: &S,
    spool: Option<&dyn Spool>,
    mode: IngestMode,
    plan: &Plan,
) -> AppResult<StoreOutcome> {
    // Metered rows need their quota checked in D1 at once: never queued.
    let spool = spool.filter(|_| plan.metered.is_empty());
    if let (Some(spool), IngestMode::Queue) = (spool, mode) {
        return enqueue(spool, plan).await;
    }
    match (store.write_batch(plan, &quota_month(plan)).await, spool) {
        (Ok(outcome), _) => Ok(outcome),
        (Err(StorageError::Unavailable(cause)), Some(spool)) => {
            log::warn!("ingest: D1 could not take the batch ({cause}); queued instead");
            enqueue(spool, plan).await
        }
        (Err(e), _) => Err(e.into()),
    }
}

pub async fn ingest<S: EventStore>(
    store: &S,
    spool: Option<&dyn Spool>,
    config: &Config,
    req: IngestRequest<'_>,
    received_at: DateTime<Utc>,
    sink: Sink,
    new_event_id: &mut dyn FnMut() -> String,
) -> AppResult<IngestAnswer> {
    let credential = security::authenticate_ingest(
        req.signature,
        req.authorization,
        req.body,
        config,
        received_at.timestamp(),
    )
    .map_err(AppError::Unauthorized)?;
    if let security::Credential::Bearer(key) = &credential {
        key.require(Role::Ingest)?;
    }
    if !body::is_json_content_type(req.content_type) {
        return Err(AppError::UnsupportedMediaType);
    }
    let sender = Sender {
        default_source: credential.default_source(),
        browser: false,
    };
    accept(store, spool, config, sender, req, received_at, sink, new_event_id).await
}

/// Who sent an authenticated batch: the source its events default to, and
/// whether it came from a web page (only browser-safe types, see
/// [`crate::ingest::normalize::RequestContext::browser`]).
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub default_source: &'a str,
    pub browser: bool,
}

/// Everything after the credentials and content type: parse, validate,
/// scrub, sample, store and answer per event. Signed, bearer and browser
/// ingest all go through here.
#[allow(clippy::too_many_arguments)]
pub async fn accept<S: EventStore>(
    store: &S,
    spool: Option<&dyn Spool>,
    config: &Config,
    sender: Sender<'_>,
    req: IngestRequest<'_>,
    received_at: DateTime<Utc>,
    sink: Sink,
    new_event_id: &mut dyn FnMut() -> String,
) -> AppResult<IngestAnswer> {
    let envelope = body::parse_envelope(req.body)?;

    let header_trace = req.trace_header;
    let accepted_trace = header_trace.and_then(accept_trace_id);
    let mut request_warnings = Vec::new();
    if header_trace.is_some() && accepted_trace.is_none() {
        request_warnings.push("x-trace-id header is not a trace id; ignored".to_string());
    }
    let request = RequestContext {
        received_at,
        clock_skew: envelope.sent_at.map_or(Duration::zero(), |sent| received_at - sent),
        default_source: sender.default_source,
        header_trace_id: accepted_trace,
        fingerprints: Fingerprinter::new(config.email_fingerprint_key.as_bytes()),
        replay: false,
        browser: sender.browser,
    };
    let plan = batch::plan(&envelope.events, &request, request_warnings, new_event_id);

    let outcome = match sink {
        Sink::Store => store_plan(store, spool, config.ingest_mode, &plan).await?,
        Sink::Discard => StoreOutcome {
            inserted: plan
                .rows
                .iter()
                .map(|r| (r.source.clone(), r.event_id.clone()))
                .collect(),
            ..StoreOutcome::default()
        },
    };
    Ok(IngestAnswer {
        response: batch::respond_with(&plan, &outcome),
        trace_id: accepted_trace.map(str::to_string),
    })
}

/// A server-made idempotency key for events sent without `event_id`.
pub fn random_event_id() -> String {
    super::random_id("evt")
}
