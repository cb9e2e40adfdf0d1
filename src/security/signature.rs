//! `X-Funnel-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`
//!
//! `v1` = lowercase hex HMAC-SHA256(secret, `<t>` + "." + raw body). Several
//! `v1` entries may be sent during key rotation; one match is enough.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::Choice;

use super::compare;
use crate::error::AuthFailure;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER: &str = "x-funnel-signature";
/// Default accepted distance between `t` and the worker's clock.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;
/// Bounds the work an attacker can force: header bytes and `v1` entries.
pub const MAX_HEADER_LEN: usize = 1024;
pub const MAX_SIGNATURES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    pub signatures: Vec<[u8; 32]>,
}

/// Parses the header. Unknown `key=value` entries (future schemes) are ignored;
/// a header without exactly one valid `t` and at least one well-formed `v1` is malformed.
pub fn parse_header(value: &str) -> Result<SignatureHeader, AuthFailure> {
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthFailure::MalformedSignature);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        let (key, val) = part.trim().split_once('=').ok_or(AuthFailure::MalformedSignature)?;
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(AuthFailure::MalformedSignature);
                }
                let val = val.trim();
                if val.is_empty() || val.len() > 12 || !val.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AuthFailure::MalformedSignature);
                }
                timestamp = Some(val.parse::<i64>().map_err(|_| AuthFailure::MalformedSignature)?);
            }
            "v1" => {
                let val = val.trim();
                if val.len() != 64 || !val.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(AuthFailure::MalformedSignature);
                }
                let mut sig = [0u8; 32];
                hex::decode_to_slice(val, &mut sig).map_err(|_| AuthFailure::MalformedSignature)?;
                signatures.push(sig);
                if signatures.len() > MAX_SIGNATURES {
                    return Err(AuthFailure::MalformedSignature);
                }
            }
            _ => {}
        }
    }
    match (timestamp, signatures.is_empty()) {
        (Some(timestamp), false) => Ok(SignatureHeader { timestamp, signatures }),
        _ => Err(AuthFailure::MalformedSignature),
    }
}

/// Lowercase hex signature of `body` at `timestamp`; what a sender puts in `v1`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac_for(secret, timestamp, body).finalize().into_bytes())
}

/// Header value for a body signed with one secret.
pub fn header_value(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

fn mac_for(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Verifies a raw header against the configured secrets (current first, then previous).
///
/// The signature is checked before the clock so that `stale_signature` only
/// ever describes a genuinely signed request (a clock problem, not an attack).
pub fn verify(
    header_value: &str,
    body: &[u8],
    secrets: &[&[u8]],
    now_unix: i64,
    tolerance_seconds: i64,
) -> Result<(), AuthFailure> {
    verify_with(compare::equal, header_value, body, secrets, now_unix, tolerance_seconds)
}

/// [`verify`] with the comparison as a parameter ([`compare::equal`] in
/// production), so that a test can watch every comparison.
///
/// The property: every (secret, `v1`) pair is compared, each as two whole
/// 32-byte MACs, whichever pair matches and whether any does. The work then
/// depends only on the number of secrets (configuration) and of `v1` entries
/// (the sender's own header, at most [`MAX_SIGNATURES`]), so timing shows
/// neither how close a forged `v1` is nor which secret signed a real one.
pub fn verify_with(
    equal: impl Fn(&[u8], &[u8]) -> Choice,
    header_value: &str,
    body: &[u8],
    secrets: &[&[u8]],
    now_unix: i64,
    tolerance_seconds: i64,
) -> Result<(), AuthFailure> {
    let header = parse_header(header_value)?;
    let mut matched = Choice::from(0u8);
    for secret in secrets {
        let expected = mac_for(secret, header.timestamp, body).finalize().into_bytes();
        for sig in &header.signatures {
            // `|=` on a Choice: no branch, no early exit after a match.
            matched |= equal(&expected, sig);
        }
    }
    if !bool::from(matched) {
        return Err(AuthFailure::BadSignature);
    }
    if (now_unix - header.timestamp).abs() > tolerance_seconds {
        return Err(AuthFailure::StaleSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_current";
    const PREVIOUS: &[u8] = b"whsec_test_previous";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn accepts_a_signature_made_with_the_current_secret() {
        let body = br#"{"events":[]}"#;
        let h = header_value(SECRET, NOW, body);
        assert_eq!(verify(&h, body, &[SECRET], NOW, 300), Ok(()));
    }

    #[test]
    fn accepts_the_previous_secret_during_rotation() {
        let body = b"{}";
        let h = header_value(PREVIOUS, NOW, body);
        assert_eq!(verify(&h, body, &[SECRET, PREVIOUS], NOW, 300), Ok(()));
        assert_eq!(verify(&h, body, &[SECRET], NOW, 300), Err(AuthFailure::BadSignature));
    }

    #[test]
    fn one_matching_v1_among_several_is_enough() {
        let body = b"{}";
        let good = sign(SECRET, NOW, body);
        let h = format!("t={NOW},v1={},v1={good}", "0".repeat(64));
        assert_eq!(verify(&h, body, &[SECRET], NOW, 300), Ok(()));
    }

    #[test]
    fn any_change_to_body_or_timestamp_breaks_the_signature() {
        let body = b"{\"a\":1}";
        let sig = sign(SECRET, NOW, body);
        assert_eq!(
            verify(&format!("t={NOW},v1={sig}"), b"{\"a\":2}", &[SECRET], NOW, 300),
            Err(AuthFailure::BadSignature)
        );
        assert_eq!(
            verify(&format!("t={},v1={sig}", NOW + 1), body, &[SECRET], NOW, 300),
            Err(AuthFailure::BadSignature)
        );
    }

    #[test]
    fn window_is_inclusive_at_the_tolerance_and_stale_past_it() {
        let body = b"{}";
        for t in [NOW - 300, NOW + 300] {
            assert_eq!(
                verify(&header_value(SECRET, t, body), body, &[SECRET], NOW, 300),
                Ok(())
            );
        }
        for t in [NOW - 301, NOW + 301] {
            assert_eq!(
                verify(&header_value(SECRET, t, body), body, &[SECRET], NOW, 300),
                Err(AuthFailure::StaleSignature)
            );
        }
    }

    #[test]
    fn a_forged_stale_request_is_a_bad_signature_not_stale() {
        let h = format!("t={},v1={}", NOW - 10_000, "a".repeat(64));
        assert_eq!(verify(&h, b"{}", &[SECRET], NOW, 300), Err(AuthFailure::BadSignature));
    }

    #[test]
    fn malformed_headers_are_rejected_before_any_hmac() {
        let sig = "a".repeat(64);
        let cases = [
            String::new(),
            "garbage".to_string(),
            format!("v1={sig}"),
            format!("t={NOW}"),
            format!("t=abc,v1={sig}"),
            format!("t=-5,v1={sig}"),
            format!("t={NOW},t={NOW},v1={sig}"),
            format!("t={NOW},v1={}", "A".repeat(64)),
            format!("t={NOW},v1={}", "a".repeat(63)),
            format!("t={NOW},v1={sig},v1"),
            format!("t={NOW},{}", format!("v1={sig},").repeat(MAX_SIGNATURES + 1)),
            format!("t={NOW},v1={sig},x={}", "y".repeat(MAX_HEADER_LEN)),
        ];
        for h in cases {
            assert_eq!(parse_header(&h), Err(AuthFailure::MalformedSignature), "{h:?}");
        }
    }

    #[test]
    fn unknown_schemes_and_spaces_are_tolerated() {
        let body = b"{}";
        let h = format!("t={NOW}, v0=whatever, v1={}", sign(SECRET, NOW, body));
        assert_eq!(verify(&h, body, &[SECRET], NOW, 300), Ok(()));
    }

    #[test]
    fn no_configured_secret_means_nothing_verifies() {
        let body = b"{}";
        let h = header_value(SECRET, NOW, body);
        assert_eq!(verify(&h, body, &[], NOW, 300), Err(AuthFailure::BadSignature));
    }
}
