//! The trace rule: whatever it accepts satisfies the contract.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = std::str::from_utf8(data) {
        if let Some(t) = funnel::trace::accept_trace_id(raw) {
            assert!(t.starts_with("trace_") && t.len() <= 128);
            assert!(t.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
    }
});
