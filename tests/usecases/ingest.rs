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

#[test]
fn a_logged_out_tool_view_is_accepted_unmetered_while_a_tool_use_still_needs_a_user() {
    let s = Service::new();
    let tool = |id: &str, action: &str| {
        json!({ "event_type": "tool_interaction", "event_id": id, "session_id": "anon_session",
                "properties": { "tool_id": "tool_1", "action_type": action } })
    };
    let mut views: Vec<serde_json::Value> = (0..8).map(|i| tool(&format!("v{i}"), "view")).collect();
    views.push(tool("use-anon", "use"));
    let mut signed_in = tool("use-u1", "use");
    signed_in["user_id"] = json!("u1");
    views.push(signed_in);
    let answer = s.ingest(json!(views));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    for r in &results[..8] {
        assert!(
            ["accepted", "sampled_out"].contains(&r["status"].as_str().unwrap()),
            "a logged-out view is not refused: {r:?}"
        );
    }
    assert!(results[..8].iter().any(|r| r["status"] == "accepted"));
    assert_eq!(
        (results[8]["status"].clone(), results[8]["errors"][0]["field"].clone()),
        (json!("rejected"), json!("user_id"))
    );
    assert_eq!(results[9]["status"], "accepted");
    // Only the signed-in use is metered; the rejected one is in the quarantine, no view is.
    assert_eq!(s.usage_line("u1", "ai_tool_access")["used"], 1);
    let quarantine = s.get("/internal/quarantine?type=tool_interaction");
    assert_eq!(
        quarantine.body["events"].as_array().unwrap().len(),
        1,
        "{:?}",
        quarantine.body
    );
}

#[test]
fn automatic_parameters_are_stored_with_their_own_limits_and_processed_at_is_the_servers() {
    let s = Service::new();
    let agent = format!("Mozilla/5.0 (X11; Linux x86_64) {}", "AppleWebKit/537.36 ".repeat(10));
    assert!(agent.len() > 100 && agent.len() <= 512);
    let answer = s.ingest(json!([
        { "event_type": "select_template", "event_id": "auto-1", "user_agent": agent, "page_url": "https://easypick.example/search?q=gpt",
          "params": { "template_id": "t_1", "template_type": "prompt", "event_name": "select_template", "page_title": "검색 · EasyPick",
                      "session_id": "s_auto", "user_id": "u_auto", "timestamp": "2026-03-10T11:59:00Z",
                      "processed_at": "1999-01-01T00:00:00Z" } },
        { "event_type": "search", "event_id": "auto-2", "params": { "search_term": "x", "event_name": "page_view" } },
        { "event_type": "search", "event_id": "auto-3", "user_agent": "a".repeat(513), "params": { "search_term": "x" } },
        { "event_name": "search", "event_id": "auto-4", "params": { "search_term": "named by event_name" } },
    ]));
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted", "{:?}", results[0]);
    let codes = |r: &serde_json::Value, key: &str| -> Vec<String> {
        r[key].as_array().map_or(vec![], |a| {
            a.iter().map(|e| e["code"].as_str().unwrap().to_string()).collect()
        })
    };
    assert!(codes(&results[0], "warnings").contains(&"server_field_ignored".to_string()));
    assert!(
        !codes(&results[0], "warnings").contains(&"unknown_property".to_string()),
        "{:?}",
        results[0]
    );
    assert_eq!(codes(&results[1], "errors"), ["conflicting_fields"]);
    assert_eq!(codes(&results[2], "errors"), ["property_too_long"]);
    assert_eq!(results[2]["errors"][0]["field"], "properties.user_agent");
    assert_ne!(results[3]["status"], "rejected", "{:?}", results[3]);
    {
        let stored = s.list_all("user_id=u_auto");
        assert_eq!(stored.len(), 1);
        let e = &stored[0];
        assert_eq!(
            (e["session_id"].clone(), e["occurred_at"].clone()),
            (json!("s_auto"), json!("2026-03-10T11:59:00.000Z"))
        );
        assert_eq!(e["properties"]["user_agent"], json!(agent));
        assert_eq!(e["properties"]["page_title"], "검색 · EasyPick");
        assert!(e["properties"].get("processed_at").is_none() && e["properties"].get("event_name").is_none());
        assert_eq!(e["ts"], "2026-03-10T12:00:00.000Z", "processed_at is the server's ts");
    }
}

#[test]
fn identifiers_of_the_dictionary_take_letters_digits_and_underscores_only_free_text_anything() {
    let s = Service::new();
    let template = |id: &str, template_id: &str, category: &str| {
        json!({ "event_type": "select_template", "event_id": id,
                "properties": { "template_id": template_id, "template_type": "prompt", "category": category } })
    };
    let answer = s.ingest(json!([
        template("t1", "blog_post_template_001", "콘텐츠 제작"),
        template("t2", "blog-post template", "마케팅"),
    ]));
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted", "{:?}", results[0]);
    assert_eq!(
        (
            results[1]["errors"][0]["code"].clone(),
            results[1]["errors"][0]["field"].clone()
        ),
        (json!("invalid_identifier"), json!("properties.template_id"))
    );
}

#[test]
fn a_started_subscription_grants_no_paid_plan_until_payment_completes() {
    let s = Service::new();
    let subscription = |id: &str, action: &str| {
        json!({ "event_type": "subscription", "event_id": id, "user_id": "payer",
                "properties": { "action": action, "plan_type": "pro" } })
    };
    assert_eq!(s.ingest(json!([subscription("sub-1", "start")])).status, 200);
    assert_eq!(
        s.usage_line("payer", "compile")["limit"],
        20,
        "still free: nothing paid"
    );
    assert_eq!(s.ingest(json!([subscription("sub-2", "complete")])).status, 200);
    assert_eq!(s.usage_line("payer", "compile")["limit"], 500, "pro once paid");
    // An upgrade only started keeps the plan paid for; its payment grants the new one.
    let team = |id: &str, action: &str| {
        json!({ "event_type": "subscription", "event_id": id, "user_id": "payer",
                "properties": { "action": action, "plan_type": "team" } })
    };
    assert_eq!(s.ingest(json!([team("sub-3", "start")])).status, 200);
    assert_eq!(
        s.usage_line("payer", "compile")["limit"],
        500,
        "still pro: team not paid"
    );
    assert_eq!(s.ingest(json!([team("sub-4", "complete")])).status, 200);
    assert_eq!(s.usage_line("payer", "compile")["limit"], 2000, "team once paid");
}

#[test]
fn usage_over_a_month_range_answers_each_month_for_a_user_and_for_everyone() {
    let mut s = Service::new();
    for (month, n) in [(1, 2), (3, 3)] {
        s.app.now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, month, 10, 3, 0, 0).unwrap();
        let events: Vec<serde_json::Value> = (0..n).map(|i| compile(&format!("m{month}-{i}"), "writer")).collect();
        assert_eq!(s.ingest(json!(events)).status, 200);
    }
    let mine = s.get("/internal/usage/months?user_id=writer&from_month=2026-01&to_month=2026-03");
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    let used: Vec<(String, i64)> = mine.body["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let compile = m["user"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["action"] == "compile")
                .unwrap();
            (
                m["month"]["month"].as_str().unwrap().to_string(),
                compile["used"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        used,
        [
            ("2026-01".to_string(), 2),
            ("2026-02".to_string(), 0),
            ("2026-03".to_string(), 3)
        ]
    );
    let all = s.get("/internal/usage/months?from_month=2026-03&to_month=2026-03");
    let totals = &all.body["months"][0]["actions"];
    let compile_total = totals
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "compile")
        .unwrap();
    assert_eq!(compile_total["total_used"], 3);
    // The default range: the six months up to the current one; at most twelve.
    let default = s.get("/internal/usage/months");
    assert_eq!(default.body["months"].as_array().unwrap().len(), 6);
    assert_eq!(default.body["months"][5]["month"]["month"], "2026-03");
    let twelve = s.get("/internal/usage/months?from_month=2025-04&to_month=2026-03");
    assert_eq!(twelve.status, 200);
    let thirteen = s.get("/internal/usage/months?from_month=2025-03&to_month=2026-03");
    assert_eq!((thirteen.status, thirteen.code()), (400, "range_too_long"));
    let reversed = s.get("/internal/usage/months?from_month=2026-03&to_month=2026-02");
    assert_eq!((reversed.status, reversed.code()), (400, "invalid_range"));
    let bad = s.get("/internal/usage/months?to_month=March");
    assert_eq!((bad.status, bad.code()), (400, "invalid_month"));
}
