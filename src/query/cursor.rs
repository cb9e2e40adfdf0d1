//! Opaque, tamper-evident keyset cursors.
//!
//! A cursor is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`.
//! The payload holds the last row's `(ts, id)`, the resolved time range (so a
//! default range cannot slide under a client that pages across midnight), and
//! a digest of the query it belongs to. The tag is checked in constant time
//! before anything in the payload is trusted; a changed byte, a cursor from
//! another query, or one signed with another key is a 400 `invalid_cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bad;
use crate::error::{AppError, AppResult};

type HmacSha256 = Hmac<Sha256>;

/// Where a page ended: the last row's sort key (`ts` descending, then `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub ts: String,
    pub id: i64,
}

/// What a cursor carries besides its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "p")]
    pub position: Position,
    /// The resolved range, stored form: `[from, to)`.
    #[serde(rename = "r")]
    pub range: (String, String),
    /// First 16 hex chars of SHA-256 of the query's canonical text.
    #[serde(rename = "q")]
    query_digest: String,
}

/// The cursor signing key, derived from a deployment secret with a fixed label
/// so it is never the secret itself and serves no other purpose.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn derive(secret: &[u8]) -> CursorKey {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"funnel/cursor/v1");
        CursorKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

fn query_digest(query: &str) -> String {
    hex::encode(&Sha256::digest(query.as_bytes())[..8])
}

fn invalid(detail: &str) -> AppError {
    bad("cursor", "invalid_cursor", detail)
}

/// Longest cursor accepted before any decoding work.
pub const MAX_CURSOR_CHARS: usize = 512;

pub fn encode(key: &CursorKey, query: &str, range: (String, String), position: Position) -> String {
    let cursor = Cursor {
        position,
        range,
        query_digest: query_digest(query),
    };
    let payload = serde_json::to_vec(&cursor).expect("a cursor always serializes");
    let mut mac = key.mac();
    mac.update(&payload);
    let tag = mac.finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
}

/// Where a page starts: with a cursor (verified for `scope`), the range it
/// carries (so a default range cannot slide at midnight while paging) and
/// the position to read after; without one, `range` from the start.
pub fn resume(
    key: &CursorKey,
    scope: &str,
    raw: Option<&str>,
    range: super::range::TimeRange,
) -> AppResult<(super::range::TimeRange, Option<Position>)> {
    let Some(raw) = raw else {
        return Ok((range, None));
    };
    let c = decode(key, scope, raw)?;
    let (Some(from), Some(to)) = (
        crate::time::parse_rfc3339(&c.range.0),
        crate::time::parse_rfc3339(&c.range.1),
    ) else {
        return Err(super::bad(
            "cursor",
            "invalid_cursor",
            "The cursor's range is unreadable.",
        ));
    };
    Ok((super::range::TimeRange { from, to, ..range }, Some(c.position)))
}

/// Verifies and opens a cursor made by [`encode`] for the same `query`.
pub fn decode(key: &CursorKey, query: &str, raw: &str) -> AppResult<Cursor> {
    const TAMPERED: &str =
        "The cursor is not one this service issued (or it was changed); restart from the first page.";
    if raw.len() > MAX_CURSOR_CHARS {
        return Err(invalid(TAMPERED));
    }
    let (payload_b64, tag_b64) = raw.split_once('.').ok_or_else(|| invalid(TAMPERED))?;
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| invalid(TAMPERED))?;
    let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| invalid(TAMPERED))?;
    let mut mac = key.mac();
    mac.update(&payload);
    // Through the one comparator of secret-derived bytes (constant-time, whole MAC).
    let expected = mac.finalize().into_bytes();
    if !bool::from(crate::security::compare::equal(expected.as_slice(), &tag)) {
        return Err(invalid(TAMPERED));
    }
    // Only a payload this service signed reaches the parser.
    let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| invalid(TAMPERED))?;
    // Constant-time too, though the payload is already authenticated: one rule for every comparison here.
    let digest = query_digest(query);
    if !bool::from(crate::security::compare::equal(
        cursor.query_digest.as_bytes(),
        digest.as_bytes(),
    )) {
        return Err(invalid(
            "The cursor belongs to a query with other filters; keep the filters unchanged while paging.",
        ));
    }
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(b"secret")
    }

    fn sample() -> (String, (String, String), Position) {
        (
            "type=m_auth_login_fail\n".to_string(),
            ("2026-03-01T00:00:00.000Z".into(), "2026-03-15T00:00:00.000Z".into()),
            Position {
                ts: "2026-03-10T01:02:03.004Z".into(),
                id: 4242,
            },
        )
    }

    #[test]
    fn a_cursor_round_trips_with_its_position_and_range() {
        let (q, range, pos) = sample();
        let token = encode(&key(), &q, range.clone(), pos.clone());
        assert!(token.len() < MAX_CURSOR_CHARS);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        let back = decode(&key(), &q, &token).unwrap();
        assert_eq!(back.position, pos);
        assert_eq!(back.range, range);
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        let (q, range, pos) = sample();
        let token = encode(&key(), &q, range, pos);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for i in 0..token.len() {
            for &c in alphabet {
                let mut bytes = token.clone().into_bytes();
                if bytes[i] == c {
                    continue;
                }
                bytes[i] = c;
                let changed = String::from_utf8(bytes).unwrap();
                // A change in the final character's unused low bits decodes to the same bytes.
                if URL_SAFE_NO_PAD.decode(changed.split_once('.').map_or("", |p| p.1)).ok()
                    == URL_SAFE_NO_PAD.decode(token.split_once('.').unwrap().1).ok()
                    && changed.split_once('.').map(|p| p.0) == token.split_once('.').map(|p| p.0)
                {
                    continue;
                }
                assert!(decode(&key(), &q, &changed).is_err(), "accepted {changed}");
            }
        }
    }

    #[test]
    fn a_cursor_signed_with_another_key_or_for_another_query_is_rejected() {
        let (q, range, pos) = sample();
        let token = encode(&CursorKey::derive(b"other"), &q, range.clone(), pos.clone());
        assert!(decode(&key(), &q, &token).is_err());
        let token = encode(&key(), &q, range, pos);
        let err = decode(&key(), "type=m_auth_login_success\n", &token).unwrap_err();
        assert!(matches!(
            err,
            AppError::InvalidParameter {
                code: "invalid_cursor",
                ..
            }
        ));
    }

    #[test]
    fn garbage_and_oversized_cursors_are_rejected() {
        for raw in ["", ".", "abc", "abc.def", "!!!.???", &"a".repeat(MAX_CURSOR_CHARS + 1)] {
            assert!(decode(&key(), "", raw).is_err(), "{raw}");
        }
    }
}
