//! The pure core's CPU cost for one 500-event batch, natively:
//! `cargo bench --bench core`. The target is ≤ 5 ms per batch, so the free
//! plan's 10 ms of CPU per request stays in reach in wasm.

use std::hint::black_box;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;

use funnel::ingest::normalize::RequestContext;
use funnel::ingest::{batch, body};
use funnel::security::{fingerprint::Fingerprinter, signature};

/// A realistic batch: the auth/commerce funnel's events with emails and traces, and
/// dictionary events with properties.
fn batch_body(n: usize) -> Vec<u8> {
    let events: Vec<_> = (0..n)
        .map(|i| match i % 4 {
            0 => json!({"event_type": "m_auth_login_start", "event_id": format!("e{i}"), "email": format!("User{i}@Example.com"),
                        "trace_id": format!("trace_{i}"), "properties": {"method": "otp"}}),
            1 => json!({"event_type": "m_auth_login_fail", "event_id": format!("e{i}"), "email": format!("user{i}@corp.kr"),
                        "trace_id": format!("trace_{i}"), "success": false, "error_code": "otp_expired",
                        "error_message": "the code expired"}),
            2 => json!({"event_type": "purchase_completed", "event_id": format!("e{i}"), "user_id": format!("u{i}"),
                        "properties": {"amount": 39000, "currency": "KRW", "plan_id": "pro"}}),
            _ => json!({"event_type": "select_template", "event_id": format!("e{i}"), "user_id": format!("u{i}"),
                        "properties": {"template_id": "blog_post_template_001", "template_type": "prompt",
                                       "category": "콘텐츠 제작", "source": "search"}}),
        })
        .collect();
    serde_json::to_vec(&json!({ "events": events })).unwrap()
}

fn core(c: &mut Criterion) {
    let secret = b"bench-secret";
    let now = 1_700_000_000;
    let raw = batch_body(500);
    let header = signature::header_value(secret, now, &raw);
    let ctx = RequestContext {
        received_at: DateTime::from_timestamp(now, 0).unwrap(),
        clock_skew: chrono::Duration::zero(),
        default_source: "zuplo",
        header_trace_id: None,
        fingerprints: Fingerprinter::new(b"bench-pepper"),
        replay: false,
        browser: false,
    };
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(500));
    group.bench_function("500-event batch: verify + parse + validate + fingerprint + plan", |b| {
        b.iter(|| {
            signature::verify(black_box(&header), black_box(&raw), &[secret], now, 300).unwrap();
            body::check_body_size(&raw).unwrap();
            let envelope = body::parse_envelope(black_box(&raw)).unwrap();
            let mut n = 0;
            let plan = batch::plan(&envelope.events, &ctx, Vec::new(), &mut || {
                n += 1;
                format!("srv{n}")
            });
            let rows =
                funnel::storage::json_chunks(&plan.unmetered_rows(), funnel::storage::MAX_BOUND_JSON_BYTES).unwrap();
            black_box((plan, rows))
        })
    });
    group.finish();
}

/// Each ingest batch folds its users into hour parts and encodes them: 1,000 values
/// (one SHA-256 each) into one sketch, then its (sparse) text form.
fn sketch(c: &mut Criterion) {
    let users: Vec<String> = (0..1_000).map(|i| format!("user-{i}")).collect();
    let mut group = c.benchmark_group("sketch");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("insert 1,000 users + encode", |b| {
        b.iter(|| {
            let mut hll = funnel::sketch::Hll::new();
            for user in &users {
                hll.insert("user", black_box(user));
            }
            black_box(hll.encode())
        })
    });
    group.finish();
}

criterion_group!(benches, core, sketch);
criterion_main!(benches);
