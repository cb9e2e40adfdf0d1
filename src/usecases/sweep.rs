//! The PII sweep: rows stored before every free-text value was scrubbed get
//! the same treatment. A resumable job over `funnel_events` and then
//! `event_quarantine`, in bounded pages, remembering where it stopped
//! (`maintenance_jobs`); the cron runs a step, and `POST /internal/pii-sweep`
//! (admin) runs one at once. Rollups are unaffected (no counted column changes).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::privacy::{scrub_numbers, scrub_text, scrub_value};
use crate::store::{EventStore, StoreResult, SweepEventRow, SweepQuarantineRow};
use crate::time::to_stored;

/// Rows read per page, and pages per step (a step stays far inside a request's budget).
pub const SWEEP_PAGE: usize = 500;
pub const SWEEP_PAGES_PER_STEP: usize = 10;

/// What one step did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SweepStep {
    pub examined: i64,
    /// Rows rewritten because a value in them was PII.
    pub changed: i64,
    /// Both tables have been swept to their end (new rows are scrubbed at ingest).
    pub done: bool,
}

/// One table the sweep walks, in id order, remembering where it stopped.
trait Swept: Sized {
    const JOB: &'static str;
    fn id(&self) -> i64;
    /// The row with its PII replaced; `None` when nothing changed.
    fn scrubbed(&self) -> Option<Self>;
    async fn page<S: EventStore>(store: &S, after_id: i64) -> StoreResult<Vec<Self>>;
    async fn write<S: EventStore>(store: &S, rows: &[Self]) -> StoreResult<()>;
}

impl Swept for SweepEventRow {
    const JOB: &'static str = "pii_sweep_events";

    fn id(&self) -> i64 {
        self.id
    }

    /// The error message and every string (and card-like number) of the properties.
    fn scrubbed(&self) -> Option<Self> {
        let message = self.error_message.as_deref().map(scrub_text);
        let message_changed = message.as_ref().is_some_and(|(_, kinds)| !kinds.is_empty());
        let mut payload_changed = false;
        let payload = self
            .payload_json
            .as_deref()
            .map(|p| match serde_json::from_str::<Value>(p) {
                Ok(mut v) => {
                    let strings = scrub_value(&mut v, "properties");
                    let numbers = scrub_numbers(&mut v, "properties");
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
            id: self.id,
            error_message: message.map(|(m, _)| m.into_owned()),
            payload_json: payload,
        })
    }

    async fn page<S: EventStore>(store: &S, after_id: i64) -> StoreResult<Vec<Self>> {
        store.sweep_events_page(after_id, SWEEP_PAGE).await
    }

    async fn write<S: EventStore>(store: &S, rows: &[Self]) -> StoreResult<()> {
        store.sweep_events_write(rows).await
    }
}

impl Swept for SweepQuarantineRow {
    const JOB: &'static str = "pii_sweep_quarantine";

    fn id(&self) -> i64 {
        self.id
    }

    /// Every string (and card-like number) of the quarantined copy.
    fn scrubbed(&self) -> Option<Self> {
        let mut v: Value = serde_json::from_str(&self.event_json).ok()?;
        let strings = scrub_value(&mut v, "event");
        let numbers = scrub_numbers(&mut v, "event");
        if strings.is_empty() && numbers.is_empty() {
            return None;
        }
        Some(SweepQuarantineRow {
            id: self.id,
            event_json: v.to_string(),
        })
    }

    async fn page<S: EventStore>(store: &S, after_id: i64) -> StoreResult<Vec<Self>> {
        store.sweep_quarantine_page(after_id, SWEEP_PAGE).await
    }

    async fn write<S: EventStore>(store: &S, rows: &[Self]) -> StoreResult<()> {
        store.sweep_quarantine_write(rows).await
    }
}

/// Sweeps one table for at most `pages_left` pages; whether it reached the end.
async fn sweep<T: Swept, S: EventStore>(
    store: &S,
    pages_left: &mut usize,
    out: &mut SweepStep,
    now: &str,
) -> StoreResult<bool> {
    let state = store.job_state(T::JOB).await?;
    let mut done = state.finished_at.is_some();
    let mut after = state.after_id;
    while !done && *pages_left > 0 {
        let rows = T::page(store, after).await?;
        let changed: Vec<T> = rows.iter().filter_map(T::scrubbed).collect();
        T::write(store, &changed).await?;
        out.examined += rows.len() as i64;
        out.changed += changed.len() as i64;
        after = rows.last().map_or(after, T::id);
        done = rows.len() < SWEEP_PAGE;
        store
            .record_job(T::JOB, after, changed.len() as i64, done.then_some(now), now)
            .await?;
        *pages_left -= 1;
    }
    Ok(done)
}

/// Runs up to [`SWEEP_PAGES_PER_STEP`] pages: the events first, then the quarantine.
pub async fn step<S: EventStore>(store: &S, now: DateTime<Utc>) -> StoreResult<SweepStep> {
    let mut out = SweepStep::default();
    let now = to_stored(now);
    let mut pages_left = SWEEP_PAGES_PER_STEP;
    let events_done = sweep::<SweepEventRow, S>(store, &mut pages_left, &mut out, &now).await?;
    let copies_done = events_done && sweep::<SweepQuarantineRow, S>(store, &mut pages_left, &mut out, &now).await?;
    out.done = events_done && copies_done;
    Ok(out)
}
