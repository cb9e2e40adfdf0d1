//! The read routes over data ingested through the API, checked against one another.

use serde_json::{json, Value};

use super::harness::{config, Service, KEY};
use funnel::api::Method;

fn seed(s: &Service) {
    let mut events = Vec::new();
    for i in 0..12 {
        let trace = format!("trace_{}", i % 3);
        events.push(
            json!({ "event_type": "m_auth_login_start", "event_id": format!("s-{i}"),
            "email": format!("user{i}@example.com"), "trace_id": trace }),
        );
        if i % 2 == 0 {
            events.push(json!({ "event_type": "m_auth_login_fail", "event_id": format!("f-{i}"),
                "email": format!("user{i}@example.com"), "trace_id": trace, "error_code": "otp_expired" }));
        }
    }
    for (i, amount) in [1000, 2500, 400].iter().enumerate() {
        events.push(
            json!({ "event_type": "purchase_completed", "event_id": format!("p-{i}"),
            "user_id": format!("buyer{i}"), "properties": { "amount": amount, "currency": "KRW" } }),
        );
    }
    let answer = s.ingest(json!(events));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

/// Purchases in four currencies, one without a currency (won, the default).
fn seed_foreign_purchases(s: &Service) {
    let events: Vec<Value> = [
        (Some("USD"), 19.99),
        (Some("USD"), 5.01),
        (Some("EUR"), 12.5),
        (Some("JPY"), 3000.0),
        (None, 600.0),
    ]
    .iter()
    .enumerate()
    .map(|(i, (currency, amount))| {
        let mut properties = json!({ "amount": amount });
        if let Some(c) = currency {
            properties["currency"] = json!(c);
        }
        json!({ "event_type": "purchase_completed", "event_id": format!("fx-{i}"),
                "user_id": format!("abroad{i}"), "properties": properties })
    })
    .collect();
    let answer = s.ingest(json!(events));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[test]
fn unknown_paths_are_404_and_known_paths_with_another_method_are_405_problems() {
    let s = Service::new();
    let missing = s.get("/internal/nothing-here");
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    let wrong = s.send(Method::Delete, "/internal/catalog", &[], b"");
    assert_eq!((wrong.status, wrong.code()), (405, "method_not_allowed"));
    assert_eq!(wrong.reply.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn health_answers_without_a_key_and_503_when_the_database_is_down() {
    let s = Service::new();
    let ok = s.send(Method::Get, "/api/health", &[], b"");
    assert_eq!((ok.status, ok.body["db"].clone()), (200, json!("ok")));
    s.db().fail_next(1);
    let down = s.send(Method::Get, "/api/health", &[], b"");
    assert_eq!((down.status, down.code()), (503, "storage_unavailable"));
    let detail = down.body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("stored"),
        "a read does not talk about storing: {detail}"
    );
    assert_eq!(down.reply.header("retry-after"), Some("5"));
}

#[test]
fn the_bench_routes_exist_only_when_enabled_and_called_on_loopback() {
    let off = Service::new();
    let answer = off.send_to(Method::Post, "/bench/discard", &[], b"{}", "127.0.0.1");
    assert_eq!(answer.status, 404);
    let on = Service::with_config(config(&[("BENCH_ROUTES", "1")]));
    let remote = on.send_to(Method::Post, "/bench/floor", &[], b"[]", "funnel.example");
    assert_eq!(remote.status, 404);
    let local = on.send_to(Method::Post, "/bench/floor", &[], b"[]", "127.0.0.1");
    assert_eq!((local.status, local.body["inserted"].clone()), (200, json!(0)));
}

#[test]
fn the_summary_counts_what_the_list_returns_for_every_type() {
    let s = Service::new();
    seed(&s);
    let summary = s.get("/internal/funnel-events/summary?tz=Asia/Seoul");
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    for (event_type, n) in summary.body["totals"].as_object().unwrap() {
        let listed = s.list_all(&format!("type={event_type}&tz=Asia/Seoul")).len();
        assert_eq!(n.as_i64().unwrap() as usize, listed, "{event_type}");
    }
    assert_eq!(summary.body["totals"]["m_auth_login_start"], 12);
    assert_eq!(summary.body["daily"].as_array().unwrap().len(), 14);
}

#[test]
fn the_overview_sums_revenue_and_shows_the_newest_events() {
    let s = Service::new();
    seed(&s);
    let o = s.get("/api/overview");
    assert_eq!(o.status, 200, "{:?}", o.body);
    assert_eq!(o.body["revenue"], json!([{ "currency": "KRW", "amount": 3900.0 }]));
    assert_eq!(o.body["totals"]["events"], 21);
    assert_eq!(o.body["recent"].as_array().unwrap().len(), 20);
    let presstuner = o.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "presstuner")
        .cloned()
        .unwrap();
    assert_eq!(presstuner["revenue"], json!([{ "currency": "KRW", "amount": 3900.0 }]));
}

#[test]
fn revenue_answers_one_sum_per_currency_won_first_in_the_overview_and_the_summary() {
    let s = Service::new();
    seed(&s);
    seed_foreign_purchases(&s);
    let expected = json!([
        { "currency": "KRW", "amount": 4500.0 },
        { "currency": "EUR", "amount": 12.5 },
        { "currency": "JPY", "amount": 3000.0 },
        { "currency": "USD", "amount": 25.0 },
    ]);
    let o = s.get("/api/overview");
    assert_eq!(o.status, 200, "{:?}", o.body);
    assert_eq!(o.body["revenue"], expected);
    let presstuner = o.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "presstuner")
        .cloned()
        .unwrap();
    assert_eq!(presstuner["revenue"], expected);
    let pregoi = o.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "pregoi")
        .cloned();
    assert_eq!(
        pregoi.unwrap()["revenue"],
        json!([{ "currency": "KRW", "amount": 0.0 }])
    );
    assert!(o.body.get("revenue_krw").is_none(), "no unconverted sum");

    // The summary's revenue KPI: over whole hours (the rollup) and over partial hours only (the rows).
    for target in [
        "/internal/funnel-events/summary",
        "/internal/funnel-events/summary?from=2026-03-10T11:30:00Z&to=2026-03-10T12:30:00Z",
    ] {
        let summary = s.get(target);
        assert_eq!(summary.status, 200, "{:?}", summary.body);
        let kpi = &summary.body["kpis"]["presstuner_revenue"];
        assert_eq!(
            (kpi["unit"].clone(), kpi["value"].clone()),
            (json!("money"), expected.clone()),
            "{target}"
        );
    }
    // A range without purchases: won at zero, nothing else.
    let empty = s.get("/internal/funnel-events/summary?from=2026-01-01&to=2026-01-02");
    assert_eq!(
        empty.body["kpis"]["presstuner_revenue"]["value"],
        json!([{ "currency": "KRW", "amount": 0.0 }])
    );
}

#[test]
fn the_overview_counts_each_services_failures_and_names_its_failing_types() {
    let s = Service::new();
    seed(&s);
    let o = s.get("/api/overview");
    assert_eq!(o.status, 200, "{:?}", o.body);
    let service_of = |name: &str| {
        o.body["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service"] == name)
            .cloned()
            .unwrap()
    };
    let failing_service = funnel::catalog::find("m_auth_login_fail").unwrap().service;
    let auth = service_of(failing_service);
    // Six failed logins (a `_fail` type with an error code); the twelve starts did not fail.
    assert_eq!(auth["failures"], 6);
    assert_eq!(
        auth["failing_types"],
        json!([{ "event_type": "m_auth_login_fail", "count": 6 }])
    );
    let buyer_service = funnel::catalog::find("purchase_completed").unwrap().service;
    if buyer_service != failing_service {
        assert_eq!(service_of(buyer_service)["failures"], 0);
        assert_eq!(service_of(buyer_service)["failing_types"], json!([]));
    }
}

#[test]
fn the_summary_lists_its_kpis_in_the_catalogs_declared_order() {
    let s = Service::new();
    seed(&s);
    let answer = s.get("/internal/funnel-events/summary");
    let funnel::api::reply::Body::Bytes(raw) = &answer.reply.body else {
        panic!("a JSON body")
    };
    let text = std::str::from_utf8(raw).unwrap();
    let kpis = &text[text.find("\"kpis\"").unwrap()..];
    let positions: Vec<usize> = funnel::catalog::kpis::KPIS
        .iter()
        .map(|k| {
            kpis.find(&format!("\"{}\":", k.id))
                .unwrap_or_else(|| panic!("{} listed", k.id))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "members follow KPIS: {positions:?}"
    );
}

#[test]
fn the_summary_buckets_a_day_by_hour_with_the_same_counts_and_refuses_long_or_unknown_buckets() {
    let s = Service::new();
    seed(&s);
    // The day the seed landed on (the harness's clock), by day and by hour: the
    // same totals and KPIs; 24 hourly buckets keyed by their UTC start.
    let fortnight = s.get("/internal/funnel-events/summary");
    let day = fortnight.body["daily"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["counts"]["m_auth_login_start"].as_i64() > Some(0))
        .expect("the seed is in the default range")["date"]
        .as_str()
        .unwrap()
        .to_string();
    let next = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap();
    let q = format!("from={day}&to={next}");
    let daily = s.get(&format!("/internal/funnel-events/summary?{q}"));
    let hourly = s.get(&format!("/internal/funnel-events/summary?{q}&bucket=hour"));
    assert_eq!((daily.status, hourly.status), (200, 200), "{:?}", hourly.body);
    let hours = hourly.body["daily"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(
        hours[0]["date"], daily.body["from"],
        "the first hour starts at the range's start"
    );
    assert_eq!(hourly.body["totals"], daily.body["totals"]);
    assert_eq!(hourly.body["kpis"], daily.body["kpis"]);
    let summed: i64 = hours
        .iter()
        .map(|h| h["counts"]["m_auth_login_start"].as_i64().unwrap())
        .sum();
    assert_eq!(summed, 12, "every event falls in one hour");
    let long = s.get("/internal/funnel-events/summary?from=2026-03-01&to=2026-03-09&bucket=hour");
    assert_eq!(
        (long.status, long.code(), long.body["param"].as_str()),
        (400, "range_too_long", Some("bucket"))
    );
    let week = s.get("/internal/funnel-events/summary?from=2026-03-01&to=2026-03-08&bucket=hour");
    assert_eq!(week.body["daily"].as_array().unwrap().len(), 7 * 24);
    let unknown = s.get("/internal/funnel-events/summary?bucket=minute");
    assert_eq!((unknown.status, unknown.code()), (400, "invalid_bucket"));
    assert_eq!(
        s.get("/internal/funnel-events/summary?bucket=day").body["daily"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
}

#[test]
fn a_search_by_address_answers_the_fingerprint_it_matched_and_nothing_else_does() {
    let s = Service::new();
    seed(&s);
    let by_address = s.get("/internal/funnel-events?q_email=User2%40Example.com");
    assert_eq!(by_address.status, 200, "{:?}", by_address.body);
    let fp = by_address.body["email_fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fp.len(), 64);
    assert!(
        !by_address.body.to_string().contains("user2@example.com"),
        "the address is not echoed"
    );
    let by_fingerprint = s.get(&format!("/internal/funnel-events?email_fingerprint={fp}"));
    assert_eq!(
        by_fingerprint.body["events"], by_address.body["events"],
        "the fingerprint finds the same events"
    );
    assert_eq!(by_fingerprint.body["email_fingerprint"], Value::Null);
    assert_eq!(
        s.get("/internal/funnel-events?q_email=%40example.com").body["email_fingerprint"],
        Value::Null
    );
}

#[test]
fn a_trace_is_its_events_oldest_first_with_its_failures() {
    let s = Service::new();
    seed(&s);
    let t = s.get("/internal/trace/trace_0");
    assert_eq!(t.status, 200, "{:?}", t.body);
    let events = t.body["events"].as_array().unwrap();
    assert_eq!(events.len(), s.list_all("trace_id=trace_0").len());
    assert_eq!(t.body["failures"].as_array().unwrap().len(), 2);
    let bad = s.get("/internal/trace/nope");
    assert_eq!((bad.status, bad.code()), (400, "invalid_trace_id"));
}

#[test]
fn a_funnel_counts_subjects_per_step_and_an_unknown_one_is_a_400() {
    let s = Service::new();
    seed(&s);
    let f = s.get("/internal/funnels/auth_commerce");
    assert_eq!(f.status, 200, "{:?}", f.body);
    assert_eq!(f.body["funnel"]["steps"][0]["count"], 3, "three traces started a login");
    let unknown = s.get("/internal/funnels/nope");
    assert_eq!((unknown.status, unknown.code()), (400, "unknown_funnel"));
    let list = s.get("/internal/funnels");
    assert!(!list.body["funnels"].as_array().unwrap().is_empty());
}

#[test]
fn the_catalog_counts_stored_and_rejected_events_per_type() {
    let s = Service::new();
    seed(&s);
    s.ingest(json!([{ "event_type": "no_such_type", "event_id": "u-1" }]));
    let c = s.get("/internal/catalog");
    assert_eq!(c.status, 200, "{:?}", c.body);
    let start = c.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "m_auth_login_start")
        .cloned()
        .unwrap();
    assert_eq!(start["count"], 12);
    assert_eq!(
        c.body["unknown_rejections"],
        json!([{ "event_type": "no_such_type", "count": 1 }])
    );
}

#[test]
fn the_export_streams_every_event_of_the_filter_exactly_once() {
    let s = Service::new();
    let events: Vec<Value> = (0..1203)
        .map(|i| json!({ "event_type": "m_otp_send", "event_id": format!("o-{i}") }))
        .collect();
    for chunk in events.chunks(500) {
        assert_eq!(s.ingest(json!(chunk)).status, 200);
    }
    let answer = s.get("/internal/funnel-events/export?type=m_otp_send");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.reply.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = s.drain_export(answer);
    let mut ids: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(6).unwrap()).collect();
    assert_eq!(ids.len(), 1203);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1203, "no event twice");
}

#[test]
fn a_row_that_cannot_be_decoded_is_a_500_not_an_outage() {
    let s = Service::new();
    seed(&s);
    // An overflowed sum: SQLite hands back infinity, which JSON (and so D1) carries as null.
    for rollup in ["event_rollup", "event_day_rollup"] {
        s.db()
            .connection()
            .execute(
                &format!("UPDATE {rollup} SET amount = 1e308 * 10 WHERE event_type = 'purchase_completed'"),
                [],
            )
            .unwrap();
    }
    let answer = s.get("/internal/funnel-events/summary");
    assert_eq!((answer.status, answer.code()), (500, "internal_error"));
    assert!(
        !answer.body["detail"].as_str().unwrap().contains("f64"),
        "internal detail is not sent"
    );
    let _ = KEY;
}

#[test]
fn support_filters_find_one_users_one_jobs_and_one_sessions_events() {
    let s = Service::new();
    s.ingest(json!([
        { "event_type": "app_open", "event_id": "a", "user_id": "u-1", "session_id": "s-1" },
        { "event_type": "app_open", "event_id": "b", "user_id": "u-2", "session_id": "s-1" },
        { "event_type": "m_provision_job_created", "event_id": "c", "job_id": "job-9", "trace_id": "trace_j" },
        { "event_type": "m_provision_failed", "event_id": "d", "job_id": "job-9", "properties": { "failure_stage": "dns" } },
        { "event_type": "app_open", "event_id": "e", "user_id": "u-1" },
    ]));
    let ids = |query: &str| -> Vec<String> {
        s.list_all(query)
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("user_id=u-1"), ["e", "a"]);
    assert_eq!(ids("job_id=job-9"), ["d", "c"]);
    assert_eq!(ids("session_id=s-1"), ["b", "a"]);
    assert_eq!(ids("user_id=u-1&session_id=s-1"), ["a"]);
    let too_long = s.get(&format!("/internal/funnel-events?user_id={}", "x".repeat(129)));
    assert_eq!((too_long.status, too_long.code()), (400, "parameter_too_long"));
}

#[test]
fn a_rejected_login_is_found_in_the_quarantine_by_address_and_by_trace() {
    let s = Service::new();
    s.ingest(json!([
        // Refused: a login failure needs an error code.
        { "event_type": "m_auth_login_fail", "event_id": "r-1", "email": "kim@example.com", "trace_id": "trace_r1" },
        { "event_type": "m_auth_login_fail", "event_id": "r-2", "email": "lee@example.com", "trace_id": "trace_r2" },
    ]));
    let ids = |query: &str| -> Vec<String> {
        let page = s.get(&format!("/internal/quarantine?{query}"));
        assert_eq!(page.status, 200, "{:?}", page.body);
        page.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("q_email=KIM%40example.com"), ["r-1"]);
    assert_eq!(ids("trace_id=trace_r2"), ["r-2"]);
    assert_eq!(ids("q_email=%40example.com").len(), 2);
    assert_eq!(ids("type=m_auth_login_fail&trace_id=trace_r1"), ["r-1"]);
    let bad = s.get("/internal/quarantine?trace_id=nope");
    assert_eq!((bad.status, bad.code()), (400, "invalid_trace_id"));
}

#[test]
fn the_summary_gives_each_ratio_kpi_per_day_with_null_on_days_without_a_denominator() {
    let mut s = Service::new();
    let otp = |id: String, ok: bool| json!({ "event_type": "m_otp_send_result", "event_id": id, "email": "a@example.com", "success": ok });
    let mut at = |day: u32, events: Vec<Value>| {
        s.app.now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, day, 9, 30, 0).unwrap();
        let answer = s.ingest(json!(events));
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    };
    at(8, (0..4).map(|i| otp(format!("d8-{i}"), i != 0)).collect());
    at(10, (0..2).map(|i| otp(format!("d10-{i}"), false)).collect());
    let summary = s.get("/internal/funnel-events/summary?from=2026-03-08&to=2026-03-11");
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    let series = summary.body["daily_rates"]["pregoi_otp_failure_rate"]
        .as_array()
        .unwrap()
        .clone();
    let got: Vec<Value> = series
        .iter()
        .map(|d| json!([d["date"], d["numerator"], d["denominator"], d["value"]]))
        .collect();
    assert_eq!(
        got,
        [
            json!(["2026-03-08", 1, 4, 0.25]),
            json!(["2026-03-09", 0, 0, null]),
            json!(["2026-03-10", 2, 2, 1.0])
        ]
    );
    // Each day's denominator is what the list returns for that day.
    for d in &series {
        let date = d["date"].as_str().unwrap();
        let next = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .succ_opt()
            .unwrap();
        let listed = s
            .list_all(&format!("type=m_otp_send_result&from={date}&to={next}"))
            .len();
        assert_eq!(d["denominator"], json!(listed), "{date}");
    }
    // Every ratio KPI of the catalog has a series over the same days as `daily`.
    let ratio_ids: Vec<&String> = summary.body["kpis"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, k)| k["unit"] == "ratio")
        .map(|(id, _)| id)
        .collect();
    let rates = summary.body["daily_rates"].as_object().unwrap();
    assert_eq!(rates.keys().collect::<Vec<_>>(), ratio_ids);
    assert!(rates.values().all(|r| r.as_array().unwrap().len() == 3));
    assert_eq!(
        rates["pregoi_checkout_completion_rate"][0]["value"],
        Value::Null,
        "zero-safe"
    );
}

#[test]
fn a_type_named_as_a_failure_is_listed_under_success_false_and_never_under_true() {
    let s = Service::new();
    let answer = s.ingest(json!([
        { "event_type": "m_auth_login_fail", "event_id": "f-none", "email": "a@example.com", "error_code": "otp_expired" },
        { "event_type": "m_auth_login_fail", "event_id": "f-true", "email": "b@example.com", "error_code": "x", "success": true },
        { "event_type": "m_provision_failed", "event_id": "p-none", "job_id": "job_1", "properties": { "failure_stage": "dns" } },
        { "event_type": "m_otp_send_result", "event_id": "o-false", "email": "c@example.com", "success": false },
        { "event_type": "m_otp_send_result", "event_id": "o-true", "email": "d@example.com", "success": true },
    ]));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let ids = |query: &str| {
        let mut ids: Vec<String> = s
            .list_all(query)
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids("success=false"), ["f-none", "f-true", "o-false", "p-none"]);
    assert_eq!(ids("success=true"), ["o-true"]);
    assert_eq!(ids("success=0&type=m_auth_login_fail"), ["f-none", "f-true"]);
    // The trace's failures and the filter agree on what a failure is.
    let export = s.get("/internal/funnel-events/export?format=csv&success=false");
    let csv = s.drain_export(export);
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
}

#[test]
fn get_user_takes_the_user_id_from_its_payload_as_the_control_plane_sends_it() {
    let s = Service::new();
    let answer = s.ingest(json!([
        { "event_type": "m_auth_get_user", "event_id": "g1", "trace_id": "trace_get_user", "properties": { "user_id": "user_42" } },
        { "event_type": "m_auth_get_user", "event_id": "g2", "trace_id": "trace_get_user", "user_id": "user_42", "properties": { "user_id": "user_43" } },
        { "event_type": "m_auth_get_user", "event_id": "g3", "trace_id": "trace_get_user" },
    ]));
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "accepted", "{:?}", answer.body);
    assert_eq!(
        (results[1]["status"].clone(), results[1]["errors"][0]["code"].clone()),
        (json!("rejected"), json!("conflicting_fields"))
    );
    assert_eq!(
        (results[2]["status"].clone(), results[2]["errors"][0]["field"].clone()),
        (json!("rejected"), json!("user_id"))
    );
    let found = s.list_all("user_id=user_42");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["event_id"], "g1");
    assert!(
        found[0]["properties"].get("user_id").is_none(),
        "stored once, as the column"
    );
}

#[test]
fn a_funnel_splits_by_email_domain_or_a_declared_property_and_the_groups_add_up() {
    let s = Service::new();
    let mut events = Vec::new();
    // 14 domains: d0 has 14 traces, d1 13, ... d13 1; every even trace goes on to log in and click Pay.
    for d in 0..14 {
        for i in 0..(14 - d) {
            let trace = format!("trace_d{d}_{i}");
            let email = format!("user{i}@d{d}.example");
            events.push(json!({ "event_type": "m_auth_login_start", "event_id": format!("{trace}-s"), "email": email, "trace_id": trace }));
            if i % 2 == 0 {
                events.push(json!({ "event_type": "m_auth_login_success", "event_id": format!("{trace}-ok"), "email": email, "trace_id": trace }));
                let tier = if d % 2 == 0 { "pro" } else { "team" };
                events.push(
                    json!({ "event_type": "m_checkout_click", "event_id": format!("{trace}-pay"), "trace_id": trace,
                                    "properties": { "plan_tier": tier } }),
                );
            }
        }
    }
    for chunk in events.chunks(400) {
        assert_eq!(s.ingest(json!(chunk)).status, 200);
    }
    let whole = s.get("/internal/funnels/auth_commerce");
    let by_domain = s.get("/internal/funnels/auth_commerce?by=email_domain");
    assert_eq!(by_domain.status, 200, "{:?}", by_domain.body);
    assert_eq!(
        by_domain.body["funnel"], whole.body["funnel"],
        "the funnel itself is unchanged"
    );
    let b = &by_domain.body["breakdown"];
    assert_eq!(b["by"], "email_domain");
    let groups = b["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 11, "ten domains and other");
    assert_eq!(
        (groups[0]["value"].clone(), groups[0]["subjects"].clone()),
        (json!("d0.example"), json!(14))
    );
    assert_eq!(groups[0]["steps"][1]["count"], 7);
    let other = &groups[10];
    assert_eq!(
        (other["other"].clone(), other["subjects"].clone()),
        (json!(true), json!(4 + 3 + 2 + 1))
    );
    for step in 0..3 {
        let sum: i64 = groups.iter().map(|g| g["steps"][step]["count"].as_i64().unwrap()).sum();
        assert_eq!(json!(sum), whole.body["funnel"]["steps"][step]["count"], "step {step}");
    }
    // A declared property of a later step: subjects that never clicked Pay have none.
    let by_tier = s.get("/internal/funnels/auth_commerce?by=plan_tier");
    let tiers: Vec<(Value, Value)> = by_tier.body["breakdown"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["value"].clone(), g["steps"][2]["count"].clone()))
        .collect();
    assert_eq!(tiers.len(), 3, "{tiers:?}");
    assert_eq!(tiers[2], (Value::Null, json!(0)), "no plan: never reached Pay");
    for by in ["source", "tenant_id"] {
        assert_eq!(
            s.get(&format!("/internal/funnels/auth_commerce?by={by}")).status,
            200,
            "{by}"
        );
    }
    let bad = s.get("/internal/funnels/auth_commerce?by=amount");
    assert_eq!((bad.status, bad.code()), (400, "invalid_breakdown"));
    assert_eq!(bad.body["param"], "by");
}

#[test]
fn feed_and_trace_rows_carry_drill_down_links_to_stripe_and_the_control_plane() {
    let s = Service::with_config(config(&[("CONTROL_PLANE_URL", "https://cp.example/")]));
    let answer = s.ingest(json!([
        { "event_type": "m_checkout_session_created", "event_id": "cs", "trace_id": "trace_pay", "tenant_id": "acme/1",
          "properties": { "stripe_session_id": "cs_live_a1", "plan_tier": "pro" } },
        { "event_type": "m_checkout_click", "event_id": "click", "trace_id": "trace_pay", "properties": { "plan_tier": "pro" } },
    ]));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let expected = json!([
        { "kind": "stripe_checkout_session", "url": "https://dashboard.stripe.com/checkout/sessions/cs_live_a1", "mode": "live" },
        { "kind": "tenant_onboarding", "url": "https://cp.example/cp/onboarding?tenant_id=acme%2F1" },
    ]);
    let trace = s.get("/internal/trace/trace_pay");
    let by_id = |events: &Value, id: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&trace.body["events"], "cs")["links"], expected);
    assert_eq!(by_id(&trace.body["events"], "click")["links"], json!([]));
    let list = s.get("/internal/funnel-events?trace_id=trace_pay");
    assert_eq!(by_id(&list.body["events"], "cs")["links"], expected);
    let overview = s.get("/api/overview");
    assert_eq!(by_id(&overview.body["recent"], "cs")["links"], expected);
    // Without a control plane configured: the Stripe link only.
    let plain = Service::new();
    plain.ingest(
        json!([{ "event_type": "m_checkout_session_created", "event_id": "cs", "trace_id": "trace_pay",
                          "tenant_id": "acme", "properties": { "stripe_session_id": "cs_test_b2" } }]),
    );
    let links = plain.get("/internal/trace/trace_pay").body["events"][0]["links"].clone();
    assert_eq!(
        links,
        json!([{ "kind": "stripe_checkout_session", "url": "https://dashboard.stripe.com/test/checkout/sessions/cs_test_b2", "mode": "test" }])
    );
}

#[test]
fn the_overview_timeline_goes_by_hour_for_a_console_day_and_refuses_hours_over_a_week() {
    let s = Service::new();
    seed(&s);
    let day = s.get("/api/overview?from=2026-03-10&to=2026-03-11&tz=Asia/Seoul&bucket=hour");
    assert_eq!(day.status, 200, "{:?}", day.body);
    let timeline = day.body["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 24, "one bucket per hour of the Seoul day");
    assert_eq!(timeline[0]["date"], "2026-03-09T15:00:00.000Z");
    let hourly: i64 = timeline
        .iter()
        .flat_map(|b| b["counts"].as_object().unwrap().values())
        .map(|n| n.as_i64().unwrap())
        .sum();
    let by_day = s.get("/api/overview?from=2026-03-10&to=2026-03-11&tz=Asia/Seoul");
    assert_eq!(by_day.body["timeline"].as_array().unwrap().len(), 1);
    assert_eq!(
        hourly,
        by_day.body["totals"]["events"].as_i64().unwrap(),
        "the hours add up to the day"
    );
    assert!(hourly > 0);
    // Seven days by hour are allowed, eight are not.
    let week = s.get("/api/overview?from=2026-03-04&to=2026-03-11&tz=Asia/Seoul&bucket=hour");
    assert_eq!(week.status, 200);
    let eight = s.get("/api/overview?from=2026-03-03&to=2026-03-11&tz=Asia/Seoul&bucket=hour");
    assert_eq!((eight.status, eight.code()), (400, "range_too_long"));
    assert_eq!(eight.body["param"], "bucket");
    let weekly = s.get("/api/overview?bucket=week");
    assert_eq!((weekly.status, weekly.code()), (400, "invalid_bucket"));
}

#[test]
fn the_summary_daily_counts_equal_a_recount_by_local_day_in_rollup_zones_and_others() {
    use std::collections::BTreeMap;

    use super::harness::{old_row, store_unchecked};
    // 40 events 3 h 17 min apart from 2026-03-03T00:30Z: every local day of the
    // range gets some, at hours that fall on different local dates by zone.
    let s = Service::new();
    let start = funnel::time::parse_rfc3339("2026-03-03T00:30:00Z").unwrap();
    let types = ["m_otp_send", "m_auth_login_start", "m_auth_login_fail"];
    let events: Vec<(chrono::DateTime<chrono::Utc>, &str)> = (0..40)
        .map(|i| (start + chrono::Duration::minutes(197 * i), types[i as usize % 3]))
        .collect();
    let rows: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, (t, ty))| old_row(&format!("d{i}"), &funnel::time::to_stored(*t), ty, None, json!({})))
        .collect();
    store_unchecked(s.db(), &rows);
    // UTC and Seoul are the day rollup's zones (whole days read from it); Kolkata
    // (+5:30) and New York are not (hours and partial edges from the rows).
    for tz in ["UTC", "Asia/Seoul", "Asia/Kolkata", "America/New_York"] {
        let zone: chrono_tz::Tz = tz.parse().unwrap();
        let mut want: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (t, ty) in &events {
            let date = t.with_timezone(&zone).date_naive().to_string();
            if date.as_str() >= "2026-03-02" && date.as_str() < "2026-03-10" {
                *want.entry(date).or_default().entry(ty.to_string()).or_default() += 1;
            }
        }
        let answer = s.get(&format!(
            "/internal/funnel-events/summary?from=2026-03-02&to=2026-03-10&tz={tz}"
        ));
        assert_eq!(answer.status, 200, "{tz}: {:?}", answer.body);
        let got: BTreeMap<String, BTreeMap<String, i64>> = answer.body["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let counts = d["counts"].as_object().unwrap();
                // Every type is listed each day; the recount holds only those seen.
                let counts = counts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                    .filter(|(_, n)| *n != 0)
                    .collect();
                (d["date"].as_str().unwrap().to_string(), counts)
            })
            .filter(|(_, c): &(String, BTreeMap<String, i64>)| !c.is_empty())
            .collect();
        assert_eq!(got, want, "{tz}");
    }
}
