//! The request envelope: `{"events": [...], "sent_at": "<RFC 3339>"}`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH};
use crate::error::{AppError, AppResult};

#[derive(Debug)]
pub struct Envelope {
    /// Raw events; each is checked on its own so one bad event loses no others.
    pub events: Vec<Value>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// True for `application/json`, with or without parameters (`; charset=utf-8`).
pub fn is_json_content_type(value: Option<&str>) -> bool {
    has_media_type(value, "application/json")
}

/// Whether a `Content-Type` header's essence (before any `;` parameters) is
/// `media_type`, ignoring case and surrounding spaces.
pub fn has_media_type(value: Option<&str>, media_type: &str) -> bool {
    value
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(media_type))
}

/// A declared `Content-Length` over the cap is refused before the body is read.
pub fn check_declared_length(content_length: Option<&str>) -> AppResult<()> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(n) if n > MAX_BODY_BYTES as u64 => Err(AppError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        }),
        _ => Ok(()),
    }
}

pub fn check_body_size(body: &[u8]) -> AppResult<()> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

pub fn parse_envelope(body: &[u8]) -> AppResult<Envelope> {
    let value: Value = super::strict_json::from_slice(body).map_err(|e| {
        // serde's message names line/column and the kind of error, never the input.
        AppError::InvalidJson(format!("The body is not valid JSON: {e}"))
    })?;
    let Value::Object(mut root) = value else {
        return Err(AppError::InvalidBody(
            "The body must be a JSON object: {\"events\": [...]}.".into(),
        ));
    };
    let events = match root.remove("events") {
        Some(Value::Array(events)) => events,
        Some(_) => return Err(AppError::InvalidBody("\"events\" must be an array.".into())),
        None => return Err(AppError::InvalidBody("The body has no \"events\" array.".into())),
    };
    if events.is_empty() {
        return Err(AppError::InvalidBody(
            "\"events\" is empty; send at least one event.".into(),
        ));
    }
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(AppError::TooManyEvents {
            limit: MAX_EVENTS_PER_BATCH,
            got: events.len(),
        });
    }
    let sent_at = match root.remove("sent_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            crate::time::parse_rfc3339(&s).ok_or_else(|| AppError::InvalidParameter {
                code: "invalid_sent_at",
                param: "sent_at".into(),
                detail: "\"sent_at\" must be an RFC 3339 timestamp.".into(),
            })?,
        ),
        Some(_) => {
            return Err(AppError::InvalidParameter {
                code: "invalid_sent_at",
                param: "sent_at".into(),
                detail: "\"sent_at\" must be an RFC 3339 timestamp string.".into(),
            })
        }
    };
    Ok(Envelope { events, sent_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_must_be_json_with_optional_parameters() {
        assert!(is_json_content_type(Some("application/json")));
        assert!(is_json_content_type(Some("Application/JSON; charset=utf-8")));
        for bad in [
            None,
            Some("text/plain"),
            Some("application/jsonx"),
            Some("application/x-www-form-urlencoded"),
        ] {
            assert!(!is_json_content_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn body_cap_is_one_mebibyte_inclusive() {
        assert!(check_body_size(&vec![b' '; MAX_BODY_BYTES]).is_ok());
        assert_eq!(
            check_body_size(&vec![b' '; MAX_BODY_BYTES + 1]),
            Err(AppError::PayloadTooLarge {
                limit_bytes: MAX_BODY_BYTES
            })
        );
        assert!(check_declared_length(Some("1048576")).is_ok());
        assert!(check_declared_length(Some("1048577")).is_err());
        assert!(check_declared_length(None).is_ok());
    }

    #[test]
    fn batch_cap_is_500_events_inclusive() {
        let body = |n: usize| format!("{{\"events\":[{}]}}", vec!["{}"; n].join(","));
        assert_eq!(parse_envelope(body(500).as_bytes()).unwrap().events.len(), 500);
        assert_eq!(
            parse_envelope(body(501).as_bytes()).unwrap_err(),
            AppError::TooManyEvents { limit: 500, got: 501 }
        );
    }

    #[test]
    fn wrong_shapes_are_400s_with_their_own_codes() {
        let code = |b: &str| parse_envelope(b.as_bytes()).unwrap_err().to_problem().code;
        assert_eq!(code("{"), "invalid_json");
        assert_eq!(code("[]"), "invalid_body");
        assert_eq!(code("{\"events\": {}}"), "invalid_body");
        assert_eq!(code("{\"events\": []}"), "invalid_body");
        assert_eq!(
            code("{\"events\": [{}], \"sent_at\": \"yesterday\"}"),
            "invalid_sent_at"
        );
        assert_eq!(code("{\"events\": [{}], \"sent_at\": 5}"), "invalid_sent_at");
    }

    #[test]
    fn sent_at_is_parsed_when_present() {
        let env = parse_envelope(br#"{"events":[{}],"sent_at":"2026-01-01T00:00:00+09:00"}"#).unwrap();
        assert_eq!(env.sent_at.unwrap().to_rfc3339(), "2025-12-31T15:00:00+00:00");
    }
}
