//! Writes besides ingest: quota overrides, quarantine replay, retention.

use serde_json::json;

use super::harness::{now, Service};
use funnel::api::Method;

#[test]
fn an_override_is_listed_applies_to_usage_and_can_be_removed() {
    let s = Service::new();
    let body = json!({ "subject_kind": "user", "subject_id": "u-1", "action": "compile", "monthly_limit": 3 });
    let set = s.with_key(Method::Put, "/internal/quotas/overrides", &body);
    assert_eq!(
        (set.status, set.body["override"]["monthly_limit"].clone()),
        (200, json!(3))
    );
    let quotas = s.get("/internal/quotas");
    assert_eq!(quotas.body["overrides"][0]["subject_id"], "u-1");
    assert_eq!(s.usage_line("u-1", "compile")["limit"], 3);

    let target = "/internal/quotas/overrides?subject_kind=user&subject_id=u-1&action=compile";
    let removed = s.with_key(Method::Delete, target, &json!({}));
    assert_eq!(removed.body["deleted"], true);
    let again = s.with_key(Method::Delete, target, &json!({}));
    assert_eq!(again.body["deleted"], false);
}

#[test]
fn an_override_body_over_its_limit_or_of_the_wrong_type_is_refused() {
    let s = Service::new();
    let huge = vec![b' '; funnel::api::routes::OVERRIDE_MAX_BODY + 1];
    let answer = s.send(Method::Put, "/internal/quotas/overrides", &[], &huge);
    assert_eq!((answer.status, answer.code()), (413, "payload_too_large"));
    let key = format!("Bearer {}", super::harness::KEY);
    let plain = s.send(
        Method::Put,
        "/internal/quotas/overrides",
        &[("authorization", &key)],
        b"{}",
    );
    assert_eq!((plain.status, plain.code()), (415, "unsupported_media_type"));
}

#[test]
fn a_replay_stores_what_now_passes_and_keeps_what_still_fails() {
    let s = Service::new();
    // An unknown field value the catalog refuses, and an event missing its error code.
    s.ingest(json!([
        { "event_type": "m_auth_login_fail", "event_id": "q-1", "email": "a@example.com" },
        { "event_type": "no_such_type", "event_id": "q-2" },
    ]));
    let replay = s.send(
        Method::Post,
        "/internal/quarantine/replay",
        &[("authorization", &format!("Bearer {}", super::harness::KEY))],
        b"",
    );
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(replay.body["examined"], 2);
    assert_eq!(replay.body["still_failing"], 2);
    assert_eq!(replay.body["pending"], 2);
}

#[test]
fn retention_deletes_expired_events_and_keeps_the_rest() {
    let mut s = Service::new();
    s.ingest(json!([{ "event_type": "m_otp_send", "event_id": "old" }]));
    // A year and a half later, with 400 days of retention.
    s.app.now = now() + chrono::Duration::days(540);
    s.ingest(json!([{ "event_type": "m_otp_send", "event_id": "new" }]));
    let run = pollster::block_on(funnel::usecases::retention::run(
        &s.app.store,
        &*s.archive,
        400,
        s.app.now,
    ))
    .unwrap();
    assert_eq!((run.deleted, run.done), (1, true));
    let left: Vec<String> = s
        .db()
        .connection()
        .prepare("SELECT event_id FROM funnel_events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, vec!["new".to_string()]);
}
