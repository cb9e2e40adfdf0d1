//! One archived hour: its object's name, its encoding (gzip NDJSON, one
//! event per line in the API's form: `success` a boolean, `properties` an
//! object, as the export and every reader see it), its manifest, and the
//! rule that says an object is what its manifest promises.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::ArchiveError;
use crate::record::StoredEvent;

pub const OBJECT_CONTENT_TYPE: &str = "application/gzip";
pub const MANIFEST_CONTENT_TYPE: &str = "application/json";

/// An hour's manifest: in D1 (`archived_hours`) and beside the object in the
/// bucket (`….manifest.json`), so the bucket alone is self-describing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArchivedHour {
    /// The UTC hour, `YYYY-MM-DDTHH`.
    pub hour: String,
    /// The object's key in the bucket: `events/YYYY/MM/DD/HH.ndjson.gz`.
    pub object_key: String,
    /// Events (lines) in the object.
    pub rows: i64,
    /// The object's size in bytes (gzip).
    pub bytes: i64,
    /// SHA-256 of the object's bytes, lowercase hex.
    pub sha256: String,
    /// When the object was last written (it is rewritten when a late event of the hour arrives).
    pub archived_at: String,
}

/// The hour (`YYYY-MM-DDTHH`) a stored timestamp falls in.
pub fn hour_of(ts: &str) -> &str {
    ts.get(..13).unwrap_or(ts)
}

/// The first instant of an hour, in the stored form.
pub fn hour_start(hour: &str) -> String {
    format!("{hour}:00:00.000Z")
}

/// The first instant after an hour, in the stored form (`None` for a malformed hour).
pub fn hour_end(hour: &str) -> Option<String> {
    crate::time::parse_rfc3339(&hour_start(hour)).map(|t| crate::time::to_stored(t + chrono::Duration::hours(1)))
}

/// Whether `hour` is a well-formed `YYYY-MM-DDTHH`.
pub fn is_hour(hour: &str) -> bool {
    crate::time::parse_rfc3339(&format!("{hour}:00:00Z")).is_some() && hour.len() == 13
}

/// `2026-03-01T15` → `events/2026/03/01/15`.
fn stem(hour: &str) -> String {
    let (date, hh) = hour.split_once('T').unwrap_or((hour, "00"));
    format!("events/{}/{hh}", date.replace('-', "/"))
}

/// The object of an hour: `events/YYYY/MM/DD/HH.ndjson.gz`.
pub fn object_key(hour: &str) -> String {
    format!("{}.ndjson.gz", stem(hour))
}

/// The manifest beside it: `events/YYYY/MM/DD/HH.manifest.json`.
pub fn manifest_key(hour: &str) -> String {
    format!("{}.manifest.json", stem(hour))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The object of `events` (one hour's, oldest first) and its manifest.
pub fn encode(hour: &str, events: &[StoredEvent], archived_at: &str) -> Result<(Vec<u8>, ArchivedHour), ArchiveError> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for event in events {
        let line = serde_json::to_string(event).map_err(|e| ArchiveError(format!("encode: {e}")))?;
        gz.write_all(line.as_bytes())
            .and_then(|_| gz.write_all(b"\n"))
            .map_err(|e| ArchiveError(format!("gzip: {e}")))?;
    }
    let bytes = gz.finish().map_err(|e| ArchiveError(format!("gzip: {e}")))?;
    let manifest = ArchivedHour {
        hour: hour.to_string(),
        object_key: object_key(hour),
        rows: events.len() as i64,
        bytes: bytes.len() as i64,
        sha256: sha256_hex(&bytes),
        archived_at: archived_at.to_string(),
    };
    Ok((bytes, manifest))
}

/// The events of an object, without checking it against a manifest.
pub fn decode(bytes: &[u8]) -> Result<Vec<StoredEvent>, ArchiveError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| ArchiveError(format!("gunzip: {e}")))?;
    text.lines().filter(|l| !l.is_empty()).map(decode_line).collect()
}

/// A line back into the stored event: `success` to 0/1, `properties` to its JSON text
/// (an empty object is no properties, as ingest stores it).
fn decode_line(line: &str) -> Result<StoredEvent, ArchiveError> {
    let bad = |e: String| ArchiveError(format!("line: {e}"));
    let mut fields: Map<String, Value> = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let success = match fields.remove("success") {
        Some(Value::Bool(b)) => Value::from(u8::from(b)),
        _ => Value::Null,
    };
    fields.insert("success".into(), success);
    let payload = match fields.remove("properties") {
        Some(Value::Object(p)) if !p.is_empty() => Value::String(Value::Object(p).to_string()),
        _ => Value::Null,
    };
    fields.insert("payload_json".into(), payload);
    serde_json::from_value(Value::Object(fields)).map_err(|e| bad(e.to_string()))
}

/// The verification rule: the object has the manifest's size and SHA-256, and
/// decodes to the manifest's row count, every row of the manifest's hour.
/// Returns the rows.
pub fn verify(bytes: &[u8], manifest: &ArchivedHour) -> Result<Vec<StoredEvent>, ArchiveError> {
    if bytes.len() as i64 != manifest.bytes {
        return Err(ArchiveError(format!(
            "{}: {} bytes, the manifest says {}",
            manifest.object_key,
            bytes.len(),
            manifest.bytes
        )));
    }
    if sha256_hex(bytes) != manifest.sha256 {
        return Err(ArchiveError(format!(
            "{}: SHA-256 differs from the manifest",
            manifest.object_key
        )));
    }
    let events = decode(bytes)?;
    if events.len() as i64 != manifest.rows {
        return Err(ArchiveError(format!(
            "{}: {} rows, the manifest says {}",
            manifest.object_key,
            events.len(),
            manifest.rows
        )));
    }
    if let Some(stray) = events.iter().find(|e| hour_of(&e.ts) != manifest.hour) {
        return Err(ArchiveError(format!(
            "{}: an event of {} in hour {}",
            manifest.object_key, stray.ts, manifest.hour
        )));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, ts: &str, success: Option<u8>, payload: Option<&str>) -> StoredEvent {
        StoredEvent {
            id,
            ts: ts.into(),
            occurred_at: Some(ts.into()),
            event_type: "signup_completed".into(),
            service: "web".into(),
            source: "cp".into(),
            event_id: format!("e{id}"),
            trace_id: None,
            tenant_id: Some("t1".into()),
            job_id: None,
            user_id: Some("u1".into()),
            session_id: None,
            anonymous_id: None,
            email_fingerprint: None,
            email_domain: Some("example.com".into()),
            success,
            error_code: None,
            error_message: None,
            payload_json: payload.map(str::to_string),
            sample_rate: 0.5,
        }
    }

    #[test]
    fn an_hour_is_named_by_its_utc_date_and_hour() {
        assert_eq!(hour_of("2026-03-01T15:42:10.123Z"), "2026-03-01T15");
        assert_eq!(object_key("2026-03-01T15"), "events/2026/03/01/15.ndjson.gz");
        assert_eq!(manifest_key("2026-03-01T05"), "events/2026/03/01/05.manifest.json");
        assert!(is_hour("2026-03-01T23") && !is_hour("2026-03-01T24") && !is_hour("2026-03-01"));
    }

    #[test]
    fn events_come_back_from_their_object_exactly_as_stored() {
        let events = vec![
            event(
                1,
                "2026-03-01T15:00:00.000Z",
                Some(1),
                Some(r#"{"amount":12.5,"plan":"pro"}"#),
            ),
            event(2, "2026-03-01T15:59:59.999Z", Some(0), None),
            event(3, "2026-03-01T15:30:00.000Z", None, Some(r#"{"n":3}"#)),
        ];
        let (bytes, manifest) = encode("2026-03-01T15", &events, "2026-12-03T00:00:00.000Z").unwrap();
        assert_eq!((manifest.rows, manifest.bytes), (3, bytes.len() as i64));
        assert_eq!(verify(&bytes, &manifest).unwrap(), events);
    }

    #[test]
    fn each_line_is_the_api_form_an_analyst_reads() {
        let events = vec![event(7, "2026-03-01T15:00:00.000Z", Some(1), Some(r#"{"plan":"pro"}"#))];
        let (bytes, _) = encode("2026-03-01T15", &events, "now").unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["success"], Value::Bool(true));
        assert_eq!(line["properties"]["plan"], "pro");
        assert_eq!(line["event_type"], "signup_completed");
        assert!(line.get("payload_json").is_none());
    }

    #[test]
    fn an_object_that_differs_from_its_manifest_fails_verification() {
        let events = vec![event(1, "2026-03-01T15:00:00.000Z", Some(1), None)];
        let (mut bytes, manifest) = encode("2026-03-01T15", &events, "now").unwrap();
        let mut fewer = manifest.clone();
        fewer.rows = 2;
        assert!(verify(&bytes, &fewer).is_err());
        let mut other_hour = manifest.clone();
        other_hour.hour = "2026-03-01T16".into();
        assert!(verify(&bytes, &other_hour).is_err());
        bytes[12] ^= 1;
        assert!(verify(&bytes, &manifest).is_err());
        bytes.pop();
        assert!(verify(&bytes, &manifest).is_err());
    }
}
