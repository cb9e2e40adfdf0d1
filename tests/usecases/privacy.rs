//! The access log, erasure and suppression, through the route table.

use serde_json::{json, Value};

use super::harness::{compile, Service, KEY};
use funnel::api::Method;
use funnel::security::fingerprint::fingerprint_email;

fn login(id: &str, email: &str, trace: &str) -> Value {
    json!({ "event_type": "m_auth_login_start", "event_id": id, "email": email, "trace_id": trace })
}

fn audit(s: &Service) -> Vec<Value> {
    let page = s.get("/internal/audit?limit=500");
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body["entries"].as_array().unwrap().clone()
}

fn fp(s: &Service, email: &str) -> String {
    let key = s.app.config.as_ref().unwrap().email_fingerprint_key.clone();
    fingerprint_email(key.as_bytes(), email).unwrap().fingerprint
}

#[test]
fn a_lookup_by_address_is_logged_with_its_fingerprint_never_the_address() {
    let s = Service::new();
    s.ingest(json!([
        login("a", "kim@example.com", "trace_a"),
        login("b", "lee@example.com", "trace_b")
    ]));
    assert_eq!(s.get("/internal/funnel-events?q_email=kim%40example.com").status, 200);
    let entries = audit(&s);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["key_name"], "internal");
    assert_eq!(e["route"], "GET /internal/funnel-events");
    assert_eq!(e["kind"], "email_fingerprint");
    assert_eq!(e["subject"], fp(&s, "kim@example.com"));
    assert_eq!(e["rows"], 1);
    assert!(!Value::Array(entries).to_string().contains("kim@"));
}

#[test]
fn traces_users_exports_and_admin_writes_are_logged_and_aggregate_reads_are_not() {
    let s = Service::new();
    s.ingest(json!([login("a", "kim@example.com", "trace_a")]));
    for target in [
        "/internal/funnel-events/summary",
        "/api/overview",
        "/internal/catalog",
        "/internal/funnel-events",
    ] {
        assert_eq!(s.get(target).status, 200);
    }
    assert!(audit(&s).is_empty(), "reads that name nobody are not logged");
    s.get("/internal/trace/trace_a");
    s.get("/internal/usage?user_id=u-9");
    s.get("/internal/funnel-events/export");
    s.with_key(
        Method::Put,
        "/internal/quotas/overrides",
        &json!({ "subject_kind": "user", "subject_id": "u-9", "action": "compile", "monthly_limit": 3 }),
    );
    let kinds: Vec<(String, Option<String>)> = audit(&s)
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["subject"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("override".into(), Some("u-9".into())),
            ("export".into(), None),
            ("user_id".into(), Some("u-9".into())),
            ("trace".into(), Some("trace_a".into())),
        ],
        "newest first"
    );
    // Filtered by subject.
    let by_subject = s.get("/internal/audit?subject=u-9");
    assert_eq!(by_subject.body["entries"].as_array().unwrap().len(), 2);
    // The log cannot be deleted through the API.
    let delete = s.send(
        Method::Delete,
        "/internal/audit",
        &[("authorization", &format!("Bearer {KEY}"))],
        b"",
    );
    assert_eq!(delete.status, 405);
}

/// Everything a reader could see of one address.
fn traces_of(s: &Service, query: &str) -> usize {
    s.list_all(query).len()
}

#[test]
fn erasure_leaves_no_row_of_the_subject_and_every_other_number_unchanged() {
    let s = Service::new();
    let mut events = Vec::new();
    for i in 0..30 {
        let email = if i % 3 == 0 {
            "kim@example.com"
        } else {
            "lee@example.com"
        };
        events.push(login(&format!("e-{i}"), email, &format!("trace_{}", i % 5)));
        events.push(json!({ "event_type": "compile_prompt", "event_id": format!("c-{i}"),
            "user_id": if i % 3 == 0 { "kim-user" } else { "lee-user" }, "email": email,
            "properties": { "prompt_id": "p", "model_type": "gpt-4" } }));
    }
    // A rejected event of kim's goes to the quarantine (missing error_code).
    events.push(json!({ "event_type": "m_auth_login_fail", "event_id": "q-kim", "email": "kim@example.com" }));
    assert_eq!(s.ingest(json!(events)).status, 200);
    let lee_before = traces_of(&s, "q_email=lee%40example.com");
    let summary_before = s.get("/internal/funnel-events/summary").body;

    let receipt = s.with_key(
        Method::Post,
        "/internal/erasure",
        &json!({ "email": "Kim@Example.com" }),
    );
    assert_eq!(receipt.status, 200, "{:?}", receipt.body);
    assert_eq!(receipt.body["done"], true);
    assert_eq!(receipt.body["subject_kind"], "email_fingerprint");
    assert_eq!(receipt.body["subject"], fp(&s, "kim@example.com"));
    assert_eq!(
        receipt.body["events_deleted"], 20,
        "10 logins and 10 compiles carried kim's address"
    );
    assert_eq!(receipt.body["quarantine_deleted"], 1);
    assert!(!receipt.body.to_string().contains("kim@"));

    assert_eq!(traces_of(&s, "q_email=kim%40example.com"), 0);
    assert_eq!(traces_of(&s, "q_email=lee%40example.com"), lee_before);
    let kim = fp(&s, "kim@example.com");
    // Traces, the export, usage and funnels agree that the subject is gone.
    for t in 0..5 {
        let trace = s.get(&format!("/internal/trace/trace_{t}")).body;
        assert!(!trace.to_string().contains(&kim), "trace_{t} still holds kim");
        assert!(
            !trace["events"].as_array().unwrap().is_empty(),
            "lee's events of trace_{t} stay"
        );
    }
    let export = s.get("/internal/funnel-events/export");
    let csv = s.drain_export(export);
    assert!(!csv.contains(&kim));
    assert_eq!(csv.lines().count() - 1, s.list_all("").len());
    assert_eq!(
        s.usage_line("kim-user", "compile")["used"],
        0,
        "kim's compiles are gone from the quota count"
    );
    assert_eq!(s.get("/internal/funnels/auth_commerce").status, 200);
    let quarantine = s.get("/internal/quarantine").body.to_string();
    assert!(!quarantine.contains(&fp(&s, "kim@example.com")));
    // The summary still equals the list for everyone left, per type.
    let summary = s.get("/internal/funnel-events/summary").body;
    for (event_type, n) in summary["totals"].as_object().unwrap() {
        assert_eq!(
            n.as_u64().unwrap() as usize,
            s.list_all(&format!("type={event_type}")).len(),
            "{event_type}"
        );
    }
    assert_eq!(
        summary["totals"]["m_auth_login_start"].as_i64().unwrap(),
        summary_before["totals"]["m_auth_login_start"].as_i64().unwrap() - 10
    );
    // Progress can be read back, and the erasure is in the access log.
    let id = receipt.body["id"].as_str().unwrap();
    let progress = s.get(&format!("/internal/erasure/{id}"));
    assert_eq!(
        (progress.status, progress.body["events_deleted"].clone()),
        (200, json!(20))
    );
    assert_eq!(s.get("/internal/erasure/er_nope").status, 404);
    assert!(audit(&s).iter().any(|e| e["kind"] == "erasure" && e["rows"] == 21));
}

#[test]
fn a_user_erased_with_suppression_is_answered_suppressed_and_stored_nowhere() {
    let s = Service::new();
    s.ingest(json!([compile("c-1", "gone"), compile("c-2", "stays")]));
    let receipt = s.with_key(
        Method::Post,
        "/internal/erasure",
        &json!({ "user_id": "gone", "suppress": true }),
    );
    assert_eq!(
        (receipt.body["events_deleted"].clone(), receipt.body["suppress"].clone()),
        (json!(1), json!(true))
    );

    let later = s.ingest(json!([
        compile("c-3", "gone"),
        compile("c-4", "stays"),
        // Rejected (no prompt_id) but of the suppressed user: not quarantined either.
        { "event_type": "compile_prompt", "event_id": "c-5", "user_id": "gone", "properties": { "model_type": "gpt-4" } },
        // A resend of a stored event of someone else: refused too, but a duplicate.
        compile("c-2", "stays"),
    ]));
    assert_eq!(later.status, 200, "{:?}", later.body);
    let statuses: Vec<&str> = later.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["suppressed", "accepted", "suppressed", "duplicate"]);
    assert_eq!(later.body["processed"], 4);
    let stored: Vec<String> = s
        .list_all("")
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, ["c-4", "c-2"]);
    assert!(s.get("/internal/quarantine").body["events"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(s.usage_line("gone", "compile")["used"], 0);
}

#[test]
fn a_large_erasure_finishes_across_calls_and_the_cron() {
    let s = Service::new();
    let events: Vec<Value> = (0..10_500)
        .map(|i| json!({ "event_type": "m_otp_send", "event_id": format!("o-{i}"), "user_id": "big" }))
        .collect();
    for chunk in events.chunks(500) {
        assert_eq!(s.ingest(json!(chunk)).status, 200);
    }
    let receipt = s.with_key(Method::Post, "/internal/erasure", &json!({ "user_id": "big" }));
    assert_eq!(
        (receipt.body["done"].clone(), receipt.body["events_deleted"].clone()),
        (json!(false), json!(10_000))
    );
    let config = s.app.config.clone().unwrap();
    let run = pollster::block_on(funnel::usecases::maintenance::run(
        &s.app.store,
        s.app.archive.as_deref(),
        &config,
        s.app.now,
    ));
    assert!(run.lines.iter().any(|l| l.contains("advanced 1")), "{:?}", run.lines);
    let id = receipt.body["id"].as_str().unwrap();
    let done = s.get(&format!("/internal/erasure/{id}"));
    assert_eq!(
        (done.body["done"].clone(), done.body["events_deleted"].clone()),
        (json!(true), json!(10_500))
    );
    assert!(s.list_all("").is_empty());
}

#[test]
fn an_erasure_request_names_exactly_one_subject_and_never_echoes_an_address() {
    let s = Service::new();
    for (body, code) in [
        (json!({}), "invalid_body"),
        (json!({ "email": "a@example.com", "user_id": "u" }), "invalid_body"),
        (json!({ "email": "not an address kim@" }), "invalid_email"),
        (json!({ "email_fingerprint": "ABC" }), "invalid_fingerprint"),
        (json!({ "user_id": "u", "suppress": "yes" }), "invalid_suppress"),
        (json!({ "user_id": "u", "whoever": 1 }), "unknown_field"),
    ] {
        let answer = s.with_key(Method::Post, "/internal/erasure", &body);
        assert_eq!((answer.status, answer.code()), (400, code), "{body}");
        assert!(!answer.body.to_string().contains("kim@"));
    }
}
