//! The ingest pipeline, free of I/O:
//! [`body`] parses a request, [`normalize`] turns each event into a row (or a
//! rejection with a PII-free quarantine copy), [`batch`] plans what to store
//! and, once storage has answered, builds the per-event response.

pub mod arrange;
pub mod batch;
pub mod body;
pub mod normalize;
pub mod queued;
pub mod sampling;
pub mod strict_json;

/// Largest accepted request body. wrangler dev enforces no limit, so the worker does.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most events in one request.
pub const MAX_EVENTS_PER_BATCH: usize = 500;
/// Limits of top-level event fields.
pub const MAX_ID_CHARS: usize = 128;
pub const MAX_ERROR_CODE_CHARS: usize = 64;
pub const MAX_ERROR_MESSAGE_CHARS: usize = 512;
/// An event's `occurred_at` (after the clock-skew correction) lies at most
/// this many days before its receipt: older rows would fall out of the
/// retention window (and every read range) at once.
pub const OCCURRED_AT_MAX_PAST_DAYS: i64 = 400;
/// ...and at most this many hours after it (a sender's clock a little fast).
pub const OCCURRED_AT_MAX_FUTURE_HOURS: i64 = 24;

pub use crate::security::Credential;
