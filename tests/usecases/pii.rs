//! No raw PII in any stored field: every free-text value is scrubbed before
//! it is stored or quarantined, and the sweep treats rows stored before.

use serde_json::json;

use super::harness::{old_row, store_unchecked, Service};
use funnel::api::Method;
use funnel::storage::sql;

/// One sample of every kind the scrubber knows, and the part of it that must never be stored.
pub const PII: &[(&str, &str)] = &[
    ("OTP check failed for park.jiwoo@example.co.kr", "park.jiwoo@"),
    ("card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    ("card 4111111111111111 declined", "4111111111111111"),
    ("call 010-1234-5678 back", "010-1234-5678"),
    ("rrn 900101-1234568 given", "900101-1234568"),
    ("Authorization: Bearer abcdEFGH1234ijklMNOP", "abcdEFGH1234ijklMNOP"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "stripe key sk_live_51HxYzABCdef0123456789 leaked",
        "sk_live_51HxYzABCdef0123456789",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial0123\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAsecretkeymaterial0123",
    ),
    ("db https://bob:hunter2secretpw@db.example.com/x", "hunter2secretpw"),
];

/// Every text value of every table, lowercased.
fn dump(s: &Service) -> String {
    let conn = s.db().connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = String::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(rusqlite::types::ValueRef::Text(v)) = r.get_ref(i) {
                    out.push_str(&String::from_utf8_lossy(v));
                    out.push('\n');
                }
            }
        }
    }
    out.to_lowercase()
}

fn assert_no_pii(s: &Service) {
    let stored = dump(s);
    for (_, needle) in PII {
        assert!(!stored.contains(&needle.to_lowercase()), "{needle:?} is stored");
    }
    for secret in ["correct-horse-battery", "kim.minji@corp.kr", "4012888888881881"] {
        assert!(!stored.contains(secret), "{secret:?} is stored");
    }
}

#[test]
fn every_kind_of_pii_in_every_free_text_field_is_replaced_before_it_is_stored() {
    let s = Service::new();
    let mut events = Vec::new();
    for (i, (text, _)) in PII.iter().enumerate() {
        events.push(json!({
            "event_type": "app_open", "event_id": format!("pii-{i}"),
            "error_message": text,
            "properties": { "note": text, "nested": { "list": ["fine", text] }, "password": "correct-horse-battery",
                "cardnum": 4012888888881881u64 },
        }));
    }
    // An address used as a user id, and a rejected event (unknown type) carrying PII into the quarantine.
    events.push(json!({ "event_type": "app_open", "event_id": "pii-user", "user_id": "kim.minji@corp.kr" }));
    events.push(
        json!({ "event_type": "no_such_type", "event_id": "pii-q", "error_message": PII[0].0,
        "properties": { "memo": PII[1].0 }, "user_id": "kim.minji@corp.kr" }),
    );
    let answer = s.ingest(json!(events));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    for r in &results[..PII.len()] {
        assert_eq!(r["status"], "accepted");
        let paths: Vec<&str> = r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["code"] == "pii_redacted")
            .map(|w| w["field"].as_str().unwrap())
            .collect();
        for path in [
            "error_message",
            "properties.note",
            "properties.nested.list[1]",
            "properties.password",
        ] {
            assert!(paths.contains(&path), "{path} missing in {paths:?}");
        }
    }
    assert!(
        !answer.body.to_string().contains("park.jiwoo@"),
        "warnings never carry the value"
    );
    assert_no_pii(&s);
    // What is stored instead: typed placeholders, and a stable pseudonym for the identifier.
    let stored = s.list_all("");
    let first = stored.iter().find(|e| e["event_id"] == "pii-0").unwrap();
    assert_eq!(first["error_message"], "OTP check failed for [email:example.co.kr]");
    assert_eq!(first["properties"]["password"], "[secret]");
    let user = stored.iter().find(|e| e["event_id"] == "pii-user").unwrap();
    assert!(user["user_id"].as_str().unwrap().starts_with("pii_"));
    let again =
        s.ingest(json!([{ "event_type": "app_open", "event_id": "pii-user-2", "user_id": "kim.minji@corp.kr" }]));
    assert_eq!(again.body["results"][0]["status"], "accepted");
    let same = s
        .list_all("")
        .into_iter()
        .filter(|e| e["user_id"] == user["user_id"])
        .count();
    assert_eq!(same, 2, "the same address always maps to the same pseudonym");
}

#[test]
fn the_sweep_scrubs_rows_stored_before_scrubbing_and_leaves_every_count_alone() {
    let s = Service::new();
    // Rows written by the old path: raw PII in error_message, properties and a quarantined copy.
    let rows: Vec<_> = PII
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            let props = json!({ "note": text, "password": "correct-horse-battery" });
            old_row(
                &format!("old-{i}"),
                "2026-03-10T11:00:00.000Z",
                "app_open",
                Some(text),
                props,
            )
        })
        .collect();
    store_unchecked(s.db(), &rows);
    let copy = json!([{ "received_at": "2026-03-10T11:00:00.000Z", "source": "cp", "event_type": "x",
        "event_id": "old-q", "header_trace_id": null, "clock_skew_ms": 0,
        "errors_json": "[]", "event_json": json!({ "error_message": PII[0].0, "memo": PII[3].0 }).to_string() }]);
    {
        let conn = s.db().connection();
        conn.execute(sql::INSERT_QUARANTINE, [copy.to_string()]).unwrap();
    }
    assert!(dump(&s).contains("park.jiwoo@"), "the old rows hold raw PII");
    let before = s.get("/internal/funnel-events/summary").body;
    let key = format!("Bearer {}", super::harness::KEY);
    let mut steps = 0;
    loop {
        let step = s.send(Method::Post, "/internal/pii-sweep", &[("authorization", &key)], b"");
        assert_eq!(step.status, 200, "{:?}", step.body);
        steps += 1;
        if step.body["done"] == true {
            break;
        }
        assert!(steps < 10);
    }
    assert_no_pii(&s);
    assert_eq!(
        s.get("/internal/funnel-events/summary").body["totals"],
        before["totals"]
    );
    // A second sweep finds nothing left to do.
    let again = s.send(Method::Post, "/internal/pii-sweep", &[("authorization", &key)], b"");
    assert_eq!(
        (again.body["examined"].clone(), again.body["done"].clone()),
        (json!(0), json!(true))
    );
}
