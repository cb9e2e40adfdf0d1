//! Browser collection (`POST /collect?key=pk_…`) through the route table:
//! publishable keys, origins and CORS, browser-safe types, the rate limit,
//! and the same validation and scrubbing as ingest.

use std::rc::Rc;

use serde_json::{json, Value};

use super::harness::{config, Answer, Service, KEY};
use funnel::api::Method;
use funnel::ratelimit::CountingLimiter;

const PK: &str = "pk_docs0123456789abcdef";
const SITE: &str = "https://docs.example.com";

fn service() -> Service {
    Service::with_config(config(&[(
        "PUBLISHABLE_KEYS",
        "pk_docs0123456789abcdef:docs:https://docs.example.com,http://127.0.0.1:8080",
    )]))
}

fn view(id: &str) -> Value {
    json!({ "event_type": "m_page_view", "event_id": id, "anonymous_id": "anon_1", "properties": { "page_path": "/pricing" } })
}

/// A beacon: the key in the query, the page's origin, a text/plain string body.
fn beacon(s: &Service, origin: &str, ip: &str, events: Value) -> Answer {
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    s.send(
        Method::Post,
        &format!("/collect?key={PK}"),
        &[
            ("origin", origin),
            ("content-type", "text/plain;charset=UTF-8"),
            ("cf-connecting-ip", ip),
        ],
        &body,
    )
}

#[test]
fn a_page_of_a_listed_origin_sends_a_beacon_that_is_stored_with_its_site_as_source() {
    let s = service();
    let answer = beacon(&s, SITE, "1.2.3.4", json!([view("v-1")]));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["results"][0]["status"], "accepted");
    assert_eq!(answer.reply.header("access-control-allow-origin"), Some(SITE));
    assert_eq!(answer.reply.header("vary"), Some("Origin"));
    let stored = s.list_all("type=m_page_view");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["source"], "docs");
    // The same event again is a duplicate, as with ingest.
    let retry = beacon(&s, SITE, "1.2.3.4", json!([view("v-1")]));
    assert_eq!(retry.body["results"][0]["status"], "duplicate");
}

#[test]
fn a_metered_or_money_event_in_a_browser_batch_is_rejected_and_the_rest_is_stored() {
    let s = service();
    let answer = beacon(
        &s,
        SITE,
        "1.2.3.4",
        json!([
            view("v-1"),
            { "event_type": "purchase_completed", "event_id": "p-1", "properties": { "amount": 10, "currency": "USD" } },
            { "event_type": "tool_interaction", "event_id": "t-use", "user_id": "u1", "properties": { "tool_id": "t1", "action_type": "use" } },
            { "event_type": "compile_prompt", "event_id": "c-1", "user_id": "u1", "properties": { "prompt_id": "p1", "model_type": "claude" } },
        ]),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted");
    for r in &results[1..] {
        assert_eq!(r["status"], "rejected", "{r}");
        let codes: Vec<&str> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["code"].as_str())
            .collect();
        assert!(codes.contains(&"not_browser_safe"), "{r}");
    }
    assert_eq!(s.list_all("").len(), 1, "only the view is stored");
    // A replay by an operator does not store what the public key could not send.
    let replay = s.with_key(Method::Post, "/internal/quarantine/replay", &json!({}));
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(s.list_all("").len(), 1, "{:?}", replay.body);
}

#[test]
fn a_tool_view_is_browser_safe_but_a_page_cannot_claim_another_senders_source() {
    let s = service();
    let answer = beacon(
        &s,
        SITE,
        "1.2.3.4",
        json!([
            { "event_type": "m_page_view", "event_id": "v-2", "anonymous_id": "a", "source": "zuplo" },
            view("v-3"),
        ]),
    );
    assert_eq!(answer.body["results"][0]["status"], "rejected", "{:?}", answer.body);
    assert_eq!(answer.body["results"][0]["errors"][0]["code"], "invalid_source");
    assert_eq!(answer.body["results"][1]["status"], "accepted");
}

#[test]
fn browser_events_are_scrubbed_as_signed_ones_are() {
    let s = service();
    let answer = beacon(
        &s,
        SITE,
        "1.2.3.4",
        json!([{ "event_type": "m_page_view", "event_id": "v-pii", "anonymous_id": "a",
                 "properties": { "page_path": "/u/kim@example.com/settings" } }]),
    );
    assert_eq!(answer.body["results"][0]["status"], "accepted", "{:?}", answer.body);
    let stored = s.list_all("type=m_page_view");
    assert!(!stored[0].to_string().contains("kim@"), "{}", stored[0]);
}

#[test]
fn another_origin_is_refused_without_cors_headers_and_nothing_is_stored() {
    let s = service();
    for origin in ["https://evil.example.com", "http://127.0.0.1:8081", "null"] {
        let answer = beacon(&s, origin, "1.2.3.4", json!([view("v-x")]));
        assert_eq!((answer.status, answer.code()), (403, "origin_not_allowed"), "{origin}");
        assert_eq!(answer.reply.header("access-control-allow-origin"), None, "{origin}");
    }
    // No Origin at all (not a page) is refused too.
    let answer = s.send(
        Method::Post,
        &format!("/collect?key={PK}"),
        &[("content-type", "application/json")],
        br#"{"events":[]}"#,
    );
    assert_eq!(answer.code(), "origin_not_allowed");
    assert!(s.list_all("").is_empty());
}

#[test]
fn the_preflight_answers_a_listed_origin_with_cors_headers_and_refuses_any_other() {
    let s = service();
    let ok = s.send(
        Method::Options,
        &format!("/collect?key={PK}"),
        &[("origin", SITE), ("access-control-request-method", "POST")],
        b"",
    );
    assert_eq!(ok.status, 204);
    assert_eq!(ok.reply.header("access-control-allow-origin"), Some(SITE));
    assert_eq!(ok.reply.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(ok.reply.header("access-control-allow-headers"), Some("content-type"));
    let refused = s.send(
        Method::Options,
        &format!("/collect?key={PK}"),
        &[("origin", "https://evil.example.com")],
        b"",
    );
    assert_eq!((refused.status, refused.code()), (403, "origin_not_allowed"));
    assert_eq!(refused.reply.header("access-control-allow-origin"), None);
}

#[test]
fn a_publishable_key_reads_nothing_and_a_bearer_key_is_not_a_publishable_one() {
    let s = service();
    let read = s.send(
        Method::Get,
        "/internal/funnel-events",
        &[("authorization", &format!("Bearer {PK}"))],
        b"",
    );
    assert_eq!((read.status, read.code()), (401, "bad_key"));
    let as_query = s.send(Method::Get, &format!("/internal/funnel-events?key={PK}"), &[], b"");
    assert_eq!((as_query.status, as_query.code()), (401, "missing_credentials"));
    let ingest = s.send(
        Method::Post,
        "/internal/funnel-events/ingest",
        &[
            ("authorization", &format!("Bearer {PK}")),
            ("content-type", "application/json"),
        ],
        br#"{"events":[]}"#,
    );
    assert_eq!((ingest.status, ingest.code()), (401, "bad_key"));
    let bearer_as_pk = s.send(
        Method::Post,
        &format!("/collect?key={KEY}"),
        &[("origin", SITE), ("content-type", "text/plain")],
        br#"{"events":[]}"#,
    );
    assert_eq!((bearer_as_pk.status, bearer_as_pk.code()), (401, "bad_publishable_key"));
}

#[test]
fn over_the_per_ip_or_per_site_limit_is_429_with_retry_after_and_stores_nothing() {
    let mut s = service();
    let limiter = Rc::new(CountingLimiter::new(2));
    s.app.limiter = Some(Box::new(limiter.clone()));
    // One address: two requests fit, the third is refused (readable by the page: CORS headers).
    assert_eq!(beacon(&s, SITE, "1.2.3.4", json!([view("a-1")])).status, 200);
    assert_eq!(beacon(&s, SITE, "1.2.3.4", json!([view("a-2")])).status, 200);
    let refused = beacon(&s, SITE, "1.2.3.4", json!([view("a-3")]));
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"));
    assert_eq!(refused.reply.header("retry-after"), Some("10"));
    assert_eq!(refused.reply.header("access-control-allow-origin"), Some(SITE));
    assert_eq!(s.list_all("").len(), 2);
    assert_eq!(limiter.seen()[..2], ["ip:1.2.3.4".to_string(), "key:docs".to_string()]);

    // Another address, same site: the site's bucket is full.
    let mut s = service();
    let limiter = Rc::new(CountingLimiter::new(2));
    s.app.limiter = Some(Box::new(limiter.clone()));
    assert_eq!(beacon(&s, SITE, "10.0.0.1", json!([view("b-1")])).status, 200);
    assert_eq!(beacon(&s, SITE, "10.0.0.2", json!([view("b-2")])).status, 200);
    let refused = beacon(&s, SITE, "10.0.0.3", json!([view("b-3")]));
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"));
    assert_eq!(s.list_all("").len(), 2);
}

#[test]
fn a_beacon_larger_than_64_kib_is_413_and_a_form_body_415() {
    let s = service();
    let big = json!([{ "event_type": "m_page_view", "anonymous_id": "a", "properties": { "page_path": "x".repeat(70_000) } }]);
    assert_eq!(beacon(&s, SITE, "1.2.3.4", big).status, 413);
    let form = s.send(
        Method::Post,
        &format!("/collect?key={PK}"),
        &[("origin", SITE), ("content-type", "application/x-www-form-urlencoded")],
        b"events=1",
    );
    assert_eq!((form.status, form.code()), (415, "unsupported_media_type"));
}
