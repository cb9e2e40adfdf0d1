//! `GET /internal/quarantine` (rejected events, newest first, with reasons) and
//! `POST /internal/quarantine/replay` (re-validate against today's catalog).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::error::AppResult;
use crate::query::cursor::{self, CursorKey};
use crate::query::params::{self, Params};
use crate::query::{bad, range::TimeRange};
use crate::report::event::split_page;
use crate::report::quarantine::{plan_replay, QuarantineView, QuarantinedEvent, ReplayOutcome, MAX_REPLAY};
use crate::store::{EventStore, QuarantineQuery, Span};
use crate::time::to_stored;

/// Longest accepted `type` filter, in characters.
pub const MAX_TYPE_CHARS: usize = 128;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarantinePage {
    pub from: String,
    pub to: String,
    pub events: Vec<QuarantineView>,
    pub next_cursor: Option<String>,
}

fn scope(params: &Params) -> String {
    format!("quarantine\n{}", params.canonical(&["cursor", "limit"]))
}

pub async fn list<S: EventStore>(
    store: &S,
    config: &Config,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<QuarantinePage> {
    let limit = params::limit(params, 50, 500)?;
    let range = TimeRange::parse(params, now)?;
    let event_type = params.get("type");
    if event_type.is_some_and(|t| t.chars().count() > MAX_TYPE_CHARS) {
        return Err(bad(
            "type",
            "parameter_too_long",
            format!("`type` is longer than {MAX_TYPE_CHARS} characters."),
        ));
    }
    let pending_only = match params.get("status").unwrap_or("all") {
        "all" => false,
        "pending" => true,
        _ => return Err(bad("status", "invalid_status", "`status` must be pending or all.")),
    };
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (range, after) = cursor::resume(&key, &scope(params), params.get("cursor"), range)?;
    let span = Span::from(&range);
    let email = crate::query::filter::parse_email(params, config.email_fingerprint_key.as_bytes())?;
    let trace_id = params
        .get("trace_id")
        .map(|raw| {
            crate::trace::accept_trace_id(raw).ok_or_else(|| {
                bad(
                    "trace_id",
                    "invalid_trace_id",
                    "`trace_id` must start with trace_, be at most 128 characters and hold visible ASCII only.",
                )
            })
        })
        .transpose()?;
    let query = QuarantineQuery {
        span: &span,
        event_type,
        email: email.as_ref(),
        trace_id,
        pending_only,
        after: after.as_ref(),
        limit,
    };
    let rows = store.list_quarantine(&query).await?;
    let (page, next) = split_page(rows, limit, QuarantinedEvent::position);
    let next_cursor = next.map(|p| cursor::encode(&key, &scope(params), (span.from.clone(), span.to.clone()), p));
    Ok(QuarantinePage {
        from: span.from,
        to: span.to,
        events: page.into_iter().map(QuarantinedEvent::into_view).collect(),
        next_cursor,
    })
}

pub async fn replay<S: EventStore>(
    store: &S,
    config: &Config,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<ReplayOutcome> {
    let limit = params::limit(params, MAX_REPLAY, MAX_REPLAY)?;
    let pending = store.pending_for_replay(limit).await?;
    let plan = plan_replay(&pending, config.email_fingerprint_key.as_bytes());
    let inserted = store.apply_replay(&plan, &to_stored(now)).await?;
    let remaining = store.pending_quarantine_count().await?;
    Ok(ReplayOutcome {
        examined: pending.len(),
        replayed: inserted,
        already_stored: plan.rows.len() - inserted,
        still_failing: plan.still_failing.len(),
        pending: remaining,
    })
}
