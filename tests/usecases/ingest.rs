//! Ingest through the route table: credentials, idempotency, quotas and
//! the transaction rules that used to be reachable only through wrangler.

use serde_json::json;

use super::harness::{compile, Service, KEY};
use funnel::api::Method;

fn login_fail(id: &str, email: &str) -> serde_json::Value {
    json!({ "event_type": "m_auth_login_fail", "event_id": id, "email": email, "error_code": "otp_expired" })
}

#[test]
fn a_signed_event_is_stored_once_and_its_retry_is_a_duplicate() {
    let s = Service::new();
    let first = s.ingest_signed(json!([login_fail("e-1", "Kim@Example.com")]));
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["results"][0]["status"], "accepted");
    let retry = s.ingest_signed(json!([login_fail("e-1", "Kim@Example.com")]));
    assert_eq!(retry.body["results"][0]["status"], "duplicate");

    let stored = s.list_all("type=m_auth_login_fail");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["source"], "zuplo",
        "signed calls default to the gateway's source"
    );
    assert_eq!(stored[0]["email_domain"], "example.com");
    assert!(!stored[0].to_string().to_lowercase().contains("kim@"), "{}", stored[0]);
}

#[test]
fn the_list_finds_an_event_by_the_address_it_was_sent_with() {
    let s = Service::new();
    s.ingest(json!([
        login_fail("e-1", "kim@example.com"),
        login_fail("e-2", "lee@example.com")
    ]));
    let found = s.list_all("q_email=KIM%40example.com");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["event_id"], "e-1");
    assert_eq!(
        found[0]["source"], "cp",
        "bearer calls default to the control plane's source"
    );
}

#[test]
fn a_bad_signature_is_refused_and_stores_nothing() {
    let s = Service::new();
    let body = br#"{"events":[{"event_type":"m_otp_send","event_id":"x"}]}"#;
    let answer = s.send(
        Method::Post,
        "/internal/funnel-events/ingest",
        &[
            ("x-funnel-signature", "t=1,v1=00"),
            ("content-type", "application/json"),
        ],
        body,
    );
    assert_eq!((answer.status, answer.code()), (401, "malformed_signature"));
    assert!(s.list_all("").is_empty());
}

#[test]
fn a_body_over_the_limit_is_413_before_anything_is_checked() {
    let s = Service::new();
    let body = vec![b' '; funnel::ingest::MAX_BODY_BYTES + 1];
    let answer = s.send(Method::Post, "/api/events", &[], &body);
    assert_eq!((answer.status, answer.code()), (413, "payload_too_large"));
    let at_limit = vec![b' '; funnel::ingest::MAX_BODY_BYTES];
    let answer = s.send(Method::Post, "/api/events", &[], &at_limit);
    assert_eq!(
        answer.status, 401,
        "a body at the limit is read, then needs credentials"
    );
}

#[test]
fn the_quota_guard_stores_exactly_the_limit_across_requests() {
    let s = Service::new();
    // 25 one-event requests from one free user: the free plan allows 20 a month.
    let statuses: Vec<u16> = (0..25)
        .map(|i| s.ingest(json!([compile(&format!("c-{i}"), "u-free")])).status)
        .collect();
    assert_eq!(statuses.iter().filter(|&&st| st == 200).count(), 20);
    let refused = s.ingest(json!([compile("c-25", "u-free")]));
    assert_eq!((refused.status, refused.code()), (402, "quota_exceeded"));
    assert_eq!(refused.body["quota"][0]["used"], 20);
    assert_eq!(refused.body["quota"][0]["remaining"], 0);
    assert_eq!(s.list_all("type=compile_prompt").len(), 20);
}

#[test]
fn one_batch_past_the_limit_stores_up_to_it_and_refuses_the_rest_per_event() {
    let s = Service::new();
    let set = s.with_key(
        Method::Put,
        "/internal/quotas/overrides",
        &json!({ "subject_kind": "user", "subject_id": "u-7", "action": "compile", "monthly_limit": 7 }),
    );
    assert_eq!(set.status, 200, "{:?}", set.body);
    let batch: Vec<_> = (0..10).map(|i| compile(&format!("b-{i}"), "u-7")).collect();
    let answer = s.ingest(json!(batch));
    assert_eq!(answer.status, 200);
    let statuses: Vec<&str> = answer.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "accepted").count(), 7);
    assert_eq!(statuses.iter().filter(|s| **s == "quota_limited").count(), 3);
    let compile_line = s.usage_line("u-7", "compile");
    assert_eq!(
        (compile_line["used"].clone(), compile_line["limit"].clone()),
        (json!(7), json!(7))
    );
}

#[test]
fn when_the_database_refuses_a_batch_nothing_of_it_is_stored_and_the_answer_says_retry() {
    let s = Service::new();
    s.db().fail_next(1);
    let answer = s.ingest(json!([login_fail("f-1", "a@example.com"), compile("f-2", "u")]));
    assert_eq!((answer.status, answer.code()), (503, "storage_unavailable"));
    assert_eq!(answer.reply.header("retry-after"), Some("5"));
    assert!(s.list_all("").is_empty());
    let again = s.ingest(json!([login_fail("f-1", "a@example.com"), compile("f-2", "u")]));
    assert_eq!(again.status, 200);
    assert_eq!(s.list_all("").len(), 2);
}

#[test]
fn an_invalid_event_is_quarantined_without_its_address_and_a_valid_neighbour_is_kept() {
    let s = Service::new();
    let answer = s.ingest(json!([
        { "event_type": "m_auth_login_fail", "event_id": "bad", "email": "park@example.com" },
        login_fail("good", "park@example.com"),
    ]));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["results"][0]["status"], "rejected");
    let q = s.get("/internal/quarantine");
    assert_eq!(q.status, 200);
    let events = q.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert!(!q.body.to_string().contains("park@"), "{}", q.body);
    assert_eq!(s.list_all("").len(), 1);
    let _ = KEY;
}

#[test]
fn a_valid_time_outside_the_window_is_out_of_range_not_malformed() {
    let s = Service::new();
    let at =
        |id: &str, occurred_at: &str| json!({ "event_type": "m_otp_send", "event_id": id, "occurred_at": occurred_at });
    // Received 2026-03-10T12:00:00Z: the window is 400 days before to 24 hours after.
    let cases = [
        ("earliest", "2025-02-03T12:00:00Z", ""),
        ("latest", "2026-03-11T12:00:00Z", ""),
        ("too-old", "2025-02-03T11:59:59Z", "timestamp_out_of_range"),
        ("too-new", "2026-03-11T12:00:01Z", "timestamp_out_of_range"),
        ("year-9999", "9999-12-31T23:59:59Z", "timestamp_out_of_range"),
        ("garbage", "yesterday", "invalid_timestamp"),
    ];
    for (id, occurred_at, want) in cases {
        let answer = s.ingest(json!([at(id, occurred_at)]));
        let code = answer.body["results"][0]["errors"][0]["code"].as_str().unwrap_or("");
        assert_eq!(code, want, "{id}: {:?}", answer.body);
    }
    // A sender clock far off: the skew correction moves the event out of the window.
    let body = json!({ "events": [at("skewed", "2026-03-10T11:00:00Z")], "sent_at": "2036-03-10T12:00:00Z" });
    let answer = s.with_key(funnel::api::Method::Post, "/internal/funnel-events/ingest", &body);
    assert_eq!(answer.body["results"][0]["errors"][0]["code"], "timestamp_out_of_range");
}

#[test]
fn a_login_start_may_name_its_user_by_sub_and_a_fail_type_is_a_failure_in_its_trace() {
    let s = Service::new();
    let answer = s.ingest(json!([
        { "event_type": "m_auth_login_start", "event_id": "sub-1", "sub": "idp|42", "trace_id": "trace_sub" },
        // A failure by its type's name, even when the sender says success.
        { "event_type": "ai_organize_failed", "event_id": "f-1", "success": true, "trace_id": "trace_sub" },
    ]));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.body["results"][0]["status"], "accepted",
        "sub stands for user_id"
    );
    assert!(answer.body["results"][0].get("warnings").is_none(), "{:?}", answer.body);
    let stored = s.list_all("type=m_auth_login_start");
    assert_eq!(stored[0]["user_id"], "idp|42");
    let trace = s.get("/internal/trace/trace_sub").body;
    let failures: Vec<&str> = trace["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(failures, ["ai_organize_failed"]);
    // Without email or sub, the login start still needs one of them.
    let missing = s.ingest(json!([{ "event_type": "m_auth_login_start", "event_id": "sub-2" }]));
    assert_eq!(missing.body["results"][0]["status"], "rejected");
}
