//! Properties of the parsers and checks that see outside bytes, over
//! generated inputs (proptest): signatures, cursors, the trace rule and
//! email fingerprints.

use proptest::prelude::*;

use funnel::query::cursor::{self, CursorKey, Position};
use funnel::security::fingerprint::fingerprint_email;
use funnel::security::signature::{header_value, verify};
use funnel::trace::accept_trace_id;

const NOW: i64 = 1_700_000_000;
const TOLERANCE: i64 = 300;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A signature verifies iff it was made with a configured secret, over
    /// exactly these bytes, within the window.
    #[test]
    fn a_signature_verifies_iff_made_with_a_configured_secret_over_the_same_bytes_in_the_window(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        other_body in proptest::collection::vec(any::<u8>(), 0..256),
        signer in 0usize..3,
        skew in -600i64..600,
    ) {
        let secrets: [&[u8]; 3] = [b"current-secret", b"previous-secret", b"unknown-secret"];
        let configured = &secrets[..2];
        let header = header_value(secrets[signer], NOW + skew, &body);
        let expected = signer < 2 && skew.abs() <= TOLERANCE;
        prop_assert_eq!(verify(&header, &body, configured, NOW, TOLERANCE).is_ok(), expected);
        if other_body != body {
            prop_assert!(verify(&header, &other_body, configured, NOW, TOLERANCE).is_err());
        }
    }

    /// Arbitrary header text never panics and never verifies.
    #[test]
    fn arbitrary_signature_headers_never_verify(header in ".{0,300}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert!(verify(&header, &body, &[b"k"], NOW, TOLERANCE).is_err());
    }

    #[test]
    fn a_cursor_round_trips_and_any_bit_flip_is_rejected(
        ts_ms in 0i64..253_402_300_799_000,
        id in 1i64..(1 << 53),
        query in "[a-z_=,\n]{0,80}",
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = CursorKey::derive(b"fingerprint-key");
        let ts = funnel::time::to_stored(chrono::DateTime::from_timestamp_millis(ts_ms).unwrap());
        let position = Position { ts, id };
        let range = ("2026-01-01T00:00:00.000Z".to_string(), "2026-01-15T00:00:00.000Z".to_string());
        let token = cursor::encode(&key, &query, range.clone(), position.clone());
        let back = cursor::decode(&key, &query, &token).unwrap();
        prop_assert_eq!(&back.position, &position);
        prop_assert_eq!(&back.range, &range);

        let mut bytes = token.clone().into_bytes();
        let i = flip.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Ok(changed) = String::from_utf8(bytes) {
            // Base64's unused trailing bits can decode to the same bytes; those are the same cursor.
            let same_bytes = |t: &str| {
                use base64::Engine;
                t.split_once('.').and_then(|(p, s)| {
                    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                    Some((e.decode(p).ok()?, e.decode(s).ok()?))
                })
            };
            if same_bytes(&changed).is_none() || same_bytes(&changed) != same_bytes(&token) {
                prop_assert!(cursor::decode(&key, &query, &changed).is_err(), "accepted a flipped cursor");
            }
        }
    }

    /// The trace rule accepts exactly: trimmed, `trace_` prefix, ≤ 128 chars, visible ASCII.
    #[test]
    fn the_trace_rule_accepts_exactly_the_contracts_set(raw in "[ \t]{0,2}(trace_)?[\\x00-\\x7f]{0,130}[ \t]{0,2}") {
        let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        let expected = trimmed.starts_with("trace_")
            && trimmed.len() <= 128
            && trimmed.bytes().all(|b| (0x21..=0x7e).contains(&b));
        prop_assert_eq!(accept_trace_id(&raw), expected.then_some(trimmed));
    }

    #[test]
    fn fingerprints_are_stable_under_case_and_white_space_and_differ_across_keys(
        local in "[a-z0-9._-]{1,20}",
        domain in "[a-z0-9-]{1,20}\\.[a-z]{2,6}",
        pad in "[ \t]{0,3}",
    ) {
        let address = format!("{local}@{domain}");
        let shouted = format!("{pad}{}{pad}", address.to_uppercase());
        let a = fingerprint_email(b"key-1", &address).unwrap();
        prop_assert_eq!(&fingerprint_email(b"key-1", &shouted).unwrap(), &a);
        prop_assert_eq!(&a.domain, &domain);
        prop_assert_ne!(fingerprint_email(b"key-2", &address).unwrap().fingerprint, a.fingerprint);
    }
}
