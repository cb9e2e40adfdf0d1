//! The retention run (both crons of wrangler.toml): events older than
//! `RETENTION_DAYS` (default 400, the longest range a read accepts; parsed in
//! [`crate::config`]) move to the archive ([`crate::archive`]), one gzip
//! NDJSON object per UTC hour, and leave D1 only once the object read back
//! matches its manifest. Only whole hours expire (the cutoff is floored to
//! its hour). The rollups keep counting archived rows (their delete triggers
//! skip archived hours), so summaries over archived ranges still answer.
//!
//! Idempotent: an hour whose object exists gets its object read, verified
//! against the manifest and merged with the hour's rows still in D1 (a late
//! event, or a run stopped before its delete), so no event is ever in an
//! object twice. Bounded: at most [`MAX_PAGES_PER_RUN`] reads of
//! [`PAGE_ROWS`] and [`MAX_HOURS_PER_RUN`] objects per run; the rest waits
//! for the next run. Once no expired event is left, it prunes what only they
//! kept alive.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::archive::hour::{self, ArchivedHour};
use crate::archive::{read_object, write_verified, ArchiveError, ArchiveStore};
use crate::record::StoredEvent;
use crate::store::EventStore;

use super::ArchiveJobError;

/// Rows per read of expired events (a few MB of D1 answer at most).
pub const PAGE_ROWS: usize = 5_000;
/// Reads per run: each read is followed by one manifest lookup and one
/// record-and-delete batch, so a run spends at most 4 × 8 = 32 D1 queries.
pub const MAX_PAGES_PER_RUN: usize = 8;
/// Hour objects written per run: each is at most a get (of an earlier object
/// of the hour), a put, a get to verify and the manifest's put; 12 hours stay
/// under the free plan's 50 subrequests.
pub const MAX_HOURS_PER_RUN: usize = 12;

/// Events with `ts` before this (stored form) are past retention: the start
/// of the hour `days` days ago, so only whole hours expire.
pub fn cutoff(now: DateTime<Utc>, days: i64) -> String {
    crate::time::to_stored(crate::query::range::floor_hour(now - Duration::days(days)))
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    pub cutoff: String,
    /// Events deleted from D1 after their hour's object was verified.
    pub deleted: u64,
    /// Hour objects written (and verified).
    pub hours: usize,
    /// No expired event is left (and the prune ran).
    pub done: bool,
}

pub async fn run<S: EventStore, A: ArchiveStore + ?Sized>(
    store: &S,
    archive: &A,
    retention_days: i64,
    now: DateTime<Utc>,
) -> Result<RetentionRun, ArchiveJobError> {
    // A run stopped early keeps what it did: what was verified is deleted, the
    // rest waits (undeleted) for the next run.
    let cutoff = cutoff(now, retention_days);
    let archived_at = crate::time::to_stored(now);
    let mut out = RetentionRun {
        cutoff: cutoff.clone(),
        deleted: 0,
        hours: 0,
        done: false,
    };
    for _ in 0..MAX_PAGES_PER_RUN {
        let mut rows = store.expired_events(&cutoff, PAGE_ROWS + 1).await?;
        if rows.is_empty() {
            store.prune_expired(&cutoff).await?;
            out.done = true;
            return Ok(out);
        }
        let full = rows.len() > PAGE_ROWS;
        rows.truncate(PAGE_ROWS);
        let mut hours = by_hour(rows);
        // A full page may end inside an hour: leave that hour to the next page
        // (unless it is the page's only one, an hour of more than a page).
        if full && hours.len() > 1 {
            hours.pop_last();
        }
        hours = hours.into_iter().take(MAX_HOURS_PER_RUN - out.hours).collect();
        let names: Vec<String> = hours.keys().cloned().collect();
        let manifests: HashMap<String, ArchivedHour> = store
            .archived_hours_of(&names)
            .await?
            .into_iter()
            .map(|m| (m.hour.clone(), m))
            .collect();
        let (mut written, mut ids, mut failure) = (Vec::new(), Vec::new(), None);
        for (name, events) in hours {
            match archive_hour(archive, &name, events, manifests.get(&name), &archived_at).await {
                Ok((manifest, hour_ids)) => {
                    written.push(manifest);
                    ids.extend(hour_ids);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // What was verified is recorded and deleted even when a later hour failed.
        if !written.is_empty() {
            out.deleted += store.commit_archived(&written, &ids).await?;
            out.hours += written.len();
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        if out.hours >= MAX_HOURS_PER_RUN {
            break;
        }
    }
    Ok(out)
}

/// Rows by hour, each hour's oldest first (as read).
fn by_hour(rows: Vec<StoredEvent>) -> BTreeMap<String, Vec<StoredEvent>> {
    let mut hours: BTreeMap<String, Vec<StoredEvent>> = BTreeMap::new();
    for row in rows {
        hours.entry(hour::hour_of(&row.ts).to_string()).or_default().push(row);
    }
    hours
}

/// Writes one hour's object (merged with its earlier object, if the manifest
/// has one), reads it back and verifies it, then writes the manifest beside
/// it. Returns the manifest and the ids now safe to delete.
async fn archive_hour<A: ArchiveStore + ?Sized>(
    archive: &A,
    name: &str,
    fresh: Vec<StoredEvent>,
    earlier: Option<&ArchivedHour>,
    archived_at: &str,
) -> Result<(ArchivedHour, Vec<i64>), ArchiveError> {
    let ids: Vec<i64> = fresh.iter().map(|e| e.id).collect();
    let mut events: BTreeMap<i64, StoredEvent> = BTreeMap::new();
    if let Some(manifest) = earlier {
        let bytes = read_object(archive, manifest).await?;
        events.extend(hour::verify(&bytes, manifest)?.into_iter().map(|e| (e.id, e)));
    }
    // D1's copy wins over an earlier object's (ids are unique; a run stopped
    // before its delete leaves the same rows in both).
    events.extend(fresh.into_iter().map(|e| (e.id, e)));
    let mut events: Vec<StoredEvent> = events.into_values().collect();
    events.sort_by(|a, b| (&a.ts, a.id).cmp(&(&b.ts, b.id)));
    let (bytes, manifest) = hour::encode(name, &events, archived_at)?;
    write_verified(archive, bytes, &manifest).await?;
    Ok((manifest, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_start_of_the_hour_that_many_days_before_now() {
        let now = crate::time::parse_rfc3339("2026-03-15T12:34:56Z").unwrap();
        assert_eq!(cutoff(now, 400), "2025-02-08T12:00:00.000Z");
    }
}
