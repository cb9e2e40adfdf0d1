//! The PII scrubber's CPU cost for one 500-event batch, natively:
//! `cargo bench --bench scrub`. The whole core path for a batch must stay under
//! 5 ms (about 3.3 ms without the scrubber), so the scrubber should cost well
//! under 1 ms per batch.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};

use funnel::privacy::{scrub_text, scrub_value};

/// ~100-character error messages; every third one holds an address or a credential.
fn error_message(i: usize) -> String {
    match i % 6 {
        0 => format!("user Alice.Kim{i}@Example.com not found in tenant t_42; check the invite list and retry"),
        1 => "the verification code expired after 3 attempts; request a new code and try again in 30 s".into(),
        2 => format!(
            "upstream 401 for req_{i:06}: Authorization Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln rejected"
        ),
        3 => "결제 실패: 카드 승인이 거절되었습니다 (코드 51). 잠시 후 다시 시도해 주세요. 주문번호 2026031000001234"
            .into(),
        4 => {
            format!("webhook delivery to https://hooks.example.com/in?id={i} timed out after 10000 ms (attempt 2 of 5)")
        }
        _ => "template render failed: missing variable {{title}} in blog_post_template_001 at line 12, column 7".into(),
    }
}

/// A realistic batch: each event with an `error_message` and six string properties.
fn batch(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "event_type": "m_auth_login_fail",
                "error_message": error_message(i),
                "properties": {
                    "plan_id": "pro",
                    "template_id": "blog_post_template_001",
                    "category": "콘텐츠 제작",
                    "page": format!("/pricing?ref=newsletter_2026_03&v={}", i % 3),
                    "referrer": "https://www.google.com/search?q=funnel+analytics",
                    "app_version": "3.12.0",
                    "amount": 39000
                }
            })
        })
        .collect()
}

/// What the ingest path will do per event: scrub the message and the properties.
fn scrub_event(event: &mut Value) -> usize {
    let mut n = 0;
    if let Some(message) = event.get_mut("error_message") {
        n += scrub_value(message, "error_message").len();
    }
    if let Some(properties) = event.get_mut("properties") {
        n += scrub_value(properties, "properties").len();
    }
    n
}

fn scrub(c: &mut Criterion) {
    let events = batch(500);
    let mut group = c.benchmark_group("scrub");
    group.throughput(Throughput::Elements(500));
    group.bench_function("500-event batch: error_message + 6 string properties", |b| {
        b.iter_batched_ref(
            || events.clone(),
            |events| {
                let redactions: usize = events.iter_mut().map(scrub_event).sum();
                black_box(redactions)
            },
            BatchSize::LargeInput,
        )
    });
    // The no-match fast path alone: 500 × 7 strings without PII.
    let clean: Vec<String> = (0..500)
        .flat_map(|i| {
            [
                error_message(6 * i + 1),
                error_message(6 * i + 5),
                "pro".into(),
                "blog_post_template_001".into(),
                "콘텐츠 제작".into(),
                "https://www.google.com/search?q=funnel+analytics".into(),
                "3.12.0".into(),
            ]
        })
        .collect();
    group.bench_function("500 × 7 strings without PII (borrowed)", |b| {
        b.iter(|| clean.iter().filter(|s| scrub_text(black_box(s)).1.is_empty()).count())
    });
    group.finish();
}

criterion_group!(benches, scrub);
criterion_main!(benches);
