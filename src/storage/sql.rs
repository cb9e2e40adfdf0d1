//! All SQL. Values are always bound (`?1`…), never spliced into the text.
//!
//! Batch inserts read one bound JSON array with `json_each`, so a 500-event
//! batch is one statement with one parameter: far under D1's 100-parameter
//! limit, and one round trip.

/// Inserts the rows of [`crate::ingest::normalize::EventRow`] serialized as a
/// JSON array; an existing `(source, event_id)` is skipped. Returns the new keys.
pub const INSERT_EVENTS: &str = "\
INSERT INTO funnel_events (ts, occurred_at, event_type, service, source, event_id, trace_id, tenant_id,
  job_id, user_id, session_id, anonymous_id, email_fingerprint, email_domain, success, error_code,
  error_message, payload_json)
SELECT json_extract(value, '$.ts'), json_extract(value, '$.occurred_at'), json_extract(value, '$.event_type'),
  json_extract(value, '$.service'), json_extract(value, '$.source'), json_extract(value, '$.event_id'),
  json_extract(value, '$.trace_id'), json_extract(value, '$.tenant_id'), json_extract(value, '$.job_id'),
  json_extract(value, '$.user_id'), json_extract(value, '$.session_id'), json_extract(value, '$.anonymous_id'),
  json_extract(value, '$.email_fingerprint'), json_extract(value, '$.email_domain'),
  json_extract(value, '$.success'), json_extract(value, '$.error_code'), json_extract(value, '$.error_message'),
  json_extract(value, '$.payload_json')
FROM json_each(?1) WHERE true
ON CONFLICT (source, event_id) DO NOTHING
RETURNING source, event_id";

/// Keeps rejected events (already PII-free) for listing and replay.
pub const INSERT_QUARANTINE: &str = "\
INSERT INTO event_quarantine (received_at, source, event_type, event_id, header_trace_id, clock_skew_ms,
  errors_json, event_json)
SELECT json_extract(value, '$.received_at'), json_extract(value, '$.source'), json_extract(value, '$.event_type'),
  json_extract(value, '$.event_id'), json_extract(value, '$.header_trace_id'),
  json_extract(value, '$.clock_skew_ms'), json_extract(value, '$.errors_json'), json_extract(value, '$.event_json')
FROM json_each(?1) WHERE true
ON CONFLICT (source, event_id) DO NOTHING";

/// The health probe: proves D1 answers, reads no event data.
pub const HEALTH_PROBE: &str = "SELECT 1 AS ok";
