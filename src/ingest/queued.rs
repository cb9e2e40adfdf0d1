//! A planned batch on its way through the queue: the message format (version
//! 1), the split into messages under the platform's size limit, and the split
//! of those messages into send calls.
//!
//! A message holds rows exactly as ingest would write them (event rows in
//! their positional form, quarantine copies, volume counters), so the
//! consumer writes them with ingest's own statements. Its `id` is the
//! receipt key that keeps a redelivered message from counting its volume
//! twice (rows need no guard: `(source, event_id)` stores each event once).

use serde::{Deserialize, Serialize};

use super::batch::Plan;
use super::normalize::{EventRow, QuarantineRow};

/// The format this release writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest message: Cloudflare Queues take 128 KB per message; the rest is
/// left for the platform's own envelope.
pub const MAX_MESSAGE_BYTES: usize = 120 * 1024;
/// Most messages in one send call (Cloudflare: 100).
pub const MAX_MESSAGES_PER_SEND: usize = 100;
/// Most bytes in one send call (Cloudflare: 256 KB), with the same margin.
pub const MAX_SEND_BYTES: usize = 240 * 1024;

/// `[day, event_type, received, kept]`: one volume counter increment.
pub type VolumeRow = (String, String, i64, i64);

/// One message: a part of a planned batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedPart {
    /// [`FORMAT_VERSION`].
    pub v: u32,
    /// `<batch id>.<part number>`: unique per message, the same on every redelivery.
    pub id: String,
    pub volume: Vec<VolumeRow>,
    pub quarantine: Vec<QuarantineRow>,
    pub rows: Vec<EventRow>,
}

/// Why a batch could not be put in messages, or a message not read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueuedError {
    /// One row alone is larger than a message may be.
    RowTooLarge { bytes: usize },
    /// A message that is not this format (or another version of it).
    Unreadable(String),
}

impl std::fmt::Display for QueuedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueuedError::RowTooLarge { bytes } => {
                write!(
                    f,
                    "a row of {bytes} bytes does not fit a {MAX_MESSAGE_BYTES}-byte message"
                )
            }
            QueuedError::Unreadable(why) => write!(f, "unreadable queued message: {why}"),
        }
    }
}

/// One item of a part, with its serialized size.
enum Item<'a> {
    Volume(VolumeRow),
    Quarantine(&'a QuarantineRow),
    Row(&'a EventRow),
}

fn json_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_string(value).map_or(usize::MAX, |s| s.len())
}

/// The plan's rows, quarantine copies and volume counters as messages of at
/// most [`MAX_MESSAGE_BYTES`] each, numbered `<batch_id>.0`, `.1`, ... The
/// caller checks that the plan holds no metered row (those need D1 at once).
pub fn encode(plan: &Plan, batch_id: &str) -> Result<Vec<String>, QueuedError> {
    let items = plan
        .volume_rows()
        .into_iter()
        .map(Item::Volume)
        .chain(plan.quarantine.iter().map(Item::Quarantine))
        .chain(plan.rows.iter().map(Item::Row));
    let empty = |n: usize| QueuedPart {
        v: FORMAT_VERSION,
        id: format!("{batch_id}.{n}"),
        volume: Vec::new(),
        quarantine: Vec::new(),
        rows: Vec::new(),
    };
    let mut parts = vec![empty(0)];
    // The current part's serialized size: its empty form, plus each item and
    // the comma before every item but the first of its list.
    let mut size = json_len(&parts[0]);
    for item in items {
        let item_bytes = match &item {
            Item::Volume(v) => json_len(v),
            Item::Quarantine(q) => json_len(q),
            Item::Row(r) => json_len(r),
        };
        let comma = |part: &QueuedPart| {
            usize::from(match item {
                Item::Volume(_) => !part.volume.is_empty(),
                Item::Quarantine(_) => !part.quarantine.is_empty(),
                Item::Row(_) => !part.rows.is_empty(),
            })
        };
        let mut part = parts.last_mut().expect("parts starts with one part");
        if size + comma(part) + item_bytes > MAX_MESSAGE_BYTES {
            let next = empty(parts.len());
            size = json_len(&next);
            if size + item_bytes > MAX_MESSAGE_BYTES {
                return Err(QueuedError::RowTooLarge { bytes: item_bytes });
            }
            parts.push(next);
            part = parts.last_mut().expect("a part was just pushed");
        }
        size += comma(part) + item_bytes;
        match item {
            Item::Volume(v) => part.volume.push(v),
            Item::Quarantine(q) => part.quarantine.push(q.clone()),
            Item::Row(r) => part.rows.push(r.clone()),
        }
    }
    if parts[0] == empty(0) {
        return Ok(Vec::new()); // nothing to keep
    }
    parts
        .iter()
        .map(|p| serde_json::to_string(p).map_err(|e| QueuedError::Unreadable(e.to_string())))
        .collect()
}

/// A message read back; refused unless it is [`FORMAT_VERSION`].
pub fn decode(message: &str) -> Result<QueuedPart, QueuedError> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let version: Version = serde_json::from_str(message).map_err(|e| QueuedError::Unreadable(e.to_string()))?;
    if version.v != FORMAT_VERSION {
        return Err(QueuedError::Unreadable(format!("format version {}", version.v)));
    }
    serde_json::from_str(message).map_err(|e| QueuedError::Unreadable(e.to_string()))
}

/// Messages grouped into send calls: at most [`MAX_MESSAGES_PER_SEND`] and
/// [`MAX_SEND_BYTES`] per call, in order.
pub fn send_calls(messages: Vec<String>) -> Vec<Vec<String>> {
    let mut calls: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let fits = calls
            .last()
            .is_some_and(|call| call.len() < MAX_MESSAGES_PER_SEND && bytes + message.len() <= MAX_SEND_BYTES);
        if !fits {
            calls.push(Vec::new());
            bytes = 0;
        }
        bytes += message.len();
        calls.last_mut().expect("a call was just pushed").push(message);
    }
    calls
}

#[cfg(test)]
mod tests;
