//! `GET /internal/trace/{trace_id}`: one trace's chain, oldest first.

use crate::error::AppResult;
use crate::query::{bad, params::percent_decode};
use crate::report::links::LinkBases;
use crate::report::timeline::{self, Timeline};
use crate::store::EventStore;
use crate::trace::accept_trace_id;

/// Most events a trace timeline returns (one more is read to say it was cut).
pub const TRACE_MAX_EVENTS: usize = 1000;

/// `raw` is the path segment as received (percent-encoded).
pub async fn timeline<S: EventStore>(store: &S, raw: &str, links: &LinkBases) -> AppResult<Timeline> {
    let decoded = percent_decode(raw).unwrap_or_default();
    let trace_id = accept_trace_id(&decoded).ok_or_else(|| {
        bad(
            "trace_id",
            "invalid_trace_id",
            "The trace id must start with trace_, be at most 128 characters and hold visible ASCII only.",
        )
    })?;
    let rows = store.trace_events(trace_id, TRACE_MAX_EVENTS).await?;
    Ok(timeline::build(trace_id, rows, TRACE_MAX_EVENTS, links))
}
