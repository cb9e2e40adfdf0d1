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
        browser: false,
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
    // No stored number can poison a sum: every one is finite and within 2^53.
    fn numbers_bounded(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n
                .as_f64()
                .is_some_and(|f| f.is_finite() && f.abs() <= funnel::catalog::limits::NUMBER_MAX_ABS),
            serde_json::Value::Array(a) => a.iter().all(numbers_bounded),
            serde_json::Value::Object(o) => o.values().all(numbers_bounded),
            _ => true,
        }
    }
    for row in &plan.rows {
        let payload: serde_json::Value = row.payload_json.as_deref().map_or(serde_json::Value::Null, |p| {
            serde_json::from_str(p).unwrap()
        });
        assert!(numbers_bounded(&payload), "{payload}");
    }
});
