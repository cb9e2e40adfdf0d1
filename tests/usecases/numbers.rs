//! Every number is bounded: a value outside its parameter's range is refused
//! per event (and kept in the quarantine), the reads stay finite and correct,
//! and a database holding such values from before is repaired by its migration.

use serde_json::{json, Map, Value};

use super::harness::{old_row, store_unchecked, Service};
use funnel::catalog::{EventDef, ParamKind, EVENTS};
use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;

/// A valid event of `def` (every identifier given, every required property at
/// its smallest allowed value), with `param` set to `value`.
fn event(def: &EventDef, id: &str, param: &str, value: Value) -> Value {
    let mut props = Map::new();
    for p in def.params.iter().filter(|p| p.required) {
        let v = match (p.kind, p.allowed.first(), p.range) {
            (ParamKind::Number, _, Some(r)) => json!(r.min),
            (_, Some(first), _) => json!(first),
            (ParamKind::Boolean, _, _) => json!(true),
            _ => json!("x"),
        };
        props.insert(p.name.to_string(), v);
    }
    if def.param("currency").is_some() {
        props.insert("currency".into(), json!("KRW"));
    }
    props.insert(param.to_string(), value);
    json!({
        "event_type": def.name, "event_id": id, "user_id": format!("user-{id}"),
        "trace_id": "trace_numbers", "email": "n@example.com", "job_id": "job-1", "tenant_id": "t-1",
        "session_id": "s-1", "anonymous_id": "a-1", "error_code": "E1", "success": false,
        "properties": props,
    })
}

fn status_and_code(answer: &Value) -> (String, String) {
    let r = &answer["results"][0];
    (
        r["status"].as_str().unwrap_or("").to_string(),
        r["errors"][0]["code"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn every_numeric_parameter_takes_its_bounds_and_refuses_one_step_past_them() {
    let s = Service::new();
    let mut n = 0;
    for def in EVENTS {
        for p in def.params.iter().filter(|p| p.kind == ParamKind::Number) {
            let r = p.range.expect("every numeric parameter declares a range");
            let step = if r.integer { 1.0 } else { 0.01 };
            let cases = [
                (json!(r.min), ""),
                (json!(r.max), ""),
                (json!(-0.0), ""),
                (json!(r.max + step), "value_out_of_range"),
                (json!(r.min - step), "value_out_of_range"),
                (json!(1e308), "value_out_of_range"),
                (json!(-1e308), "value_out_of_range"),
                (
                    json!(1e-300),
                    if r.integer {
                        "value_out_of_range"
                    } else {
                        "invalid_number_precision"
                    },
                ),
            ];
            for (value, want) in cases {
                n += 1;
                let answer = s.ingest(json!([event(def, &format!("n-{n}"), p.name, value.clone())]));
                let (status, code) = status_and_code(&answer.body);
                let case = format!("{}.{} = {value}", def.name, p.name);
                if want.is_empty() {
                    assert!(
                        ["accepted", "sampled_out"].contains(&status.as_str()),
                        "{case}: {:?}",
                        answer.body
                    );
                } else {
                    assert_eq!((status.as_str(), code.as_str()), ("rejected", want), "{case}");
                    assert_eq!(answer.code(), "all_events_rejected", "{case}");
                }
            }
        }
    }
    // The refused ones are in the quarantine, with the field and the bound named.
    let q = s.get("/internal/quarantine?limit=500");
    let messages = q.body.to_string();
    assert!(messages.contains("value_out_of_range") && messages.contains("from 0 to 1000000000000"));
    // Every read still answers, with numbers.
    for target in [
        "/internal/funnel-events/summary",
        "/internal/funnel-events/summary?tz=Asia/Seoul",
        "/internal/funnel-events/summary?from=2026-01-01&to=2026-04-01&tz=America/New_York",
        "/api/overview",
        "/internal/catalog",
        "/internal/funnels/auth_commerce",
        "/internal/usage/summary",
        "/internal/funnel-events?limit=500",
    ] {
        let answer = s.get(target);
        assert_eq!(answer.status, 200, "{target}: {:?}", answer.body);
    }
    let revenue = s.get("/api/overview").body["revenue"].clone();
    // purchase_completed's accepted amounts: 0, 1e12 and -0, in won (no currency given).
    assert_eq!(revenue, json!([{ "currency": "KRW", "amount": 1e12 }]));
}

#[test]
fn a_database_holding_out_of_range_numbers_from_before_is_repaired_by_its_migration() {
    // A database as release 0010 left it, written by the old ingest path (no range checks).
    let old = Sqlite::migrated_through("0010");
    let row =
        |id: &str, event_type: &str, props: Value| old_row(id, "2026-03-10T12:00:00.000Z", event_type, None, props);
    store_unchecked(
        &old,
        &[
            row("fine", "purchase_completed", json!({"amount": 4200, "currency": "KRW"})),
            row(
                "huge-1",
                "purchase_completed",
                json!({"amount": 1e308, "currency": "KRW"}),
            ),
            row(
                "huge-2",
                "purchase_completed",
                json!({"amount": 1e308, "currency": "KRW"}),
            ),
            row(
                "negative",
                "purchase_completed",
                json!({"amount": -5, "currency": "KRW"}),
            ),
            row("words", "article_generated", json!({"word_count": 2.5})),
            row("ok-words", "article_generated", json!({"word_count": 900})),
            row(
                "scroll",
                "engagement",
                json!({"engagement_type": "scroll", "scroll_depth": 101}),
            ),
            row("undeclared", "app_open", json!({"custom": 1e17})),
        ],
    );
    {
        let conn = old.connection();
        let amount: Option<f64> = conn
            .query_row(
                "SELECT amount FROM event_rollup WHERE event_type = 'purchase_completed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            amount.is_none_or(|a| !a.is_finite()),
            "the old rollup is poisoned: {amount:?}"
        );
    }
    old.migrate_after("0010");

    let conn = old.connection();
    let kept: Vec<String> = conn
        .prepare("SELECT event_id FROM funnel_events ORDER BY event_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept, ["fine", "ok-words"]);
    let quarantined: Vec<(String, String)> = conn
        .prepare("SELECT event_id, errors_json FROM event_quarantine ORDER BY event_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let ids: Vec<&str> = quarantined.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["huge-1", "huge-2", "negative", "scroll", "undeclared", "words"]);
    assert!(quarantined.iter().all(|(_, e)| e.contains("value_out_of_range")));
    let amount: f64 = conn
        .query_row(
            "SELECT TOTAL(amount) FROM event_rollup WHERE event_type = 'purchase_completed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(amount, 4200.0, "the hour's sum is recounted from the rows that stay");
    drop(conn);

    // And the reads answer again, with the right totals.
    let s = Service::new();
    let app = funnel::api::App {
        store: SqlStore::new(old),
        config: s.app.config.clone(),
        now: s.app.now,
        spool: None,
        limiter: None,
        archive: None,
    };
    let s = Service {
        app,
        queue: None,
        archive: Default::default(),
    };
    let overview = s.get("/api/overview");
    assert_eq!(
        (overview.status, overview.body["revenue"][0].clone()),
        (200, json!({ "currency": "KRW", "amount": 4200.0 }))
    );
    let summary = s.get("/internal/funnel-events/summary");
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    assert_eq!(summary.body["totals"]["purchase_completed"], 1);
}
