//! The PII sweep: rows stored before every free-text value was scrubbed get
//! the same treatment. A resumable job over `funnel_events` and then
//! `event_quarantine`, in bounded pages, remembering where it stopped
//! (`maintenance_jobs`); the cron runs a step, and `POST /internal/pii-sweep`
//! (admin) runs one at once. Rollups are unaffected (no counted column changes).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::privacy::scrub::{scrub_text, scrub_value};
use crate::store::{EventStore, StoreResult, SweepEventRow, SweepQuarantineRow};
use crate::time::to_stored;

/// Rows read per page, and pages per step (a step stays far inside a request's budget).
pub const SWEEP_PAGE: usize = 500;
pub const SWEEP_PAGES_PER_STEP: usize = 10;

const EVENTS_JOB: &str = "pii_sweep_events";
const QUARANTINE_JOB: &str = "pii_sweep_quarantine";

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SweepStep {
    pub examined: i64,
    /// Rows rewritten because a value in them was PII.
    pub changed: i64,
    /// Both tables have been swept to their end (new rows are scrubbed at ingest).
    pub done: bool,
}

/// An event's free text, scrubbed; `None` when nothing changed.
fn scrub_event(row: &SweepEventRow) -> Option<SweepEventRow> {
    let message = row.error_message.as_deref().map(scrub_text);
    let message_changed = message
        .as_ref()
        .is_some_and(|(m, _)| matches!(m, std::borrow::Cow::Owned(_)));
    let mut payload_changed = false;
    let payload = row
        .payload_json
        .as_deref()
        .map(|p| match serde_json::from_str::<Value>(p) {
            Ok(mut v) => {
                let strings = scrub_value(&mut v, "properties");
                let numbers = crate::privacy::scrub_numbers(&mut v, "properties");
                payload_changed = !strings.is_empty() || !numbers.is_empty();
                if payload_changed {
                    v.to_string()
                } else {
                    p.to_string()
                }
            }
            Err(_) => p.to_string(),
        });
    (message_changed || payload_changed).then(|| SweepEventRow {
        id: row.id,
        error_message: message.map(|(m, _)| m.into_owned()),
        payload_json: payload,
    })
}

fn scrub_copy(row: &SweepQuarantineRow) -> Option<SweepQuarantineRow> {
    let mut v: Value = serde_json::from_str(&row.event_json).ok()?;
    let strings = scrub_value(&mut v, "event");
    let numbers = crate::privacy::scrub_numbers(&mut v, "event");
    if strings.is_empty() && numbers.is_empty() {
        return None;
    }
    Some(SweepQuarantineRow {
        id: row.id,
        event_json: v.to_string(),
    })
}

pub async fn step<S: EventStore>(store: &S, now: DateTime<Utc>) -> StoreResult<SweepStep> {
    let mut out = SweepStep::default();
    let now_text = to_stored(now);
    let events = store.job_state(EVENTS_JOB).await?;
    let mut events_done = events.finished_at.is_some();
    let mut after = events.after_id;
    let mut pages = 0;
    while !events_done && pages < SWEEP_PAGES_PER_STEP {
        let rows = store.sweep_events_page(after, SWEEP_PAGE).await?;
        let changed: Vec<SweepEventRow> = rows.iter().filter_map(scrub_event).collect();
        store.sweep_events_write(&changed).await?;
        out.examined += rows.len() as i64;
        out.changed += changed.len() as i64;
        after = rows.last().map_or(after, |r| r.id);
        events_done = rows.len() < SWEEP_PAGE;
        store
            .record_job(
                EVENTS_JOB,
                after,
                changed.len() as i64,
                events_done.then_some(now_text.as_str()),
                &now_text,
            )
            .await?;
        pages += 1;
    }
    let copies = store.job_state(QUARANTINE_JOB).await?;
    let mut copies_done = copies.finished_at.is_some();
    let mut after = copies.after_id;
    while events_done && !copies_done && pages < SWEEP_PAGES_PER_STEP {
        let rows = store.sweep_quarantine_page(after, SWEEP_PAGE).await?;
        let changed: Vec<SweepQuarantineRow> = rows.iter().filter_map(scrub_copy).collect();
        store.sweep_quarantine_write(&changed).await?;
        out.examined += rows.len() as i64;
        out.changed += changed.len() as i64;
        after = rows.last().map_or(after, |r| r.id);
        copies_done = rows.len() < SWEEP_PAGE;
        store
            .record_job(
                QUARANTINE_JOB,
                after,
                changed.len() as i64,
                copies_done.then_some(now_text.as_str()),
                &now_text,
            )
            .await?;
        pages += 1;
    }
    out.done = events_done && copies_done;
    Ok(out)
}
