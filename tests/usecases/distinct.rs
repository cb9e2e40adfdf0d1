//! Distinct users and sessions come from sketches (estimates): written by
//! every ingest, merged by the compaction, rebuilt from the rows on demand.
//! The answers stay within 2 % of the exact count and do not move when the
//! parts are compacted or the sketches rebuilt.

use funnel::storage::sql;
use funnel::store::{EventStore, StoredSketch};
use funnel::usecases::sketches;
use std::collections::HashSet;

use serde_json::{json, Value};

use super::harness::{count, Service};

const USERS: usize = 3_000;
const SESSIONS: usize = 4_500;

/// Who sent what, exactly.
#[derive(Default)]
struct Exact {
    users: HashSet<String>,
    sessions: HashSet<String>,
    pluid_users: HashSet<String>,
    pregoi_users: HashSet<String>,
}

fn ingest_many(s: &Service) -> Exact {
    let mut exact = Exact::default();
    for batch in 0..24 {
        let events: Vec<Value> = (0..500)
            .map(|j| {
                let i = batch * 500 + j;
                // Pluid sees every user; Pregoi the first third of them, again.
                let (event_type, user) = if i % 3 == 0 {
                    ("m_auth_login_start", i % (USERS / 3))
                } else {
                    ("app_open", i % USERS)
                };
                let (user, session) = (format!("user-{user}"), format!("sess-{}", i % SESSIONS));
                exact.users.insert(user.clone());
                exact.sessions.insert(session.clone());
                match event_type {
                    "app_open" => exact.pluid_users.insert(user.clone()),
                    _ => exact.pregoi_users.insert(user.clone()),
                };
                json!({ "event_type": event_type, "event_id": format!("d{i}"), "user_id": user,
                        "session_id": session, "trace_id": format!("t{i}"),
                        "email": format!("user{user}@example.com") })
            })
            .collect();
        let answer = s.ingest(json!(events));
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    exact
}

/// The overview's distinct counts in UTC and in Seoul (whose reads merge Seoul-day sketches).
fn distinct_counts(s: &Service) -> Value {
    json!([distinct_counts_in(s, "UTC"), distinct_counts_in(s, "Asia/Seoul")])
}

fn distinct_counts_in(s: &Service, tz: &str) -> Value {
    let o = s.get(&format!("/api/overview?tz={tz}")).body;
    assert!(o["services"].is_array(), "{o}");
    let service = |name: &str| {
        o["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service"] == name)
            .map(|x| json!([x["users"], x["sessions"]]))
            .unwrap()
    };
    json!({ "totals": [o["totals"]["users"], o["totals"]["sessions"]], "pluid": service("pluid"),
            "pregoi": service("pregoi"), "events": o["totals"]["events"] })
}

fn within_two_percent(got: &Value, exact: usize) {
    let got = got.as_f64().unwrap();
    let error = (got - exact as f64).abs() / exact as f64;
    assert!(error <= 0.02, "{got} against {exact}: {:.2} %", error * 100.0);
}

#[test]
fn distinct_users_and_sessions_are_within_two_percent_and_compaction_and_rebuild_leave_them_unchanged() {
    let s = Service::new();
    let exact = ingest_many(&s);
    let fresh = distinct_counts(&s);
    for zone in [&fresh[0], &fresh[1]] {
        assert_eq!(zone["events"], 12_000);
        within_two_percent(&zone["totals"][0], exact.users.len());
        within_two_percent(&zone["totals"][1], exact.sessions.len());
        within_two_percent(&zone["pluid"][0], exact.pluid_users.len());
        within_two_percent(&zone["pregoi"][0], exact.pregoi_users.len());
    }
    assert!(exact.pluid_users.len() > 1_000 && exact.pregoi_users.len() > 500);
    let parts = count(&s, "SELECT COUNT(*) FROM sketch_parts");
    assert!(parts >= 24, "every write appended its parts: {parts}");

    let merged = pollster::block_on(sketches::compact(&s.app.store, 100)).unwrap();
    assert_eq!(merged as i64, parts);
    let left = count(&s, "SELECT COUNT(*) FROM sketch_parts");
    assert_eq!(left, 0);
    let zone_days = count(&s, "SELECT COUNT(*) FROM sketches WHERE period LIKE '%@540'");
    assert!(zone_days > 0, "Seoul days and months are compacted too");
    assert_eq!(
        distinct_counts(&s),
        fresh,
        "merging is exact: the estimate does not move"
    );

    let rows = pollster::block_on(sketches::rebuild(&s.app.store)).unwrap();
    assert_eq!(rows, 12_000);
    assert_eq!(
        distinct_counts(&s),
        fresh,
        "a rebuild from the rows gives the same sketches"
    );
}

#[test]
fn a_compaction_whose_parts_another_one_took_writes_nothing() {
    let s = Service::new();
    ingest_many(&s);
    let store = &s.app.store;
    let parts = pollster::block_on(store.oldest_sketch_parts(10)).unwrap();
    let ids: Vec<i64> = parts.iter().map(|p| p.id).collect();
    let sketch = StoredSketch {
        kind: "u".into(),
        scope: "s:pluid".into(),
        period: "2026-01".into(),
        regs: parts[0].regs.clone(),
    };
    // Another compaction merged and deleted the first part meanwhile.
    s.db()
        .connection()
        .execute(sql::DELETE_SKETCH_PARTS, [json!([ids[0]]).to_string()])
        .unwrap();
    assert!(pollster::block_on(store.write_compaction(std::slice::from_ref(&sketch), &ids)).is_err());
    let (sketches_written, parts_left): (i64, i64) = s
        .db()
        .connection()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM sketches), (SELECT COUNT(*) FROM sketch_parts WHERE id IN (SELECT value FROM json_each(?1)))",
            [json!(ids).to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((sketches_written, parts_left), (0, ids.len() as i64 - 1));
    // With its parts all there, the same write goes through.
    pollster::block_on(store.write_compaction(&[sketch], &ids[1..])).unwrap();
}

#[test]
fn the_sketch_compaction_runs_from_the_maintenance_cron() {
    let s = Service::new();
    ingest_many(&s);
    let line = pollster::block_on(funnel::usecases::maintenance::compaction(&s.app.store));
    let merged: i64 = line
        .trim_start_matches("sketches: merged ")
        .trim_end_matches(" parts")
        .parse()
        .unwrap();
    assert!(merged >= 24, "{line}");
    let left = count(&s, "SELECT COUNT(*) FROM sketch_parts");
    assert_eq!(left, 0);
}

#[test]
fn the_rebuild_route_walks_every_row_in_steps_and_refuses_a_bad_after_id() {
    use funnel::api::Method;
    let s = Service::new();
    ingest_many(&s);
    let before = distinct_counts(&s);
    let key = format!("Bearer {}", super::harness::KEY);
    let post = |target: &str| s.send(Method::Post, target, &[("authorization", &key)], b"");
    for bad in ["-1", "x", "1.5"] {
        let answer = post(&format!("/internal/sketches/rebuild?after_id={bad}"));
        assert_eq!((answer.status, answer.code()), (400, "invalid_after_id"), "{bad}");
    }
    let first = post("/internal/sketches/rebuild");
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(
        (first.body["rows"].clone(), first.body["done"].clone()),
        (json!(12_000), json!(true))
    );
    let after = first.body["next_after_id"].as_i64().unwrap();
    assert_eq!(distinct_counts(&s), before);
    // A step past the last row reads nothing and keeps the sketches.
    let last = post(&format!("/internal/sketches/rebuild?after_id={after}"));
    assert_eq!(
        (last.body["rows"].clone(), last.body["done"].clone()),
        (json!(0), json!(true))
    );
    assert_eq!(distinct_counts(&s), before);
}
