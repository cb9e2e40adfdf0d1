use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::security::fingerprint::{fingerprint_email, Fingerprinter};

const KEY: &[u8] = b"test-pepper";

fn ctx<'a>(header_trace: Option<&'a str>, skew: Duration) -> RequestContext<'a> {
    RequestContext {
        received_at: Utc.with_ymd_and_hms(2026, 3, 26, 1, 46, 28).unwrap(),
        clock_skew: skew,
        default_source: "zuplo",
        replay: false,
        browser: false,
        header_trace_id: header_trace,
        fingerprints: Fingerprinter::new(KEY),
    }
}

fn run(events: Value, ctx: &RequestContext) -> Plan {
    let mut n = 0;
    let mut ids = move || {
        n += 1;
        format!("evt_gen_{n}")
    };
    plan(events.as_array().unwrap(), ctx, vec![], &mut ids)
}

/// Storage that finds every row new.
fn all_new(plan: &Plan) -> HashSet<(String, String)> {
    plan.rows
        .iter()
        .map(|r| (r.source.clone(), r.event_id.clone()))
        .collect()
}

fn login_fail() -> Value {
    json!({"event_type": "m_auth_login_fail", "email": " Kim@Example.com ", "error_code": "otp_expired",
           "event_id": "e1", "trace_id": "trace_abc"})
}

#[test]
fn email_becomes_fingerprint_and_domain_and_the_address_is_stored_nowhere() {
    let p = run(json!([login_fail()]), &ctx(None, Duration::zero()));
    let row = &p.rows[0];
    let expected = fingerprint_email(KEY, "kim@example.com").unwrap();
    assert_eq!(row.email_fingerprint.as_deref(), Some(expected.fingerprint.as_str()));
    assert_eq!(row.email_domain.as_deref(), Some("example.com"));
    let everything = format!("{:?}", p);
    assert!(
        !everything.to_lowercase().contains("kim@"),
        "raw address leaked: {everything}"
    );
}

#[test]
fn seed_aliases_map_to_contract_fields() {
    let ev = json!({"service": "presstuner", "event": "purchase_completed", "userId": "team-1",
                    "sessionId": "req-1", "occurredAt": "2026-03-26T10:00:00+09:00",
                    "params": {"amount": 29000, "planId": "starter", "channel": "web"}});
    let p = run(json!([ev]), &ctx(None, Duration::zero()));
    assert!(p.quarantine.is_empty(), "{:?}", p.quarantine);
    let row = &p.rows[0];
    assert_eq!(row.event_type, "purchase_completed");
    assert_eq!(row.user_id.as_deref(), Some("team-1"));
    assert_eq!(row.session_id.as_deref(), Some("req-1"));
    assert_eq!(row.occurred_at.as_deref(), Some("2026-03-26T01:00:00.000Z"));
    let payload: Value = serde_json::from_str(row.payload_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        payload,
        json!({"amount": 29000, "plan_id": "starter", "channel": "web"})
    );
    let by_name = json!({"name": "app_open", "timestamp": "2026-03-26T00:00:00Z"});
    let p = run(json!([by_name]), &ctx(None, Duration::zero()));
    assert_eq!(p.rows[0].event_type, "app_open");
    assert_eq!(p.rows[0].occurred_at.as_deref(), Some("2026-03-26T00:00:00.000Z"));
}

#[test]
fn an_alias_that_disagrees_with_its_canonical_field_is_rejected() {
    let ev = json!({"event_type": "app_open", "event": "note_upserted"});
    let p = run(json!([ev]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][0]["errors"][0]["code"], "conflicting_fields");
}

#[test]
fn header_trace_id_is_the_fallback_and_an_invalid_event_trace_is_dropped_with_a_warning() {
    let evs = json!([
        {"event_type": "app_open", "event_id": "a"},
        {"event_type": "app_open", "event_id": "b", "trace_id": "not-a-trace"},
        {"event_type": "app_open", "event_id": "c", "trace_id": "  trace_own  "},
    ]);
    let p = run(evs, &ctx(Some("trace_header"), Duration::zero()));
    let traces: Vec<_> = p.rows.iter().map(|r| r.trace_id.as_deref()).collect();
    assert_eq!(traces, vec![Some("trace_header"), None, Some("trace_own")]);
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][1]["status"], "accepted");
    assert_eq!(r.json()["results"][1]["warnings"][0]["code"], "invalid_trace_id");
    assert!(r.json()["results"][1]["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("null"));
}

#[test]
fn a_required_trace_that_fails_the_rule_rejects_the_event() {
    let ev = json!({"event_type": "m_checkout_click", "trace_id": "bad", "properties": {"plan_tier": "pro"}});
    let p = run(json!([ev]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][0]["errors"][0]["code"], "missing_required_field");
    assert_eq!(r.json()["results"][0]["errors"][0]["field"], "trace_id");
}

#[test]
fn same_source_and_event_id_twice_in_a_batch_is_stored_once() {
    let p = run(json!([login_fail(), login_fail()]), &ctx(None, Duration::zero()));
    assert_eq!(p.rows.len(), 1);
    let r = respond(&p, &all_new(&p));
    let statuses: Vec<_> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("accepted"), json!("duplicate")]);
}

#[test]
fn a_row_storage_did_not_insert_is_reported_as_duplicate() {
    let p = run(json!([login_fail()]), &ctx(None, Duration::zero()));
    let r = respond(&p, &HashSet::new());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["results"][0]["status"], "duplicate");
    assert_eq!(r.json()["processed"], 1);
}

#[test]
fn the_same_event_id_from_another_source_is_a_different_event() {
    let mut other = login_fail();
    other["source"] = json!("cp");
    let p = run(json!([login_fail(), other]), &ctx(None, Duration::zero()));
    assert_eq!(p.rows.len(), 2);
}

#[test]
fn missing_event_ids_are_generated() {
    let p = run(json!([{"event_type": "app_open"}]), &ctx(None, Duration::zero()));
    assert_eq!(p.rows[0].event_id, "evt_gen_1");
}

#[test]
fn error_message_is_cut_to_512_characters_with_a_warning() {
    let mut ev = login_fail();
    ev["error_message"] = json!("오".repeat(600));
    let p = run(json!([ev.clone()]), &ctx(None, Duration::zero()));
    assert_eq!(p.rows[0].error_message.as_ref().unwrap().chars().count(), 512);
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][0]["warnings"][0]["code"], "truncated");
    ev["error_message"] = json!("오".repeat(512));
    let p = run(json!([ev]), &ctx(None, Duration::zero()));
    assert!(respond(&p, &all_new(&p)).json()["results"][0].get("warnings").is_none());
}

#[test]
fn occurred_at_is_corrected_by_the_senders_clock_skew() {
    let ev = json!({"event_type": "app_open", "occurred_at": "2026-03-26T01:00:00Z"});
    // The sender's clock is 90 s behind: received − sent_at = +90 s.
    let p = run(json!([ev]), &ctx(None, Duration::seconds(90)));
    assert_eq!(p.rows[0].occurred_at.as_deref(), Some("2026-03-26T01:01:30.000Z"));
    assert_eq!(p.rows[0].ts, "2026-03-26T01:46:28.000Z");
}

#[test]
fn field_limits_hold_on_both_sides() {
    let id = |n: usize| json!({"event_type": "app_open", "tenant_id": "t".repeat(n), "error_code": "c".repeat(64)});
    let p = run(json!([id(128), id(129)]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][0]["status"], "accepted");
    assert_eq!(r.json()["results"][1]["errors"][0]["code"], "field_too_long");
    assert_eq!(r.json()["results"][1]["errors"][0]["field"], "tenant_id");
    let code = json!({"event_type": "app_open", "error_code": "c".repeat(65)});
    let p = run(json!([code]), &ctx(None, Duration::zero()));
    assert_eq!(
        respond(&p, &all_new(&p)).json()["results"][0]["errors"][0]["field"],
        "error_code"
    );
}

#[test]
fn source_and_service_are_checked() {
    let evs = json!([
        {"event_type": "app_open", "source": "admin-web"},
        {"event_type": "app_open", "source": "Admin Web"},
        {"event_type": "app_open", "service": "presstuner"},
    ]);
    let p = run(evs, &ctx(None, Duration::zero()));
    assert_eq!(p.rows[0].source, "admin-web");
    assert_eq!(p.rows[0].service, "pluid");
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][1]["errors"][0]["code"], "invalid_source");
    assert_eq!(r.json()["results"][2]["errors"][0]["code"], "service_mismatch");
}

#[test]
fn success_accepts_booleans_and_zero_or_one_only() {
    let ev = |s: Value| json!({"event_type": "m_otp_send_result", "email": "a@b.co", "success": s});
    let p = run(
        json!([
            ev(json!(true)),
            ev(json!(0)),
            ev(json!(1)),
            ev(json!("yes")),
            ev(json!(2))
        ]),
        &ctx(None, Duration::zero()),
    );
    let successes: Vec<_> = p.rows.iter().map(|r| r.success).collect();
    assert_eq!(successes, vec![Some(1), Some(0), Some(1)]);
    assert_eq!(p.quarantine.len(), 2);
}

#[test]
fn every_problem_of_an_event_is_reported_with_its_field() {
    let ev = json!({"event_type": "m_checkout_click", "email": "nope", "success": "x", "properties": {"plan_tier": 3}});
    let p = run(json!([ev]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    let got: Vec<(String, String)> = r.json()["results"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().into(), e["field"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("invalid_field_type".into(), "success".into()),
            ("invalid_email".into(), "email".into()),
            ("missing_required_field".into(), "trace_id".into()),
            ("invalid_property_type".into(), "properties.plan_tier".into()),
        ]
    );
    assert_eq!(r.json()["errors"][0], "events[0]: success must be true, false, 0 or 1");
}

#[test]
fn rejected_events_are_quarantined_without_the_raw_address() {
    let ev = json!({"event_type": "m_checkout_click", "email": "Lee@Corp.kr", "event_id": "q1",
                    "properties": {"plan_tier": 1, "EMAIL": "lee@corp.kr"}});
    let p = run(
        json!([ev, "not an object"]),
        &ctx(Some("trace_h"), Duration::seconds(5)),
    );
    assert_eq!(p.quarantine.len(), 2);
    let q = &p.quarantine[0];
    assert!(!q.event_json.to_lowercase().contains("lee@"), "{}", q.event_json);
    let kept: Value = serde_json::from_str(&q.event_json).unwrap();
    assert_eq!(kept["email_domain"], "corp.kr");
    assert_eq!(
        kept["email_fingerprint"],
        fingerprint_email(KEY, "lee@corp.kr").unwrap().fingerprint
    );
    assert_eq!(
        (q.event_id.as_str(), q.source.as_str(), q.clock_skew_ms),
        ("q1", "zuplo", 5000)
    );
    assert_eq!(q.header_trace_id.as_deref(), Some("trace_h"));
    assert!(q.errors_json.contains("invalid_property_type"));
    assert_eq!(p.quarantine[1].event_json, "{}");
}

#[test]
fn all_rejected_is_a_422_problem_with_results_and_mixed_is_a_200() {
    let bad = json!({"event_type": "nope"});
    let p = run(json!([bad.clone(), bad.clone()]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    assert_eq!((r.status, r.is_problem), (422, true));
    assert_eq!(r.json()["code"], "all_events_rejected");
    assert_eq!(r.json()["failed"], 2);
    assert_eq!(r.json()["results"][0]["errors"][0]["code"], "unknown_event_type");

    let p = run(json!([bad, {"event_type": "app_open"}]), &ctx(None, Duration::zero()));
    let r = respond(&p, &all_new(&p));
    assert_eq!((r.status, r.is_problem), (200, false));
    assert_eq!(
        (
            r.json()["success"].clone(),
            r.json()["processed"].clone(),
            r.json()["failed"].clone()
        ),
        (json!(false), json!(1), json!(1))
    );
}

#[test]
fn unknown_top_level_fields_are_ignored_with_a_warning() {
    let p = run(
        json!([{"event_type": "app_open", "page_link": "/x"}]),
        &ctx(None, Duration::zero()),
    );
    let r = respond(&p, &all_new(&p));
    assert_eq!(r.json()["results"][0]["warnings"][0]["code"], "unknown_field");
    assert_eq!(r.json()["results"][0]["warnings"][0]["field"], "page_link");
}
