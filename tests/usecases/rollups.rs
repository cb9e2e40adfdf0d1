//! What every write adds to the rollups (skipping those nothing in it can
//! change) equals a rebuild of every rollup from the stored rows.

use funnel::store::EventStore;
use serde_json::json;

use super::harness::{compile, dump, Service};

const ROLLUPS: [&str; 7] = [
    "event_rollup",
    "event_day_rollup",
    "property_rollup",
    "property_day_rollup",
    "currency_rollup",
    "usage_rollup",
    "usage_totals",
];

#[test]
fn the_rollups_each_write_adds_equal_a_rebuild_from_the_rows() {
    let s = Service::new();
    // Writes of one kind each (so each skips what it cannot change), then a mixed one, then a retry.
    let batches = [
        json!([{ "event_type": "app_open", "event_id": "r1", "user_id": "u1" }]),
        json!([{ "event_type": "command_executed", "event_id": "r2", "user_id": "u1",
                 "properties": { "scope": "doc", "action": "rewrite" } }]),
        json!([{ "event_type": "purchase_completed", "event_id": "r3", "user_id": "u2",
                 "properties": { "amount": 29.5, "currency": "USD", "plan": "pro" } }]),
        json!([compile("r4", "u3")]),
        json!([{ "event_type": "m_auth_login_fail", "event_id": "r5", "email": "a@example.com",
                 "error_code": "otp_expired", "trace_id": "trace_r5" },
               { "event_type": "purchase_completed", "event_id": "r6", "user_id": "u2",
                 "properties": { "amount": 9900 } },
               compile("r7", "u3")]),
        json!([{ "event_type": "app_open", "event_id": "r1", "user_id": "u1" }, compile("r4", "u3")]),
    ];
    for b in batches {
        let answer = s.ingest(b);
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    let written: Vec<Vec<Vec<String>>> = ROLLUPS.iter().map(|t| dump(&s, t)).collect();
    assert!(
        written.iter().all(|rows| !rows.is_empty()),
        "every rollup got something"
    );
    pollster::block_on(s.app.store.rebuild_rollups()).unwrap();
    for (table, rows) in ROLLUPS.iter().zip(written) {
        assert_eq!(dump(&s, table), rows, "{table}");
    }
}
