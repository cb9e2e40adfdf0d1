//! Secret comparisons use constant-time primitives, checked two ways:
//! the code that compares secrets calls them (and nothing compares a secret
//! with `==`), and timing does not depend on how many leading bytes match.

use std::fs;
use std::hint::black_box;
use std::time::Instant;

use funnel::security::bearer::key_matches;

fn source(path: &str) -> String {
    fs::read_to_string(format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The non-test part of a module.
fn code(path: &str) -> String {
    let s = source(path);
    s.split("#[cfg(test)]").next().unwrap().to_string()
}

#[test]
fn secret_comparisons_call_constant_time_primitives() {
    let bearer = code("security/bearer.rs");
    assert!(
        bearer.contains("ct_eq("),
        "bearer keys are compared with subtle's ct_eq"
    );
    let signature = code("security/signature.rs");
    assert!(
        signature.contains("verify_slice("),
        "signatures are checked with Mac::verify_slice"
    );
    let cursor = code("query/cursor.rs");
    assert!(
        cursor.contains("verify_slice("),
        "cursor tags are checked with Mac::verify_slice"
    );
}

#[test]
fn no_secret_or_digest_is_compared_with_double_equals() {
    for path in [
        "security/bearer.rs",
        "security/signature.rs",
        "security/mod.rs",
        "query/cursor.rs",
        "config.rs",
    ] {
        for (n, line) in code(path).lines().enumerate() {
            let l = line.to_lowercase();
            let compares = l.contains(" == ") || l.contains(" != ");
            let secretish = ["key", "secret", "sig", "mac", "tag", "digest", "token"]
                .iter()
                .any(|w| l.contains(w));
            // Lengths and counts may be compared; bytes may not.
            let about_length = l.contains(".len()") || l.contains("is_empty");
            assert!(
                !(compares && secretish && !about_length),
                "{path}:{}: compares a secret with ==: {line}",
                n + 1
            );
        }
    }
}

/// Median time of `key_matches` for a candidate, in nanoseconds.
fn median_ns(candidate: &str, keys: &[&str], rounds: usize) -> f64 {
    let mut samples: Vec<u128> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..64 {
                black_box(key_matches(black_box(candidate), black_box(keys)));
            }
            start.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

#[test]
fn bearer_check_time_does_not_depend_on_the_matching_prefix() {
    let key = "k".repeat(64);
    let keys = [key.as_str()];
    let none = "x".repeat(64);
    let most = format!("{}x", "k".repeat(63));
    // Interleave to share the machine's noise, and compare medians.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        a.push(median_ns(&none, &keys, 41));
        b.push(median_ns(&most, &keys, 41));
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let ratio = b[7] / a[7];
    // A byte-by-byte early exit would make the 63-byte prefix far slower; hashing both
    // sides first makes the work identical. 1.5 leaves room for a noisy shared machine.
    assert!((1.0 / 1.5..1.5).contains(&ratio), "timing ratio {ratio:.3}");
}
