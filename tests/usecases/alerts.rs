//! Alerts end to end over SQLite: each rule kind opens an incident on one
//! side of its threshold and not on the other, the incident is posted once
//! (signed), resolves with one message when it clears, a failed delivery is
//! retried on the next run, and `GET /internal/alerts` lists what happened.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use funnel::catalog::alerts::ALERT_RULES;
use funnel::config::AlertWebhooks;
use funnel::notify::{MemoryNotifier, Post};
use funnel::security::signature;
use funnel::time::to_stored;
use funnel::usecases::alerts::{self, AlertRun};

use crate::harness::{compile, now, Service};

const SECRET: &str = "alert-secret";

fn webhooks() -> AlertWebhooks {
    AlertWebhooks {
        urls: vec!["https://hooks.example/one".into()],
        secret: SECRET.into(),
    }
}

/// One cron run at `at` with the catalog's rules.
fn run_at(s: &Service, notifier: &MemoryNotifier, hooks: &AlertWebhooks, at: DateTime<Utc>) -> AlertRun {
    pollster::block_on(alerts::run(&s.app.store, ALERT_RULES, hooks, Some(notifier), at)).unwrap()
}

fn run(s: &Service, notifier: &MemoryNotifier) -> AlertRun {
    run_at(s, notifier, &webhooks(), s.app.now)
}

/// The post's body, after checking its signature as a receiver would.
fn verified(post: &Post) -> Value {
    let header = &post.headers.iter().find(|(k, _)| k == signature::HEADER).unwrap().1;
    let parsed = signature::parse_header(header).unwrap();
    let expected = signature::sign(SECRET.as_bytes(), parsed.timestamp, post.body.as_bytes());
    assert!(
        parsed.signatures.iter().any(|s| hex::encode(s) == expected),
        "bad signature on {}",
        post.body
    );
    serde_json::from_str(&post.body).unwrap()
}

/// `(status, rule, scope)` of each post.
fn posted(notifier: &MemoryNotifier) -> Vec<(String, String, String)> {
    notifier
        .drain()
        .iter()
        .map(|p| {
            let m = verified(p);
            assert!(
                m["text"].as_str().is_some_and(|t| !t.is_empty()),
                "Slack needs text: {m}"
            );
            let i = &m["incident"];
            (
                m["status"].as_str().unwrap().to_string(),
                i["rule"].as_str().unwrap().to_string(),
                i["scope"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn notice(status: &str, rule: &str, scope: &str) -> (String, String, String) {
    (status.into(), rule.into(), scope.into())
}

fn app_open(id: &str) -> Value {
    json!({ "event_type": "app_open", "event_id": id })
}

fn otp(id: String, ok: bool) -> Value {
    json!({ "event_type": "m_otp_send_result", "event_id": id, "email": "a@example.com", "success": ok })
}

fn ingest_ok(s: &Service, events: Vec<Value>) {
    let answer = s.ingest(Value::Array(events));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[test]
fn a_service_silent_past_its_limit_is_posted_once_then_resolved_when_it_sends_again() {
    let mut s = Service::new();
    let notifier = MemoryNotifier::new();
    // pluid's last event stored 59 minutes ago: not yet silent; other services never sent.
    s.app.now = now() - Duration::minutes(59);
    ingest_ok(&s, vec![app_open("a1")]);
    s.app.now = now();
    assert_eq!(run(&s, &notifier).opened, 0);
    assert!(posted(&notifier).is_empty());
    // Two minutes later it is 61 minutes: one incident, one signed message.
    s.app.now = now() + Duration::minutes(2);
    let r = run(&s, &notifier);
    assert_eq!((r.opened, r.sent), (1, 1));
    assert_eq!(posted(&notifier), [notice("firing", "service_silent", "pluid")]);
    // Still silent: never re-opened, never re-posted.
    s.app.now = now() + Duration::minutes(5);
    assert_eq!(
        run(&s, &notifier),
        AlertRun {
            firing: 1,
            ..AlertRun::default()
        }
    );
    assert!(posted(&notifier).is_empty());
    let list = s.get("/internal/alerts");
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["open"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["open"][0]["scope"], "pluid");
    assert!(list.body["open"][0]["notified_at"].is_string());
    // It sends again: resolved, one resolve message.
    ingest_ok(&s, vec![app_open("a2")]);
    let r = run(&s, &notifier);
    assert_eq!((r.resolved, r.sent), (1, 1));
    assert_eq!(posted(&notifier), [notice("resolved", "service_silent", "pluid")]);
    assert!(posted(&notifier).is_empty());
    assert_eq!(run(&s, &notifier).sent, 0);
    let list = s.get("/internal/alerts");
    assert!(list.body["open"].as_array().unwrap().is_empty());
    let recent = &list.body["recent"][0];
    assert_eq!(
        (recent["rule"].as_str(), recent["scope"].as_str()),
        (Some("service_silent"), Some("pluid"))
    );
    assert_eq!(recent["resolved_at"], to_stored(s.app.now));
    assert!(recent["resolve_notified_at"].is_string());
}

#[test]
fn a_failure_rate_fires_above_its_limit_with_enough_events_and_clears_below_it() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    // 9 failures: 100 %, but fewer than the rule's 10 events.
    ingest_ok(&s, (0..9).map(|i| otp(format!("f{i}"), false)).collect());
    run(&s, &notifier);
    assert!(posted(&notifier).is_empty());
    // 10 of 10 failed: above 20 %.
    ingest_ok(&s, vec![otp("f9".into(), false)]);
    run(&s, &notifier);
    assert_eq!(posted(&notifier), [notice("firing", "otp_send_failure_rate", "")]);
    // 10 of 50 is exactly 20 %: not above it, so the incident clears.
    ingest_ok(&s, (0..40).map(|i| otp(format!("ok{i}"), true)).collect());
    let r = run(&s, &notifier);
    assert_eq!(r.resolved, 1);
    assert_eq!(posted(&notifier), [notice("resolved", "otp_send_failure_rate", "")]);
    // One more failure: 11 of 51 is above 20 % again, a new incident.
    ingest_ok(&s, vec![otp("f10".into(), false)]);
    assert_eq!(run(&s, &notifier).opened, 1);
    assert_eq!(posted(&notifier), [notice("firing", "otp_send_failure_rate", "")]);
}

fn login(id: String, ok: bool) -> Value {
    let event_type = if ok {
        "m_auth_login_success"
    } else {
        "m_auth_login_fail"
    };
    let mut e = json!({ "event_type": event_type, "event_id": id, "email": "a@example.com" });
    if !ok {
        e["error_code"] = json!("otp_invalid");
    }
    e
}

/// Login failures over the last 2 h at 15 % (3 of 20), over a baseline of
/// `baseline_failed` in 100 logins a day ago.
fn login_spike(baseline_failed: usize) -> Vec<(String, String, String)> {
    let mut s = Service::new();
    let notifier = MemoryNotifier::new();
    s.app.now = now() - Duration::days(1);
    ingest_ok(
        &s,
        (0..100).map(|i| login(format!("b{i}"), i >= baseline_failed)).collect(),
    );
    s.app.now = now();
    ingest_ok(&s, (0..20).map(|i| login(format!("w{i}"), i >= 3)).collect());
    run(&s, &notifier);
    posted(&notifier)
        .into_iter()
        .filter(|n| n.1 == "login_failure_spike")
        .collect()
}

#[test]
fn a_failure_rate_fires_above_twice_its_trailing_baseline_and_not_below() {
    // Baseline 5 %: twice is 10 %, and 15 % is above it (and above the 10 % floor).
    assert_eq!(login_spike(5), [notice("firing", "login_failure_spike", "")]);
    // Baseline 10 %: twice is 20 %; 15 % is not above it.
    assert!(login_spike(10).is_empty());
}

#[test]
fn quarantine_growth_fires_at_100_rejections_within_the_hour() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    let unknown = |i: usize| json!({ "event_type": "no_such_type", "event_id": format!("q{i}") });
    let answer = s.ingest(Value::Array((0..99).map(unknown).collect()));
    assert_eq!((answer.status, answer.body["failed"].as_i64()), (422, Some(99)));
    run(&s, &notifier);
    assert!(posted(&notifier).is_empty(), "99 is below the limit");
    s.ingest(json!([unknown(99)]));
    run(&s, &notifier);
    assert_eq!(posted(&notifier), [notice("firing", "quarantine_growth", "")]);
    // An hour later they are outside the window: resolved.
    let later = now() + Duration::minutes(61);
    assert_eq!(run_at(&s, &notifier, &webhooks(), later).resolved, 1);
}

#[test]
fn users_at_quota_fire_per_action_from_five_users_at_their_limit() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    let fill = |user: &str| {
        let events: Vec<Value> = (0..20).map(|i| compile(&format!("{user}-{i}"), user)).collect();
        ingest_ok(&s, events);
    };
    for u in ["u1", "u2", "u3", "u4"] {
        fill(u);
    }
    run(&s, &notifier);
    assert!(posted(&notifier).is_empty(), "4 users at the limit");
    fill("u5");
    run(&s, &notifier);
    assert_eq!(posted(&notifier), [notice("firing", "users_at_quota", "compile")]);
}

#[test]
fn a_failed_delivery_is_retried_next_run_and_then_never_again() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    ingest_ok(&s, (0..10).map(|i| otp(format!("f{i}"), false)).collect());
    notifier.fail_next(1);
    let r = run(&s, &notifier);
    assert_eq!((r.opened, r.sent, r.failed), (1, 0, 1));
    assert!(s.get("/internal/alerts").body["open"][0]["notified_at"].is_null());
    let r = run(&s, &notifier);
    assert_eq!((r.opened, r.sent, r.failed), (0, 1, 0));
    assert_eq!(posted(&notifier), [notice("firing", "otp_send_failure_rate", "")]);
    assert_eq!(run(&s, &notifier).sent, 0);
    assert!(posted(&notifier).is_empty());
}

#[test]
fn with_a_second_webhook_down_the_message_waits_until_both_took_it() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    let two = AlertWebhooks {
        urls: vec!["https://a.example/h".into(), "https://b.example/h".into()],
        secret: SECRET.into(),
    };
    ingest_ok(&s, (0..10).map(|i| otp(format!("f{i}"), false)).collect());
    notifier.fail_next(1); // the first URL's post fails, the second's goes through
    assert_eq!(run_at(&s, &notifier, &two, now()).failed, 1);
    assert_eq!(notifier.drain().len(), 1);
    assert_eq!(run_at(&s, &notifier, &two, now()).sent, 1);
    let urls: Vec<String> = notifier.drain().into_iter().map(|p| p.url).collect();
    assert_eq!(urls, ["https://a.example/h", "https://b.example/h"]);
}

#[test]
fn without_a_webhook_incidents_are_recorded_and_nothing_is_posted() {
    let s = Service::new();
    let notifier = MemoryNotifier::new();
    ingest_ok(&s, (0..10).map(|i| otp(format!("f{i}"), false)).collect());
    let r = run_at(&s, &notifier, &AlertWebhooks::default(), now());
    assert_eq!((r.opened, r.sent), (1, 0));
    assert!(notifier.drain().is_empty());
    let list = s.get("/internal/alerts");
    assert_eq!(list.body["open"][0]["rule"], "otp_send_failure_rate");
    assert!(list.body["open"][0]["notified_at"].is_null());
    assert_eq!(list.body["webhooks"], 0);
}

#[test]
fn the_alert_list_needs_a_key_and_names_every_declared_rule() {
    let s = Service::new();
    let anonymous = s.send(funnel::api::Method::Get, "/internal/alerts", &[], b"");
    assert_eq!(anonymous.status, 401);
    let list = s.get("/internal/alerts");
    assert_eq!(list.status, 200);
    let names: Vec<&str> = list.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALERT_RULES.iter().map(|r| r.name).collect::<Vec<_>>());
    assert_eq!(list.body["rules"][0]["watch"]["kind"], "service_silent");
    assert!(list.body["open"].as_array().unwrap().is_empty());
}
