//! The PII scrubber on arbitrary bytes: as text (when UTF-8) and as JSON (when
//! it parses), it never panics, is idempotent, and reports exactly what it changed.
#![no_main]
use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;

use funnel::privacy::{scrub_text, scrub_value};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (once, kinds) = scrub_text(text);
        assert_eq!(
            kinds.is_empty(),
            matches!(once, Cow::Borrowed(_)),
            "kinds {kinds:?} for {text:?}"
        );
        let (twice, again) = scrub_text(&once);
        assert_eq!(twice, once, "not idempotent on {text:?}");
        assert!(again.is_empty(), "rescanned {again:?} in {once:?}");
    }
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) {
        let before = value.clone();
        let redactions = scrub_value(&mut value, "properties");
        assert_eq!(redactions.is_empty(), value == before, "{before} → {value}");
        assert!(redactions.iter().all(|r| r.path.starts_with("properties")));
        let once = value.clone();
        assert!(
            scrub_value(&mut value, "properties").is_empty(),
            "not idempotent on {before}"
        );
        assert_eq!(value, once);
    }
});
