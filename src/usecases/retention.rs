//! The daily retention run (the cron of wrangler.toml): events older than
//! `RETENTION_DAYS` (default 400, the longest range a read accepts; parsed in
//! [`crate::config`]) are deleted in chunks of [`CHUNK_ROWS`], at most
//! [`MAX_CHUNKS_PER_RUN`] per run; once none is left, it prunes what only
//! they kept alive. The rollups follow through their delete triggers, in the
//! same statement's transaction, so they stay exact.

use chrono::{DateTime, Duration, Utc};

use crate::store::{EventStore, StoreResult};

/// Rows per DELETE statement: small enough to keep each statement short.
pub const CHUNK_ROWS: i64 = 5_000;
/// Statements per run (D1 allows 50 queries per invocation on the free plan);
/// what is left waits for the next run.
pub const MAX_CHUNKS_PER_RUN: usize = 40;

/// Events with `ts` before this (stored form) are past retention.
pub fn cutoff(now: DateTime<Utc>, days: i64) -> String {
    crate::time::to_stored(now - Duration::days(days))
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    pub cutoff: String,
    pub deleted: u64,
    /// No expired event is left (and the prune ran).
    pub done: bool,
}

pub async fn run<S: EventStore>(store: &S, retention_days: i64, now: DateTime<Utc>) -> StoreResult<RetentionRun> {
    let cutoff = cutoff(now, retention_days);
    let mut deleted = 0;
    for _ in 0..MAX_CHUNKS_PER_RUN {
        let changes = store.delete_expired(&cutoff, CHUNK_ROWS).await?;
        deleted += changes;
        if (changes as i64) < CHUNK_ROWS {
            store.prune_expired(&cutoff).await?;
            return Ok(RetentionRun {
                cutoff,
                deleted,
                done: true,
            });
        }
    }
    Ok(RetentionRun {
        cutoff,
        deleted,
        done: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_that_many_days_before_now() {
        let now = crate::time::parse_rfc3339("2026-03-15T12:00:00Z").unwrap();
        assert_eq!(cutoff(now, 400), "2025-02-08T12:00:00.000Z");
    }
}
