//! The queue consumer's own statements: a queued message's volume counters,
//! added once per message id. Its rows are written with ingest's statements.

/// Adds a message's volume counters (`?1`: `[[day, event_type, received,
/// kept], ...]`, as [`super::UPSERT_VOLUME`] reads them) unless the message's
/// receipt (`?2`) is already written. Runs before [`INSERT_QUEUE_RECEIPT`] in
/// the same transaction.
pub const UPSERT_QUEUED_VOLUME: &str = "\
INSERT INTO event_volume (day, event_type, received, kept)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
FROM json_each(?1) WHERE NOT EXISTS (SELECT 1 FROM queue_receipts WHERE message_id = ?2)
ON CONFLICT (day, event_type) DO UPDATE SET received = received + excluded.received, kept = kept + excluded.kept";

/// The message's receipt (`?1` id, `?2` now); changes nothing when it exists.
pub const INSERT_QUEUE_RECEIPT: &str = "\
INSERT INTO queue_receipts (message_id, received_at) VALUES (?1, ?2) ON CONFLICT (message_id) DO NOTHING";

/// Receipts older than `?1`: their messages can no longer be delivered.
pub const PRUNE_QUEUE_RECEIPTS: &str = "DELETE FROM queue_receipts WHERE received_at < ?1";
