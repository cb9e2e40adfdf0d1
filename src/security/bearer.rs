//! `Authorization: Bearer <key>` checked against the configured keys.
//!
//! Hash-then-compare: both sides are SHA-256'd to a fixed length and compared
//! with [`compare::equal`] (constant-time), so neither the key length nor the
//! length of a matching prefix shows in the timing. Every key is checked.

use sha2::{Digest, Sha256};
use subtle::Choice;

use super::compare;
use crate::error::AuthFailure;

/// Extracts the token of a `Bearer` authorization header (scheme is case-insensitive).
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// True when `presented` equals one of `keys` (empty keys never match).
pub fn key_matches(presented: &str, keys: &[&str]) -> bool {
    key_matches_with(compare::equal, presented, keys)
}

/// [`key_matches`] with the comparison as a parameter ([`compare::equal`] in
/// production), so that a test can watch every comparison.
///
/// The property: one comparison per configured (non-empty) key, each of two
/// 32-byte digests, whichever key matches and whether any does. The work then
/// depends only on how many keys are configured, never on the token, so timing
/// shows neither a matching prefix nor which key (current or previous) matched.
/// Skipping an unset key depends on the configuration alone.
pub fn key_matches_with(equal: impl Fn(&[u8], &[u8]) -> Choice, presented: &str, keys: &[&str]) -> bool {
    let presented_digest = Sha256::digest(presented.as_bytes());
    let mut matched = Choice::from(0u8);
    for key in keys.iter().filter(|k| !k.is_empty()) {
        let key_digest = Sha256::digest(key.as_bytes());
        // `|=` on a Choice: no branch, no early exit after a match.
        matched |= equal(&presented_digest, &key_digest);
    }
    bool::from(matched)
}

/// Checks an `Authorization` header value; `None` means the header was absent.
pub fn verify_authorization(header: Option<&str>, keys: &[&str]) -> Result<(), AuthFailure> {
    let header = header.ok_or(AuthFailure::MissingCredentials)?;
    match bearer_token(header) {
        Some(token) if key_matches(token, keys) => Ok(()),
        _ => Err(AuthFailure::BadKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_current_and_previous_keys() {
        let keys = ["k-current", "k-previous"];
        assert_eq!(verify_authorization(Some("Bearer k-current"), &keys), Ok(()));
        assert_eq!(verify_authorization(Some("bearer k-previous"), &keys), Ok(()));
    }

    #[test]
    fn wrong_key_prefix_key_and_other_schemes_are_bad_key() {
        let keys = ["k-current"];
        for h in [
            "Bearer k-curren",
            "Bearer k-current2",
            "Basic k-current",
            "Bearer ",
            "k-current",
        ] {
            assert_eq!(verify_authorization(Some(h), &keys), Err(AuthFailure::BadKey), "{h}");
        }
    }

    #[test]
    fn missing_header_is_missing_credentials() {
        assert_eq!(verify_authorization(None, &["k"]), Err(AuthFailure::MissingCredentials));
    }

    #[test]
    fn an_unset_key_never_matches_an_empty_token() {
        assert!(!key_matches("", &["", ""]));
        assert!(!key_matches("x", &[]));
    }
}
