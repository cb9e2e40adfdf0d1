//! Cursor decoding on arbitrary text: never panics, never accepts a forgery.
#![no_main]
use libfuzzer_sys::fuzz_target;

use funnel::query::cursor::{decode, CursorKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = std::str::from_utf8(data) {
        let key = CursorKey::derive(b"fuzz-key");
        assert!(
            decode(&key, "events\n", raw).is_err(),
            "forged cursor accepted: {raw:?}"
        );
    }
});
