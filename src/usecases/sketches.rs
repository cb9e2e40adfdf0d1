//! Keeping the distinct-count sketches small to read: the compaction merges
//! the parts each write appended into one sketch per hour, and per local day
//! and month of each zone of `DAY_ROLLUP_ZONES` (UTC and Seoul), so a read
//! over a year fetches a few dozen sketches, not one part per batch. And a rebuild from the rows, for rows no write sketched (the bulk
//! loader's, the demo's backdated ones).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::query::params::Params;
use crate::report::summary::DAY_ROLLUP_ZONES;
use crate::sketch::{containing_in, distinct, Hll};
use crate::store::{EventStore, SketchKey, StoredSketch};

/// Parts merged by one compaction step (each is a few hundred bytes; the
/// merged sketches of one step stay under a D1 batch's size).
pub const PARTS_PER_STEP: usize = 2_000;

/// What one compaction step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compaction {
    pub parts: usize,
    pub sketches: usize,
}

fn corrupt(what: &str, e: impl std::fmt::Debug) -> AppError {
    AppError::from(crate::error::StorageError::Decode(format!("sketch {what}: {e:?}")))
}

/// Merges up to `max_parts` of the oldest parts into their hour, day and month sketches.
pub async fn compact_step<S: EventStore>(store: &S, max_parts: usize) -> AppResult<Compaction> {
    let parts = store.oldest_sketch_parts(max_parts).await?;
    if parts.is_empty() {
        return Ok(Compaction::default());
    }
    let mut merged: BTreeMap<SketchKey, Hll> = BTreeMap::new();
    for part in &parts {
        for period in containing_in(&part.hour, DAY_ROLLUP_ZONES) {
            merged
                .entry((part.kind.clone(), part.scope.clone(), period))
                .or_default()
                .merge_encoded(&part.regs)
                .map_err(|e| corrupt(&part.hour, e))?;
        }
    }
    let keys: Vec<SketchKey> = merged.keys().cloned().collect();
    for stored in store.sketches_by_key(&keys).await? {
        let key = (stored.kind, stored.scope, stored.period);
        if let Some(m) = merged.get_mut(&key) {
            m.merge_encoded(&stored.regs).map_err(|e| corrupt(&key.2, e))?;
        }
    }
    let sketches: Vec<StoredSketch> = merged
        .into_iter()
        .map(|((kind, scope, period), hll)| StoredSketch {
            kind,
            scope,
            period,
            regs: hll.encode(),
        })
        .collect();
    let ids: Vec<i64> = parts.iter().map(|p| p.id).collect();
    store.write_compaction(&sketches, &ids).await?;
    Ok(Compaction {
        parts: parts.len(),
        sketches: sketches.len(),
    })
}

/// Compacts until no part is left or `max_steps` steps ran; the parts merged.
pub async fn compact<S: EventStore>(store: &S, max_steps: usize) -> AppResult<usize> {
    let mut total = 0;
    for _ in 0..max_steps {
        let step = compact_step(store, PARTS_PER_STEP).await?;
        total += step.parts;
        if step.parts < PARTS_PER_STEP {
            break;
        }
    }
    Ok(total)
}

/// A rebuild from D1's rows (sketches, rollups) is refused once any hour is
/// archived: those hours' rows are gone, so clearing what they contributed
/// would lose it for good (rollups and sketches cannot be rebuilt from the
/// archive within a request's limits). A 409 `archived_hours_present`.
pub async fn refuse_once_archived<S: EventStore>(store: &S) -> AppResult<()> {
    let any = store
        .archived_hours_in("0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", 1)
        .await?;
    match any.first() {
        None => Ok(()),
        Some(newest) => Err(AppError::Conflict {
            code: "archived_hours_present",
            detail: format!(
                "Hours up to {} are archived and their rows are no longer in the database: a rebuild from the rows \
                 would drop what they contributed, so it is refused.",
                newest.hour
            ),
        }),
    }
}

/// Rows read per step of a rebuild.
pub const REBUILD_PAGE: usize = 20_000;

/// One step of a rebuild from the rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RebuildStep {
    /// Rows read by this step.
    pub rows: usize,
    /// Pass it as `after_id` to the next step (unless `done`).
    pub next_after_id: i64,
    /// Every stored row has been sketched again.
    pub done: bool,
}

/// Sketches the stored rows after `after_id` (a page of [`REBUILD_PAGE`]) and
/// compacts; the first step (`after_id` 0) first forgets every sketch. Rows
/// stored meanwhile are sketched by their own write and read again by a later
/// step, which changes nothing: adding an identifier twice counts it once.
/// Used after an upgrade to migration 0015 (rows stored before it have no
/// sketch), for rows no write sketched (the bulk loader's, the demo's backdated ones).
pub async fn rebuild_step<S: EventStore>(store: &S, after_id: i64) -> AppResult<RebuildStep> {
    refuse_once_archived(store).await?;
    if after_id == 0 {
        store.clear_sketches().await?;
    }
    let page = store.actors_after(after_id, REBUILD_PAGE).await?;
    let parts = distinct::parts(page.iter().map(|r| (&r.actor).into()));
    store.append_sketch_parts(&parts).await?;
    compact(store, usize::MAX).await?;
    Ok(RebuildStep {
        rows: page.len(),
        next_after_id: page.last().map_or(after_id, |r| r.id),
        done: page.len() < REBUILD_PAGE,
    })
}

/// `POST /internal/sketches/rebuild?after_id=`: one step, from where the previous one stopped.
pub async fn rebuild_route<S: EventStore>(store: &S, params: &Params) -> AppResult<RebuildStep> {
    let after_id = match params.get("after_id") {
        None => 0,
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            crate::query::bad(
                "after_id",
                "invalid_after_id",
                "`after_id` must be a whole number ≥ 0: the `next_after_id` of the previous step.",
            )
        })?,
    };
    rebuild_step(store, after_id).await
}

/// Every step of a rebuild; the rows read.
pub async fn rebuild<S: EventStore>(store: &S) -> AppResult<usize> {
    let mut after = 0;
    let mut rows = 0;
    loop {
        let step = rebuild_step(store, after).await?;
        rows += step.rows;
        after = step.next_after_id;
        if step.done {
            return Ok(rows);
        }
    }
}
