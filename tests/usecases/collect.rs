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

// What a hostile sender tries (issue 17 part 3).

const EVIL: &str = "https://evil.example.com";

/// A POST to `/collect` with the listed origin and the given query, content type and body.
fn post(s: &Service, query: &str, origin: &str, content_type: &str, body: &[u8]) -> Answer {
    s.send(
        Method::Post,
        &format!("/collect{query}"),
        &[
            ("origin", origin),
            ("content-type", content_type),
            ("cf-connecting-ip", "1.2.3.4"),
        ],
        body,
    )
}

/// `{"events":[view]}` padded with JSON whitespace to exactly `len` bytes.
fn body_of_exactly(len: usize) -> Vec<u8> {
    let mut body = serde_json::to_vec(&json!({ "events": [view("pad-1")] })).unwrap();
    assert!(body.len() <= len);
    body.splice(1..1, std::iter::repeat_n(b' ', len - body.len()));
    assert_eq!(body.len(), len);
    body
}

#[test]
fn every_refusal_on_collect_is_readable_by_a_listed_origin_and_by_no_other() {
    let s = service();
    let key = format!("?key={PK}");
    for origin in [SITE, EVIL] {
        let want = (origin == SITE).then_some(SITE);
        let refusals = [
            ("413", post(&s, &key, origin, "text/plain", &body_of_exactly(65_537))),
            (
                "405",
                s.send(Method::Put, &format!("/collect{key}"), &[("origin", origin)], b"{}"),
            ),
            (
                "405 get",
                s.send(Method::Get, &format!("/collect{key}"), &[("origin", origin)], b""),
            ),
            (
                "415",
                post(&s, &key, origin, "application/x-www-form-urlencoded", b"events=1"),
            ),
            ("400", post(&s, &format!("{key}&debug=1"), origin, "text/plain", b"{}")),
            ("400 body", post(&s, &key, origin, "text/plain", b"{\"events\":")),
        ];
        for (what, answer) in refusals {
            assert!(answer.status >= 400, "{what} {origin}: {}", answer.status);
            assert_eq!(
                answer.reply.header("access-control-allow-origin"),
                want,
                "{what} {origin}"
            );
            assert_eq!(answer.reply.header("vary"), Some("Origin"), "{what} {origin}");
        }
    }
    // Only collect's path: another route answers no page, whatever its Origin.
    let health = s.send(Method::Get, "/api/health", &[("origin", SITE)], b"");
    assert_eq!(health.reply.header("access-control-allow-origin"), None);
    assert!(s.list_all("").is_empty());
}

#[test]
fn exactly_64_kib_is_read_and_one_byte_more_is_413() {
    let s = service();
    let key = format!("?key={PK}");
    let fits = post(&s, &key, SITE, "text/plain;charset=UTF-8", &body_of_exactly(65_536));
    assert_eq!(fits.status, 200, "{:?}", fits.body);
    assert_eq!(fits.body["results"][0]["status"], "accepted");
    let over = post(&s, &key, SITE, "text/plain;charset=UTF-8", &body_of_exactly(65_537));
    assert_eq!((over.status, over.code()), (413, "payload_too_large"));
    assert!(
        over.body["detail"].as_str().unwrap().contains("65536"),
        "{:?}",
        over.body
    );
    assert_eq!(s.list_all("").len(), 1);
}

#[test]
fn a_batch_of_501_events_is_413_too_many_events_and_500_are_stored() {
    let s = service();
    let batch = |n: usize, prefix: &str| -> Value {
        (0..n)
            .map(|i| json!({ "event_type": "m_page_view", "event_id": format!("{prefix}-{i}"), "anonymous_id": "a" }))
            .collect()
    };
    let over = beacon(&s, SITE, "1.2.3.4", batch(501, "over"));
    assert_eq!((over.status, over.code()), (413, "too_many_events"));
    assert_eq!(over.reply.header("access-control-allow-origin"), Some(SITE));
    assert!(s.list_all("").is_empty());
    let full = beacon(&s, SITE, "1.2.3.4", batch(500, "full"));
    assert_eq!(full.status, 200, "{:?}", full.body);
    assert_eq!(s.list_all("").len(), 500);
}

fn codes(result: &Value) -> Vec<String> {
    result["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_forged_event_type_casing_or_whitespace_names_no_type_and_is_rejected() {
    let s = service();
    let forged = [
        ("M_PAGE_VIEW", "unknown_event_type"),
        (" m_page_view", "unknown_event_type"),
        ("m_page_view\n", "unknown_event_type"),
        ("m_page_view\u{200b}", "unknown_event_type"),
        ("Purchase_Completed", "unknown_event_type"),
        ("purchase_completed ", "unknown_event_type"),
        ("purchase_completed", "not_browser_safe"),
    ];
    let events: Vec<Value> = forged
        .iter()
        .enumerate()
        .map(|(i, (t, _))| json!({ "event_type": t, "event_id": format!("f-{i}"), "anonymous_id": "a" }))
        .chain([
            // An alias may not smuggle a second type past the first.
            json!({ "event_type": "m_page_view", "event": "purchase_completed", "event_id": "f-alias", "anonymous_id": "a" }),
            json!({ "name": "purchase_completed", "event_id": "f-name", "properties": { "amount": 1, "currency": "USD" } }),
        ])
        .collect();
    let answer = beacon(&s, SITE, "1.2.3.4", Value::Array(events));
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    for (i, (t, code)) in forged.iter().enumerate() {
        assert_eq!(results[i]["status"], "rejected", "{t:?}");
        assert!(codes(&results[i]).contains(&code.to_string()), "{t:?}: {}", results[i]);
    }
    assert!(codes(&results[forged.len()]).contains(&"conflicting_fields".to_string()));
    assert!(codes(&results[forged.len() + 1]).contains(&"not_browser_safe".to_string()));
    assert!(s.list_all("").is_empty());
}

#[test]
fn oversized_properties_are_rejected_per_event_as_ingest_does() {
    let s = service();
    let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("p{i}"), json!(i))).collect();
    let heavy: serde_json::Map<String, Value> = (0..20).map(|i| (format!("blob{i}"), json!("x".repeat(90)))).collect();
    let events = json!([
        { "event_type": "m_page_view", "event_id": "o-many", "anonymous_id": "a", "properties": many },
        { "event_type": "m_page_view", "event_id": "o-big", "anonymous_id": "a", "properties": { "page_path": "/x", "blob": { "v": "y".repeat(9_000) } } },
        { "event_type": "m_page_view", "event_id": "o-heavy", "anonymous_id": "a", "properties": heavy },
        view("o-fine"),
    ]);
    let from_page = beacon(&s, SITE, "1.2.3.4", events.clone());
    assert_eq!(from_page.status, 200, "{:?}", from_page.body);
    let results = from_page.body["results"].as_array().unwrap();
    assert!(
        codes(&results[0]).contains(&"too_many_properties".to_string()),
        "{}",
        results[0]
    );
    assert_eq!(results[1]["status"], "rejected", "{}", results[1]);
    assert_eq!(results[3]["status"], "accepted");
    // The same events through signed ingest get the same answers.
    let signed = s.ingest_signed(events);
    let signed_results = signed.body["results"].as_array().unwrap();
    for (page, ingest) in results.iter().zip(signed_results) {
        assert_eq!(page["status"], ingest["status"], "{page} / {ingest}");
        assert_eq!(codes(page), codes(ingest));
    }
}

#[test]
fn a_page_cannot_name_another_configured_site_as_its_source() {
    let s = Service::with_config(config(&[(
        "PUBLISHABLE_KEYS",
        "pk_docs0123456789abcdef:docs:https://docs.example.com;pk_shop0123456789abcdef:shop:https://shop.example.com",
    )]));
    let answer = beacon(
        &s,
        SITE,
        "1.2.3.4",
        json!([
            { "event_type": "m_page_view", "event_id": "s-shop", "anonymous_id": "a", "source": "shop" },
            { "event_type": "m_page_view", "event_id": "s-docs", "anonymous_id": "a", "source": "docs" },
        ]),
    );
    assert_eq!(answer.body["results"][0]["status"], "rejected", "{:?}", answer.body);
    assert_eq!(codes(&answer.body["results"][0]), ["invalid_source"]);
    assert_eq!(answer.body["results"][1]["status"], "accepted");
    let stored = s.list_all("");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["source"], "docs");
}

#[test]
fn a_form_or_multipart_beacon_is_415_saying_to_send_json_text() {
    let s = service();
    let key = format!("?key={PK}");
    for content_type in [
        "application/x-www-form-urlencoded;charset=UTF-8",
        "multipart/form-data; boundary=----x",
        "application/octet-stream",
    ] {
        let answer = post(&s, &key, SITE, content_type, b"events=%5B%5D");
        assert_eq!(
            (answer.status, answer.code()),
            (415, "unsupported_media_type"),
            "{content_type}"
        );
        let detail = answer.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("JSON.stringify") && detail.contains("FormData"),
            "{detail}"
        );
        assert_eq!(answer.reply.header("access-control-allow-origin"), Some(SITE));
    }
    assert!(s.list_all("").is_empty());
}

#[test]
fn two_key_parameters_are_400_readable_only_when_both_list_the_origin() {
    let s = service();
    let body = serde_json::to_vec(&json!({ "events": [view("k-1")] })).unwrap();
    let same = post(&s, &format!("?key={PK}&key={PK}"), SITE, "text/plain", &body);
    assert_eq!((same.status, same.code()), (400, "repeated_parameter"));
    assert_eq!(same.reply.header("access-control-allow-origin"), Some(SITE));
    for query in [
        format!("?key={PK}&key=pk_nope0123456789abcdef"),
        format!("?key=pk_nope0123456789abcdef&key={PK}"),
    ] {
        let mixed = post(&s, &query, SITE, "text/plain", &body);
        assert_eq!((mixed.status, mixed.code()), (400, "repeated_parameter"), "{query}");
        assert_eq!(mixed.reply.header("access-control-allow-origin"), None, "{query}");
    }
    assert!(s.list_all("").is_empty());
}

#[test]
fn a_key_in_the_body_or_a_header_instead_of_the_query_is_401_and_stores_nothing() {
    let s = service();
    let body = serde_json::to_vec(&json!({ "key": PK, "events": [view("b-1")] })).unwrap();
    let in_body = post(&s, "", SITE, "text/plain", &body);
    assert_eq!((in_body.status, in_body.code()), (401, "bad_publishable_key"));
    assert!(
        in_body.body["detail"].as_str().unwrap().contains("query"),
        "{:?}",
        in_body.body
    );
    let in_header = s.send(
        Method::Post,
        "/collect",
        &[
            ("origin", SITE),
            ("content-type", "text/plain"),
            ("authorization", &format!("Bearer {PK}")),
        ],
        &body,
    );
    assert_eq!((in_header.status, in_header.code()), (401, "bad_publishable_key"));
    assert!(s.list_all("").is_empty());
    // With the key in the query too, the body's copy is ignored (never stored).
    let both = post(&s, &format!("?key={PK}"), SITE, "text/plain", &body);
    assert_eq!(both.status, 200, "{:?}", both.body);
    assert!(!s.list_all("")[0].to_string().contains(PK));
}

#[test]
fn a_publishable_key_opens_no_other_route_of_the_table() {
    use funnel::api::routes::{Access, ROUTES};
    let s = service();
    let body = serde_json::to_vec(&json!({ "events": [view("r-1")] })).unwrap();
    let fill = |path: &str| {
        path.replace("{trace_id}", "t-1")
            .replace("{name}", "signup")
            .replace("{id}", "e-1")
            .replace("{hour}", "2026-12-01T00")
            .replace("{*path}", "index.html")
    };
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.access != Access::Publishable) {
        let path = fill(route.path);
        let send = |query: &str, headers: &[(&str, &str)]| {
            let mut all = vec![("origin", SITE), ("content-type", "application/json")];
            all.extend_from_slice(headers);
            s.send(route.method, &format!("{path}{query}"), &all, &body)
        };
        let bearer = format!("Bearer {PK}");
        let with_pk = [
            send("", &[("authorization", &bearer)]),
            send(&format!("?key={PK}"), &[]),
        ];
        for answer in with_pk {
            let what = format!("{:?} {path}", route.method);
            match route.access {
                // A public route answers the pk exactly as it answers no credential.
                Access::Public => assert_eq!(answer.status, send("", &[]).status, "{what}"),
                Access::Bench => assert_eq!(answer.status, 404, "{what}"),
                _ => assert_eq!(answer.status, 401, "{what}: {:?}", answer.body),
            }
            assert_eq!(answer.reply.header("access-control-allow-origin"), None, "{what}");
        }
        checked += 1;
    }
    assert_eq!(checked, ROUTES.len() - 2);
    assert!(s.list_all("").is_empty());
}
