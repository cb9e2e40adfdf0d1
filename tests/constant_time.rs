//! Secret comparisons cannot short-circuit, checked without a clock.
//!
//! Bearer keys and `v1` signatures are compared through one function,
//! `security::compare::equal`, which the checks take as a parameter. These
//! tests pass a recorder instead and assert on what was compared: every
//! candidate, whichever one matches, as whole fixed-length digests. A check
//! that returned at the first match or mismatch, compared raw or truncated
//! values, or used `==` instead of the comparison would fail here.
//! `compare::equal` itself is checked by counting the elements it examines.
//!
//! What no functional test can see is whether the per-byte step is
//! branch-free (`subtle`'s job); timing is measured, outside CI, by
//! `cargo bench --bench constant_time`.

use std::cell::{Cell, RefCell};

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use funnel::error::AuthFailure;
use funnel::security::{compare, keys, signature};

/// Every comparison a check made, `(left, right)`, in order.
#[derive(Default)]
struct Recorder(RefCell<Vec<(Vec<u8>, Vec<u8>)>>);

impl Recorder {
    /// Records, then answers with the production comparison.
    fn equal(&self) -> impl Fn(&[u8], &[u8]) -> Choice + '_ {
        move |a, b| {
            self.0.borrow_mut().push((a.to_vec(), b.to_vec()));
            compare::equal(a, b)
        }
    }

    fn seen(self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.0.into_inner()
    }
}

/// A byte that counts how often it is compared.
struct Counted<'a> {
    byte: u8,
    examined: &'a Cell<usize>,
}

impl ConstantTimeEq for Counted<'_> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.examined.set(self.examined.get() + 1);
        self.byte.ct_eq(&other.byte)
    }
}

#[test]
fn equal_examines_every_byte_whatever_the_first_difference() {
    // An early return at the first differing byte would examine 1 element when
    // byte 0 differs and 32 only when the inputs are equal.
    const LEN: usize = 32;
    for differs_at in [None, Some(0), Some(1), Some(LEN / 2), Some(LEN - 1)] {
        let examined = Cell::new(0);
        let left: Vec<_> = (0..LEN)
            .map(|i| Counted {
                byte: i as u8,
                examined: &examined,
            })
            .collect();
        let right: Vec<_> = (0..LEN)
            .map(|i| Counted {
                byte: if Some(i) == differs_at { !(i as u8) } else { i as u8 },
                examined: &examined,
            })
            .collect();
        let same = bool::from(compare::equal(&left, &right));
        assert_eq!(same, differs_at.is_none(), "{differs_at:?}");
        assert_eq!(examined.get(), LEN, "elements examined, differing at {differs_at:?}");
    }
}

const KEYS: [&str; 3] = ["k-current-0123456789", "k-previous-abcdefghij", "k-spare-zyxwvutsrqp"];

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

fn configured() -> Vec<keys::ApiKey> {
    let roles = [keys::Role::Admin, keys::Role::Read, keys::Role::Ingest];
    KEYS.iter()
        .zip(roles)
        .enumerate()
        .map(|(i, (k, role))| keys::from_plain(&format!("key-{i}"), role, k))
        .collect()
}

#[test]
fn every_bearer_key_is_compared_whichever_one_matches() {
    // Which key matched must not show in the work done: an early
    // `return`/`break` on a match, or `.find()`, compares fewer keys when an
    // early key matches; a `break` on a mismatch, when a late one does.
    let cases = [
        (KEYS[0], Some("key-0")),
        (KEYS[1], Some("key-1")),
        (KEYS[2], Some("key-2")),
        ("k-current-012345678", None),
        ("k-wrong", None),
        ("", None),
    ];
    let keys = configured();
    for (presented, expected) in cases {
        let recorder = Recorder::default();
        let found = keys::identify_with(recorder.equal(), presented, &keys).map(|k| k.name);
        assert_eq!(found.as_deref(), expected, "{presented}");
        assert_eq!(recorder.seen().len(), KEYS.len(), "comparisons for {presented:?}");
    }
}

#[test]
fn bearer_keys_are_compared_as_whole_sha256_digests() {
    // Comparing the raw token would make the work depend on its length and the
    // key's; a truncated digest would accept near misses; a `==` on the digests
    // bypasses the comparison and records nothing.
    let keys = configured();
    for presented in [KEYS[1], "k-previous-abcdefghi", "x"] {
        let recorder = Recorder::default();
        keys::identify_with(recorder.equal(), presented, &keys);
        let expected: Vec<_> = KEYS.iter().map(|k| (sha256(presented), sha256(k))).collect();
        assert_eq!(recorder.seen(), expected, "{presented}");
    }
}

#[test]
fn the_matching_key_decides_the_role_and_name_not_its_position() {
    // The index of the match is selected without a branch; a mix-up there
    // would hand one key's role to another.
    let keys = configured();
    for (i, k) in KEYS.iter().enumerate() {
        let identity = keys::identify(k, &keys).unwrap();
        assert_eq!((identity.name, identity.role), (keys[i].name.clone(), keys[i].role));
    }
}

const SECRETS: [&[u8]; 2] = [b"whsec_test_current", b"whsec_test_previous"];
const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"events":[{"event_type":"x"}]}"#;

fn mac(secret: &[u8]) -> Vec<u8> {
    hex::decode(signature::sign(secret, NOW, BODY)).unwrap()
}

/// A `v1` that is wrong only in its last byte: the worst case for an early exit.
fn nearly(secret: &[u8]) -> String {
    let mut bytes = mac(secret);
    bytes[31] ^= 1;
    hex::encode(bytes)
}

fn header(v1s: &[String]) -> String {
    let entries: Vec<_> = v1s.iter().map(|v| format!("v1={v}")).collect();
    format!("t={NOW},{}", entries.join(","))
}

#[test]
fn every_secret_is_compared_with_every_v1_whichever_pair_matches() {
    // Which secret signed, and which `v1` matched, must not show in the work
    // done: stopping at the first match (or first mismatch) compares fewer
    // pairs for some of these headers.
    let current = hex::encode(mac(SECRETS[0]));
    let previous = hex::encode(mac(SECRETS[1]));
    let forged = "0".repeat(64);
    let cases = [
        (vec![current.clone()], Ok(())),
        (vec![previous.clone()], Ok(())),
        (vec![current.clone(), forged.clone()], Ok(())),
        (vec![forged.clone(), previous.clone()], Ok(())),
        (vec![current.clone(), previous.clone()], Ok(())),
        (vec![forged.clone()], Err(AuthFailure::BadSignature)),
        (
            vec![nearly(SECRETS[0]), nearly(SECRETS[1]), forged],
            Err(AuthFailure::BadSignature),
        ),
    ];
    for (v1s, expected) in cases {
        let recorder = Recorder::default();
        let h = header(&v1s);
        assert_eq!(
            signature::verify_with(recorder.equal(), &h, BODY, &SECRETS, NOW, 300),
            expected,
            "{h}"
        );
        assert_eq!(recorder.seen().len(), SECRETS.len() * v1s.len(), "comparisons for {h}");
    }
}

#[test]
fn signatures_are_compared_as_whole_macs_secret_by_secret() {
    // Each comparison is of the full 32-byte MAC with the full decoded `v1`:
    // not hex text, not a prefix, and never skipped for a `==`.
    let v1s = [nearly(SECRETS[0]), hex::encode(mac(SECRETS[1]))];
    let recorder = Recorder::default();
    let h = header(&v1s);
    assert_eq!(
        signature::verify_with(recorder.equal(), &h, BODY, &SECRETS, NOW, 300),
        Ok(())
    );
    let expected: Vec<_> = SECRETS
        .iter()
        .flat_map(|s| v1s.iter().map(move |v| (mac(s), hex::decode(v).unwrap())))
        .collect();
    assert_eq!(recorder.seen(), expected);
}
