//! Timing of the secret comparisons, natively: `cargo bench --bench constant_time`.
//!
//! Not a CI test: a shared machine's noise is larger than what an early exit
//! costs on 32 bytes. `tests/constant_time.rs` proves without a clock that
//! every byte and every candidate is compared; this measures what those tests
//! cannot see, the primitive's per-byte work. Within each group the inputs
//! differ only in where they first differ (or which key matches), so the
//! estimates should agree within their confidence intervals; an early exit
//! would make the "last byte" and "match" cases slower than "first byte". The
//! 4 KiB case magnifies any per-byte early exit far above the noise.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use funnel::security::{compare, keys, signature};

/// `len` bytes, and copies of them changed at the first byte, the last byte, or not at all.
fn variants(len: usize) -> (Vec<u8>, [(&'static str, Vec<u8>); 3]) {
    let base: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut first = base.clone();
    first[0] ^= 1;
    let mut last = base.clone();
    last[len - 1] ^= 1;
    (
        base.clone(),
        [
            ("differs at first byte", first),
            ("differs at last byte", last),
            ("equal", base),
        ],
    )
}

fn equal(c: &mut Criterion) {
    for len in [32, 4096] {
        let mut group = c.benchmark_group(format!("compare::equal {len} bytes"));
        let (base, cases) = variants(len);
        for (name, other) in &cases {
            group.bench_with_input(BenchmarkId::from_parameter(name), other, |b, other| {
                b.iter(|| compare::equal(black_box(&base[..]), black_box(&other[..])))
            });
        }
        group.finish();
    }
}

fn bearer_key(c: &mut Criterion) {
    let current = "k".repeat(64);
    let previous = "p".repeat(64);
    let keys = [
        keys::from_plain("current", keys::Role::Admin, &current),
        keys::from_plain("previous", keys::Role::Admin, &previous),
    ];
    let cases = [
        ("differs at first byte", format!("x{}", "k".repeat(63))),
        ("differs at last byte", format!("{}x", "k".repeat(63))),
        ("matches the current key", current.clone()),
        ("matches the previous key", previous.clone()),
    ];
    let mut group = c.benchmark_group("keys::identify, 2 keys");
    for (name, token) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(name), token, |b, token| {
            b.iter(|| keys::identify(black_box(token), black_box(&keys)))
        });
    }
    group.finish();
}

fn signature_v1(c: &mut Criterion) {
    let secrets: [&[u8]; 2] = [b"bench-current", b"bench-previous"];
    let now = 1_700_000_000;
    let body = br#"{"events":[{"event_type":"m_auth_login_start","event_id":"e1"}]}"#;
    let changed_at = |secret: &[u8], i: usize| {
        let mut mac = hex::decode(signature::sign(secret, now, body)).unwrap();
        mac[i] ^= 1;
        hex::encode(mac)
    };
    let cases = [
        ("differs at first byte", changed_at(secrets[0], 0)),
        ("differs at last byte", changed_at(secrets[0], 31)),
        ("signed with the current secret", signature::sign(secrets[0], now, body)),
        (
            "signed with the previous secret",
            signature::sign(secrets[1], now, body),
        ),
    ];
    let mut group = c.benchmark_group("signature::verify, 2 secrets");
    for (name, v1) in &cases {
        let header = format!("t={now},v1={v1}");
        group.bench_with_input(BenchmarkId::from_parameter(name), &header, |b, header| {
            b.iter(|| signature::verify(black_box(header), black_box(body), &secrets, now, 300))
        });
    }
    group.finish();
}

criterion_group!(benches, equal, bearer_key, signature_v1);
criterion_main!(benches);
