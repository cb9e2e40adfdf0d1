//! The ingest queue's dead letters: a message the consumer could not store
//! after every retry reaches the dead-letter queue, whose consumer never
//! drops it: [`keep`] writes it to the archive bucket under
//! `dead-letter/YYYY/MM/DD/<message id>.json` before it is acknowledged.
//! `POST /internal/dead-letter/replay` ([`replay`]) delivers kept messages
//! again through the same path as the queue's consumer and removes those now
//! stored; the others stay for a later replay.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{ArchiveError, ArchiveStore};
use crate::error::{AppError, AppResult};
use crate::query::bad;
use crate::query::params::Params;
use crate::store::EventStore;
use crate::usecases::queue::{deliver, Delivery};

pub const PREFIX: &str = "dead-letter/";
pub const CONTENT_TYPE: &str = "application/json";
/// Messages per replay call (each up to ~500 events: one D1 write each).
pub const MAX_REPLAY: usize = 20;

/// Where a dead letter is kept: by the day it arrived and the queue's message id
/// (reduced to `[A-Za-z0-9_-]`, so a redelivery overwrites the same object).
pub fn key(message_id: &str, now: DateTime<Utc>) -> String {
    let id: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    format!("{PREFIX}{}/{id}.json", now.format("%Y/%m/%d"))
}

/// Keeps one dead-lettered message; only once this succeeds may it be acknowledged.
pub async fn keep<A: ArchiveStore + ?Sized>(
    archive: &A,
    message_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<String, ArchiveError> {
    let key = key(message_id, now);
    archive.put(&key, body.as_bytes().to_vec(), CONTENT_TYPE).await?;
    Ok(key)
}

/// What one replay call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadLetterReplay {
    /// Kept messages read in this call.
    pub examined: usize,
    /// Delivered and stored (or found stored): removed from the bucket.
    pub stored: usize,
    /// Events newly stored by those messages.
    pub inserted: usize,
    /// Still refused or unreadable: kept, with the reason in the log.
    pub kept: usize,
    /// Pass as `after` to go on past this call's messages (a full call); null when none is left.
    /// A call without `after` starts again at the first kept message.
    pub next_after: Option<String>,
}

pub async fn replay<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<DeadLetterReplay> {
    let archive = archive.ok_or(AppError::ArchiveUnavailable)?;
    let after = params.get("after");
    if after.is_some_and(|a| !a.starts_with(PREFIX)) {
        return Err(bad(
            "after",
            "invalid_after",
            "`after` must be a key a replay returned (dead-letter/…).",
        ));
    }
    let unavailable = |e: ArchiveError| {
        log::error!("dead-letter replay: {e}");
        AppError::ArchiveUnavailable
    };
    let keys = archive.list(PREFIX, after, MAX_REPLAY).await.map_err(unavailable)?;
    let mut out = DeadLetterReplay {
        examined: keys.len(),
        stored: 0,
        inserted: 0,
        kept: 0,
        next_after: None,
    };
    for key in &keys {
        let Some(bytes) = archive.get(key).await.map_err(unavailable)? else {
            continue;
        };
        let message = String::from_utf8_lossy(&bytes);
        match deliver(store, &message, now).await {
            Delivery::Stored { inserted, .. } => {
                archive.delete(key).await.map_err(unavailable)?;
                out.stored += 1;
                out.inserted += inserted;
            }
            // The database is down again: stop, the rest stays.
            Delivery::Retry(why) => {
                log::warn!("dead-letter replay: {key} refused: {why}");
                return Err(AppError::StorageUnavailable);
            }
            Delivery::Unreadable(why) => {
                log::warn!("dead-letter replay: {key} unreadable, kept: {why}");
                out.kept += 1;
            }
        }
    }
    if keys.len() == MAX_REPLAY {
        out.next_after = keys.last().cloned();
    }
    Ok(out)
}
