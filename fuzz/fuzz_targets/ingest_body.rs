//! A whole ingest body through parse → normalize → validate → plan → response.
#![no_main]
use libfuzzer_sys::fuzz_target;

use funnel::ingest::{batch, body, normalize::RequestContext};

fuzz_target!(|data: &[u8]| {
    if body::check_body_size(data).is_err() {
        return;
    }
    let Ok(envelope) = body::parse_envelope(data) else {
        return;
    };
    let ctx = RequestContext {
        received_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        clock_skew: chrono::Duration::zero(),
        default_source: "zuplo",
        header_trace_id: None,
        fingerprint_key: b"fuzz-pepper",
        replay: false,
    };
    let mut n = 0;
    let plan = batch::plan(&envelope.events, &ctx, Vec::new(), &mut || {
        n += 1;
        format!("evt_{n}")
    });
    let answer = batch::respond(&plan, &Default::default());
    // Nothing raw reaches storage: no stored row or quarantine copy carries an `email` field.
    for q in &plan.quarantine {
        let event: serde_json::Value = serde_json::from_str(&q.event_json).unwrap();
        assert!(event.get("email").is_none());
    }
    assert!(answer.status == 200 || answer.status == 402 || answer.status == 422);
});
