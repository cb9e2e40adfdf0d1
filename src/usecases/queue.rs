//! The ingest queue's consumer: stores each queued message with ingest's own
//! statements ([`EventStore::write_batch`]), so `(source, event_id)` still
//! stores each event once however often a message is delivered, then adds
//! its volume counters once per message id ([`EventStore::count_queued_volume`]).
//!
//! Two transactions, rows first: if the second fails the message is retried,
//! its rows are found stored (nothing changes) and its volume is counted
//! then; if the acknowledgement is lost after both, the redelivery changes
//! nothing at all.

use chrono::{DateTime, Duration, Utc};

use crate::ingest::batch::Plan;
use crate::ingest::queued;
use crate::store::EventStore;
use crate::time::to_stored;

/// How long a message's receipt is kept: longer than a Cloudflare queue
/// keeps a message (14 days at most), so no redelivery outlives its receipt.
pub const RECEIPT_DAYS: i64 = 30;

/// What became of one message, and so what the shell tells the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Stored (or found stored): acknowledge it.
    Stored {
        /// Rows new in this delivery.
        inserted: usize,
        /// Rows the message held.
        rows: usize,
        /// Its volume counters were added in this delivery (not in an earlier one).
        volume_counted: bool,
    },
    /// The database could not take it: retry later (after the queue's
    /// `max_retries`, it goes to the dead-letter queue, never dropped).
    Retry(String),
    /// Not a message of this format: retried too, so it ends in the
    /// dead-letter queue where it can be read.
    Unreadable(String),
}

impl Delivery {
    /// Acknowledge (true) or retry (false).
    pub fn is_done(&self) -> bool {
        matches!(self, Delivery::Stored { .. })
    }
}

/// Stores one message.
pub async fn deliver<S: EventStore>(store: &S, message: &str, now: DateTime<Utc>) -> Delivery {
    let part = match queued::decode(message) {
        Ok(part) => part,
        Err(e) => return Delivery::Unreadable(e.to_string()),
    };
    let rows = part.rows.len();
    let plan = Plan::from_queued(part.rows, part.quarantine);
    let mut inserted = 0;
    if !plan.rows.is_empty() || !plan.quarantine.is_empty() {
        // No metered row: the quota month is not read, but passed as ingest would.
        match store.write_batch(&plan, &super::ingest::quota_month(&plan)).await {
            Ok(outcome) => inserted = outcome.inserted.len(),
            Err(e) => return Delivery::Retry(e.to_string()),
        }
    }
    let mut volume_counted = false;
    if !part.volume.is_empty() {
        let prune_before = to_stored(now - Duration::days(RECEIPT_DAYS));
        match store
            .count_queued_volume(&part.id, &part.volume, &to_stored(now), &prune_before)
            .await
        {
            Ok(counted) => volume_counted = counted,
            Err(e) => return Delivery::Retry(e.to_string()),
        }
    }
    Delivery::Stored {
        inserted,
        rows,
        volume_counted,
    }
}
