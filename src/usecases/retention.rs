//! The daily retention run (the cron of wrangler.toml): deletes expired
//! events in chunks of [`CHUNK_ROWS`], at most [`MAX_CHUNKS_PER_RUN`] per
//! run; once none is left, prunes what only they kept alive.

use chrono::{DateTime, Utc};

use crate::retention::{cutoff, CHUNK_ROWS, MAX_CHUNKS_PER_RUN};
use crate::store::{EventStore, StoreResult};

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
