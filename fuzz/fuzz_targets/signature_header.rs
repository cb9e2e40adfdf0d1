//! The `X-Funnel-Signature` parser and verifier on arbitrary header text and body bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data
        .first()
        .map_or(0, |b| *b as usize)
        .min(data.len().saturating_sub(1));
    let (header, body) = data.split_at(split.min(data.len()));
    if let Ok(header) = std::str::from_utf8(header) {
        let _ = funnel::security::signature::parse_header(header);
        // Random bytes must never verify against a real key.
        assert!(funnel::security::signature::verify(header, body, &[b"fuzz-secret"], 1_700_000_000, 300).is_err());
    }
});
