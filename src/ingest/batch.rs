//! A batch from plan to response.
//!
//! [`plan`] normalises every event and decides what to insert and what to
//! quarantine; storage inserts and reports which `(source, event_id)` pairs
//! were new; [`respond`] turns that into the contract's per-event results.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{json, Value};

use super::normalize::{normalize, EventRow, Normalized, QuarantineRow, RequestContext};
use crate::catalog::validate::Issue;

#[derive(Debug, Clone, PartialEq)]
enum Planned {
    /// Index into [`Plan::rows`].
    Insert(usize),
    Rejected(Vec<Issue>),
    /// Same `(source, event_id)` as an earlier event of this batch.
    DuplicateInBatch,
}

#[derive(Debug, Clone, PartialEq)]
struct PlannedEvent {
    event_id: String,
    planned: Planned,
    warnings: Vec<Issue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Valid events, each `(source, event_id)` at most once.
    pub rows: Vec<EventRow>,
    pub quarantine: Vec<QuarantineRow>,
    events: Vec<PlannedEvent>,
    request_warnings: Vec<String>,
}

pub fn plan(
    events: &[Value],
    ctx: &RequestContext,
    request_warnings: Vec<String>,
    new_event_id: &mut dyn FnMut() -> String,
) -> Plan {
    let mut rows = Vec::new();
    let mut quarantine = Vec::new();
    let mut seen = HashSet::new();
    let planned = events
        .iter()
        .map(|raw| match normalize(raw, ctx, new_event_id) {
            Normalized::Valid { row, warnings } => {
                let event_id = row.event_id.clone();
                let planned = if seen.insert((row.source.clone(), event_id.clone())) {
                    rows.push(row);
                    Planned::Insert(rows.len() - 1)
                } else {
                    Planned::DuplicateInBatch
                };
                PlannedEvent {
                    event_id,
                    planned,
                    warnings,
                }
            }
            Normalized::Rejected {
                event_id,
                errors,
                warnings,
                quarantine: q,
                ..
            } => {
                quarantine.push(q);
                PlannedEvent {
                    event_id,
                    planned: Planned::Rejected(errors),
                    warnings,
                }
            }
        })
        .collect();
    Plan {
        rows,
        quarantine,
        events: planned,
        request_warnings,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Duplicate,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventResult {
    pub index: usize,
    pub status: Status,
    pub event_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Issue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Issue>,
}

/// The HTTP answer to an ingest request whose batch reached storage.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestResponse {
    pub status: u16,
    /// 4xx answers are problem+json (with the results as extension members).
    pub is_problem: bool,
    pub body: Value,
}

/// Builds the response once storage has said which rows were new.
pub fn respond(plan: &Plan, inserted: &HashSet<(String, String)>) -> IngestResponse {
    let mut results = Vec::with_capacity(plan.events.len());
    let mut errors = Vec::new();
    let mut warnings = plan.request_warnings.clone();
    let (mut processed, mut failed) = (0usize, 0usize);
    for (index, ev) in plan.events.iter().enumerate() {
        let (status, event_errors) = match &ev.planned {
            Planned::Insert(i) => {
                let row = &plan.rows[*i];
                let key = (row.source.clone(), row.event_id.clone());
                let status = if inserted.contains(&key) {
                    Status::Accepted
                } else {
                    Status::Duplicate
                };
                (status, Vec::new())
            }
            Planned::DuplicateInBatch => (Status::Duplicate, Vec::new()),
            Planned::Rejected(errs) => (Status::Rejected, errs.clone()),
        };
        match status {
            Status::Rejected => failed += 1,
            _ => processed += 1,
        }
        errors.extend(event_errors.iter().map(|e| format!("events[{index}]: {}", e.message)));
        warnings.extend(ev.warnings.iter().map(|w| format!("events[{index}]: {}", w.message)));
        results.push(EventResult {
            index,
            status,
            event_id: ev.event_id.clone(),
            errors: event_errors,
            warnings: ev.warnings.clone(),
        });
    }
    let mut body = json!({
        "success": failed == 0,
        "processed": processed,
        "failed": failed,
        "results": results,
        "errors": errors,
        "warnings": warnings,
    });
    if processed > 0 {
        return IngestResponse {
            status: 200,
            is_problem: false,
            body,
        };
    }
    let problem = crate::error::Problem::new(
        422,
        "all_events_rejected",
        "Unprocessable Content",
        "Every event in the batch was rejected; see results[].errors. They are kept in the quarantine.",
    );
    if let (Value::Object(b), Ok(Value::Object(p))) = (&mut body, serde_json::to_value(problem)) {
        b.extend(p);
    }
    IngestResponse {
        status: 422,
        is_problem: true,
        body,
    }
}

#[cfg(test)]
mod tests;
