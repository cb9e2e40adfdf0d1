//! Every read statement, run natively on SQLite with the real migrations:
//! it returns what the filter says (checked against a plain Rust model of the
//! filter on generated rows), pages exactly once through everything, and its
//! query plan searches an index (never a full table scan).

use chrono::{Duration, TimeZone, Utc};
use rusqlite::{params_from_iter, Connection};

use funnel::catalog::kpis::{Column, Measure, Outcome};
use funnel::ingest::normalize::EventRow;
use funnel::query::cursor::Position;
use funnel::query::filter::{EventFilter, LIST_PARAMS};
use funnel::query::params::Params;
use funnel::report::summary::{daily_counts, DailyCount, DailyRollup};
use funnel::security::fingerprint::{fingerprint_email, EmailFilter};
use funnel::storage::{json_chunks, sql, sqlite, Bind, Statement};
use funnel::store::{QuarantineQuery, Span};
use funnel::time::to_stored;

const KEY: &[u8] = b"test-pepper";

fn migrated() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    sqlite::apply_migrations(&conn, &sqlite::migrations_dir(), "", "9999");
    conn
}

fn binds(s: &Statement) -> Vec<rusqlite::types::Value> {
    sqlite::bind_values(s)
}

/// Generated events over 20 days: several types, emails, traces, tenants, outcomes.
fn rows(n: usize) -> Vec<EventRow> {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let types = [
        ("m_auth_login_start", "pregoi"),
        ("m_auth_login_fail", "pregoi"),
        ("m_auth_login_success", "pregoi"),
        ("purchase_completed", "presstuner"),
        ("app_open", "pluid"),
    ];
    (0..n)
        .map(|i| {
            let (event_type, service) = types[i % types.len()];
            let email = format!("user{}@{}", i % 17, if i % 3 == 0 { "example.com" } else { "corp.kr" });
            let fp = fingerprint_email(KEY, &email).unwrap();
            // Several events share a timestamp, so the id tie-break matters.
            let ts = start + Duration::minutes((i / 3) as i64 * 41);
            EventRow {
                ts: to_stored(ts),
                occurred_at: None,
                event_type: event_type.into(),
                service: service.into(),
                source: if i % 4 == 0 { "cp".into() } else { "zuplo".into() },
                event_id: format!("e{i}"),
                trace_id: Some(format!("trace_{}", i % 23)),
                tenant_id: (i % 5 != 0).then(|| format!("tenant_{}", i % 4)),
                job_id: (i % 6 == 0).then(|| format!("job_{}", i % 4)),
                user_id: Some(format!("u{}", i % 11)),
                session_id: Some(format!("s{}", i % 29)),
                anonymous_id: None,
                email_fingerprint: Some(fp.fingerprint),
                email_domain: Some(fp.domain),
                success: Some(u8::from(i % 7 != 0)),
                error_code: (i % 7 == 0).then(|| format!("E{}", i % 3)),
                error_message: None,
                payload_json: (event_type == "purchase_completed")
                    .then(|| format!(r#"{{"amount": {}, "plan": "p{}"}}"#, 1000 * (i % 5 + 1), i % 2)),
                sample_rate: 1.0,
            }
        })
        .collect()
}

fn seeded(n: usize) -> (Connection, Vec<EventRow>) {
    let conn = migrated();
    let rows = rows(n);
    insert(&conn, &rows);
    (conn, rows)
}

/// Stores rows as every write does: mark, insert (skipping stored keys), roll
/// the new rows up, append their sketch parts.
fn insert(conn: &Connection, rows: &[EventRow]) {
    for chunk in json_chunks(rows, 64 * 1024).unwrap() {
        conn.execute(sql::MARK_NEW_ROWS, []).unwrap();
        let mut stmt = conn.prepare(sql::INSERT_EVENTS).unwrap();
        let mut out = stmt.query([chunk]).unwrap();
        while out.next().unwrap().is_some() {}
        for s in sql::ROLL_UP_NEW_ROWS {
            conn.execute(s, []).unwrap();
        }
    }
    let parts = funnel::sketch::distinct::parts(rows.iter().map(Into::into));
    conn.execute(sql::INSERT_SKETCH_PARTS, [serde_json::to_string(&parts).unwrap()])
        .unwrap();
}

fn filter(pairs: &[(&str, &str)]) -> EventFilter {
    let mut all = vec![("from", "2026-03-01"), ("to", "2026-03-25")];
    all.extend_from_slice(pairs);
    let params = Params::parse(all, LIST_PARAMS).unwrap();
    EventFilter::parse(&params, Utc::now(), KEY).unwrap()
}

/// The filter as plain Rust, the model the SQL must agree with.
fn matches(f: &EventFilter, r: &EventRow) -> bool {
    let from = f.range.from_stored();
    let to = f.range.to_stored();
    r.ts >= from
        && r.ts < to
        && (f.types.is_empty() || f.types.contains(&r.event_type))
        && match &f.email {
            Some(EmailFilter::Fingerprint(fp)) => r.email_fingerprint.as_ref() == Some(fp),
            Some(EmailFilter::Domain(d)) => r.email_domain.as_ref() == Some(d),
            None => true,
        }
        && f.trace_id.as_ref().is_none_or(|t| r.trace_id.as_ref() == Some(t))
        && f.tenant_id.as_ref().is_none_or(|t| r.tenant_id.as_ref() == Some(t))
        && f.user_id.as_ref().is_none_or(|u| r.user_id.as_ref() == Some(u))
        && f.job_id.as_ref().is_none_or(|j| r.job_id.as_ref() == Some(j))
        && f.session_id.as_ref().is_none_or(|x| r.session_id.as_ref() == Some(x))
        && f.source.as_ref().is_none_or(|s| &r.source == s)
        && f.error_code.as_ref().is_none_or(|e| r.error_code.as_ref() == Some(e))
        && f.success.is_none_or(|s| {
            // A type named as a failure is one whatever its `success` says.
            let failed = r.success == Some(0) || funnel::catalog::is_failure_type(&r.event_type);
            if s {
                r.success == Some(1) && !failed
            } else {
                failed
            }
        })
}

/// Pages through a filter with the real statement; returns event ids in page order.
fn page_all(conn: &Connection, f: &EventFilter, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<Position> = None;
    loop {
        let s = sql::list_events(f, after.as_ref(), limit);
        let mut stmt = conn.prepare(&s.sql).unwrap();
        let page: Vec<(i64, String, String)> = stmt
            .query_map(params_from_iter(binds(&s)), |r| {
                Ok((r.get("id")?, r.get("ts")?, r.get("event_id")?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let more = page.len() > limit;
        for (_, _, event_id) in page.iter().take(limit) {
            seen.push(event_id.clone());
        }
        if !more {
            return seen;
        }
        let (id, ts, _) = page[limit - 1].clone();
        after = Some(Position { ts, id });
    }
}

fn plan(conn: &Connection, s: &Statement) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", s.sql)).unwrap();
    stmt.query_map(params_from_iter(binds(s)), |r| r.get::<_, String>("detail"))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// No step reads a whole table: every access to an event table is an index search
/// (or a walk of the partial index that holds only the pending quarantine).
fn assert_uses_indexes(conn: &Connection, what: &str, s: &Statement) {
    let plan = plan(conn, s);
    for line in &plan {
        let scans_table = line.starts_with("SCAN")
            && !line.ends_with("USING INDEX idx_event_quarantine_pending")
            && (line.contains("funnel_events") || line.contains("event_quarantine") || line.starts_with("SCAN e"));
        assert!(!scans_table, "{what}: full scan in plan {plan:#?}");
    }
    assert!(
        plan.iter().any(|l| l.contains("USING")),
        "{what}: no index in plan {plan:#?}"
    );
}

fn list_filters() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let fp = fingerprint_email(KEY, "user3@example.com").unwrap().fingerprint;
    vec![
        ("range only", vec![]),
        ("one type", vec![("type", "m_auth_login_fail".into())]),
        (
            "type list",
            vec![("type", "m_auth_login_fail,purchase_completed".into())],
        ),
        ("email", vec![("q_email", "USER3@example.com".into())]),
        ("fingerprint", vec![("email_fingerprint", fp)]),
        ("domain", vec![("q_email", "@corp.kr".into())]),
        ("trace", vec![("trace_id", "trace_5".into())]),
        ("tenant", vec![("tenant_id", "tenant_2".into())]),
        ("user", vec![("user_id", "u3".into())]),
        ("job", vec![("job_id", "job_2".into())]),
        ("session", vec![("session_id", "s7".into())]),
        ("source", vec![("source", "cp".into())]),
        ("failures", vec![("success", "false".into())]),
        ("error code", vec![("error_code", "E1".into())]),
        (
            "everything",
            vec![
                ("type", "m_auth_login_fail".into()),
                ("source", "zuplo".into()),
                ("success", "0".into()),
                ("error_code", "E2".into()),
            ],
        ),
        (
            "narrow range",
            vec![
                ("from", "2026-03-05T10:00:00Z".into()),
                ("to", "2026-03-06T10:00:00Z".into()),
            ],
        ),
    ]
}

fn filter_owned(pairs: &[(&'static str, String)]) -> EventFilter {
    let mut from = "2026-03-01".to_string();
    let mut to = "2026-03-25".to_string();
    let mut rest = Vec::new();
    for (k, v) in pairs {
        match *k {
            "from" => from = v.clone(),
            "to" => to = v.clone(),
            _ => rest.push((*k, v.as_str())),
        }
    }
    let mut all = vec![("from", from.as_str()), ("to", to.as_str())];
    all.extend(rest);
    let params = Params::parse(all, LIST_PARAMS).unwrap();
    EventFilter::parse(&params, Utc::now(), KEY).unwrap()
}

#[test]
fn every_list_filter_returns_exactly_the_matching_rows_newest_first_across_pages() {
    let (conn, rows) = seeded(1500);
    for (name, pairs) in list_filters() {
        let f = filter_owned(&pairs);
        let mut expected: Vec<(String, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| matches(&f, r))
            .map(|(i, r)| (r.ts.clone(), i))
            .collect();
        // Newest first; ties by id (insert order) descending.
        expected.sort_by(|a, b| b.cmp(a));
        let expected: Vec<String> = expected.into_iter().map(|(_, i)| format!("e{i}")).collect();
        assert!(
            !expected.is_empty(),
            "{name}: the generated data should match something"
        );
        // The same rule in Rust, for events read from the archive's objects.
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(f.matches(&r.stored(i as i64 + 1)), matches(&f, r), "{name}: {r:?}");
        }
        for limit in [1, 7, 50, 500] {
            assert_eq!(page_all(&conn, &f, limit), expected, "{name}, limit {limit}");
        }
    }
}

/// The `(ts, id)` of each row `s` returns.
fn positions(conn: &Connection, s: &Statement) -> Vec<Position> {
    conn.prepare(&s.sql)
        .unwrap()
        .query_map(params_from_iter(binds(s)), |r| {
            Ok(Position {
                ts: r.get("ts")?,
                id: r.get("id")?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_export_probe_finds_the_rows_at_its_offset_in_the_lists_order_for_every_filter() {
    let (conn, _) = seeded(600);
    for (name, pairs) in list_filters() {
        let f = filter_owned(&pairs);
        // The whole list's positions, newest first, in pages of 7.
        let mut all = Vec::new();
        let mut after: Option<Position> = None;
        loop {
            let page = positions(&conn, &sql::list_events(&f, after.as_ref(), 7));
            all.extend(page.iter().take(7).cloned());
            if page.len() <= 7 {
                break;
            }
            after = Some(page[6].clone());
        }
        let probe = |after: Option<&Position>, skip: usize| positions(&conn, &sql::event_positions_at(&f, after, skip));
        let n = all.len();
        for skip in [0, 1, n.saturating_sub(2), n.saturating_sub(1), n, n + 1] {
            let want: Vec<Position> = all.iter().skip(skip).take(2).cloned().collect();
            assert_eq!(probe(None, skip), want, "{name}: skip {skip} of {n}");
        }
        // From a cursor: the same rows, counted after it.
        if n > 3 {
            assert_eq!(probe(Some(&all[1]), 0), all[2..4].to_vec(), "{name}: after a cursor");
        }
    }
}

#[test]
fn every_list_query_searches_an_index() {
    let (conn, _) = seeded(300);
    for (name, pairs) in list_filters() {
        let f = filter_owned(&pairs);
        assert_uses_indexes(&conn, name, &sql::list_events(&f, None, 50));
        let after = Position {
            ts: "2026-03-10T00:00:00.000Z".into(),
            id: 100,
        };
        assert_uses_indexes(&conn, name, &sql::list_events(&f, Some(&after), 50));
        // The export's probe for where a request's rows end walks the same index.
        assert_uses_indexes(&conn, name, &sql::event_positions_at(&f, Some(&after), 99_999));
    }
}

#[test]
fn paging_while_events_arrive_returns_every_old_event_exactly_once() {
    let (conn, rows) = seeded(400);
    let f = filter(&[]);
    let mut seen = Vec::new();
    let mut after: Option<Position> = None;
    let mut next_id = rows.len();
    loop {
        let s = sql::list_events(&f, after.as_ref(), 25);
        let page: Vec<(i64, String, String)> = conn
            .prepare(&s.sql)
            .unwrap()
            .query_map(params_from_iter(binds(&s)), |r| {
                Ok((r.get("id")?, r.get("ts")?, r.get("event_id")?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // New events land between pages, some at the very timestamp the cursor is on.
        let cursor_ts = page.last().map(|p| p.1.clone()).unwrap_or_default();
        for ts in [cursor_ts.clone(), "2026-03-24T00:00:00.000Z".to_string()] {
            conn.execute(
                "INSERT INTO funnel_events (ts, event_type, service, source, event_id) VALUES (?, 'app_open', 'pluid', 'cp', ?)",
                [ts, format!("new{next_id}")],
            )
            .unwrap();
            next_id += 1;
        }
        seen.extend(page.iter().take(25).map(|p| p.2.clone()));
        if page.len() <= 25 {
            break;
        }
        after = Some(Position {
            ts: page[24].1.clone(),
            id: page[24].0,
        });
    }
    let old: Vec<&String> = seen.iter().filter(|e| e.starts_with('e')).collect();
    assert_eq!(old.len(), rows.len(), "every event stored before paging began, once");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
}

fn value(conn: &Connection, s: &Statement) -> rusqlite::types::Value {
    conn.query_row(&s.sql, params_from_iter(binds(s)), |r| r.get("value"))
        .unwrap()
}

/// The summary's day rows for a day binding, and the chart's counts made from them.
fn day_rollup(conn: &Connection, s: &Statement) -> (Vec<DailyRollup>, Vec<DailyCount>) {
    let rows: Vec<DailyRollup> = conn
        .prepare(&s.sql)
        .unwrap()
        .query_map(params_from_iter(binds(s)), |r| {
            Ok(DailyRollup {
                day: r.get("day")?,
                key: r.get("key")?,
                outcome: r.get("outcome")?,
                n: r.get("n")?,
                amount: r.get("amount")?,
                sampled: r.get("sampled")?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let counts = daily_counts(&rows);
    (rows, counts)
}

#[test]
fn kpi_measures_count_sum_distinct_and_top_agree_with_the_rows() {
    let (conn, rows) = seeded(700);
    let (from, to) = ("2026-03-02T00:00:00.000Z", "2026-03-12T00:00:00.000Z");
    let in_range: Vec<&EventRow> = rows
        .iter()
        .filter(|r| r.ts.as_str() >= from && r.ts.as_str() < to)
        .collect();
    use rusqlite::types::Value as V;

    let fails = Measure::Count {
        events: &["m_auth_login_fail", "m_auth_login_start"],
        outcome: Outcome::Failure,
    };
    let expected = in_range
        .iter()
        .filter(|r| {
            ["m_auth_login_fail", "m_auth_login_start"].contains(&r.event_type.as_str()) && r.success == Some(0)
        })
        .count() as i64;
    assert!(expected > 0);
    assert_eq!(value(&conn, &sql::measure(&fails, from, to)), V::Integer(expected));

    let revenue = Measure::Sum {
        events: &["purchase_completed"],
        property: "amount",
    };
    let expected: f64 = in_range
        .iter()
        .filter_map(|r| r.payload_json.as_ref())
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(p).unwrap()["amount"]
                .as_f64()
                .unwrap()
        })
        .sum();
    assert!(expected > 0.0);
    assert_eq!(value(&conn, &sql::measure(&revenue, from, to)), V::Real(expected));

    let users = Measure::Distinct {
        events: &[],
        column: Column::UserId,
    };
    let mut ids: Vec<_> = in_range.iter().filter_map(|r| r.user_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        value(&conn, &sql::measure(&users, from, to)),
        V::Integer(ids.len() as i64)
    );

    let top = Measure::Top {
        events: &["purchase_completed"],
        property: "plan",
    };
    let p0 = in_range
        .iter()
        .filter(|r| r.payload_json.as_deref().is_some_and(|p| p.contains("\"p0\"")))
        .count();
    let p1 = in_range
        .iter()
        .filter(|r| r.payload_json.as_deref().is_some_and(|p| p.contains("\"p1\"")))
        .count();
    let winner = if p1 > p0 { "p1" } else { "p0" };
    assert_eq!(value(&conn, &sql::measure(&top, from, to)), V::Text(winner.into()));

    for (name, m) in [("count", fails), ("sum", revenue), ("top", top)] {
        assert_uses_indexes(&conn, name, &sql::measure(&m, from, to));
    }
    assert_uses_indexes(&conn, "distinct over all types", &sql::measure(&users, from, to));
}

#[test]
fn daily_counts_follow_the_given_day_boundaries_and_use_the_time_index() {
    let (conn, rows) = seeded(500);
    // Seoul days: whole hours from the rollup; one raw edge to exercise the second path.
    // The third day is read whole from the day rollup of Seoul (+540 minutes).
    let rollup = serde_json::json!([
        ["2026-03-02", "2026-03-01T15", "2026-03-02T15"],
        ["2026-03-03", "2026-03-02T15", "2026-03-03T14"],
        ["2026-03-04", "", ""]
    ]);
    // Raw edges and zone days name their day by its index in the first array.
    let raw = serde_json::json!([[1, "2026-03-03T14:00:00.000Z", "2026-03-03T15:00:00.000Z"]]);
    let zone_days = serde_json::json!([[2, 540, "2026-03-04"]]);
    let s = Statement::with(
        sql::DAILY_ROLLUP_BY_TYPE,
        [
            Bind::Text(rollup.to_string()),
            Bind::Text(raw.to_string()),
            Bind::Text(zone_days.to_string()),
        ],
    );
    let (_, got) = day_rollup(&conn, &s);
    let count = |from: &str, to: &str| {
        rows.iter()
            .filter(|r| r.ts.as_str() >= from && r.ts.as_str() < to)
            .count() as i64
    };
    let total: i64 = got.iter().map(|g| g.n).sum();
    assert_eq!(total, count("2026-03-01T15:00:00.000Z", "2026-03-04T15:00:00.000Z"));
    let third: i64 = got.iter().filter(|g| g.day == "2026-03-04").map(|g| g.n).sum();
    assert_eq!(third, count("2026-03-03T15:00:00.000Z", "2026-03-04T15:00:00.000Z"));
    assert!(third > 0);
    assert!(got
        .iter()
        .all(|g| ["2026-03-02", "2026-03-03", "2026-03-04"].contains(&g.day.as_str())));
    assert_uses_indexes(&conn, "daily", &s);
    assert_uses_indexes(
        &conn,
        "daily by service",
        &Statement::with(sql::DAILY_COUNTS_BY_SERVICE, s.binds.clone()),
    );
}

#[test]
fn trace_catalog_funnel_overview_and_quarantine_reads_search_indexes() {
    let (conn, _) = seeded(300);
    let range = [
        Bind::text("2026-03-01T00:00:00.000Z"),
        Bind::text("2026-03-10T00:00:00.000Z"),
    ];
    const FROM: &str = "2026-03-01T00:00:00.000Z";
    const MID_HOUR_TO: &str = "2026-03-10T07:41:00.000Z";
    let quarantine_span = Span {
        from: "2026-03-01T00:00:00.000Z".into(),
        to: "2026-03-10T00:00:00.000Z".into(),
    };
    let quarantine_fp = EmailFilter::Fingerprint("ab".repeat(32));
    let checks: Vec<(&str, Statement)> = vec![
        ("trace", sql::trace_events("trace_1", 1000)),
        (
            "first/last seen",
            Statement::with(sql::FIRST_LAST_SEEN, [Bind::json(&["app_open", "m_auth_login_fail"])]),
        ),
        (
            "counts by type",
            Statement::with(sql::COUNTS_BY_TYPE, sql::hour_split(FROM, MID_HOUR_TO)),
        ),
        ("rejections", Statement::with(sql::REJECTIONS_BY_TYPE, range.clone())),
        (
            "funnel steps",
            Statement::with(
                sql::FUNNEL_STEPS,
                range
                    .iter()
                    .cloned()
                    .chain([Bind::json(&["m_auth_login_start", "m_auth_login_success"])]),
            ),
        ),
        (
            "funnel errors",
            Statement::with(
                sql::FUNNEL_ERRORS,
                range
                    .iter()
                    .cloned()
                    .chain([Bind::json(&["m_auth_login_start", "m_auth_login_success"])]),
            ),
        ),
        (
            "funnel steps by domain",
            sql::funnel_steps(
                "2026-03-02T00:00:00.000Z",
                "2026-03-12T00:00:00.000Z",
                &["m_auth_login_start", "m_auth_login_success"],
                Some(funnel::report::funnel::Breakdown::EmailDomain),
            ),
        ),
        (
            "funnel steps by property",
            sql::funnel_steps(
                "2026-03-02T00:00:00.000Z",
                "2026-03-12T00:00:00.000Z",
                &["purchase_completed"],
                Some(funnel::report::funnel::Breakdown::Property("plan")),
            ),
        ),
        (
            "service × type",
            service_type_statement(FROM, MID_HOUR_TO, "Asia/Seoul"),
        ),
        ("top value over local days", {
            let params =
                Params::parse([("from", FROM), ("to", MID_HOUR_TO), ("tz", "Asia/Seoul")], LIST_PARAMS).unwrap();
            let days = funnel::query::range::TimeRange::parse(&params, Utc::now())
                .unwrap()
                .days();
            let top = Measure::Top {
                events: &["command_executed"],
                property: "scope",
            };
            sql::measure_over_days(&top, FROM, MID_HOUR_TO, &days)
        }),
        (
            "sketches of a range",
            Statement::with(
                sql::SKETCHES_OF_RANGE,
                [
                    Bind::text("u"),
                    Bind::json(&["s:pluid", "s:pregoi"]),
                    Bind::json(&["2026-03", "2026-04-01", "2026-04-02T03"]),
                    Bind::text("2026-03-01T00"),
                    Bind::text("2026-04-02T04"),
                ],
            ),
        ),
        (
            "edge actors",
            Statement::with(
                sql::EDGE_ACTORS,
                [Bind::json(&[["2026-03-02T10:37:00.000Z", "2026-03-02T11:00:00.000Z"]])],
            ),
        ),
        (
            "quarantine page",
            sql::list_quarantine(&QuarantineQuery {
                span: &quarantine_span,
                event_type: Some("app_open"),
                email: None,
                trace_id: None,
                pending_only: true,
                after: None,
                limit: 50,
            }),
        ),
        (
            "quarantine by address",
            sql::list_quarantine(&QuarantineQuery {
                span: &quarantine_span,
                event_type: None,
                email: Some(&quarantine_fp),
                trace_id: None,
                pending_only: false,
                after: None,
                limit: 50,
            }),
        ),
        (
            "pending quarantine",
            Statement::with(sql::QUARANTINE_PENDING_NEXT, [Bind::Int(100)]),
        ),
        ("pending count", Statement::new(sql::QUARANTINE_PENDING_COUNT)),
    ];
    for (name, s) in checks {
        assert_uses_indexes(&conn, name, &s);
    }
}

#[test]
fn summary_daily_counts_equal_the_list_count_for_every_type_and_zone() {
    use funnel::query::range::TimeRange;
    use funnel::report::summary::{days_json, totals};
    let (conn, _) = seeded(1200);
    for tz in ["UTC", "Asia/Seoul", "America/New_York", "Asia/Kathmandu"] {
        let params = Params::parse([("from", "2026-03-03"), ("to", "2026-03-17"), ("tz", tz)], LIST_PARAMS).unwrap();
        let range = TimeRange::parse(&params, Utc::now()).unwrap();
        let b = days_json(&range.days());
        // Whole local days of UTC and Seoul read the day rollup; other zones read hours.
        assert_eq!(b.zone_days != "[]", ["UTC", "Asia/Seoul"].contains(&tz), "{tz}");
        let s = Statement::with(
            sql::DAILY_ROLLUP_BY_TYPE,
            [Bind::Text(b.hours), Bind::Text(b.raw), Bind::Text(b.zone_days)],
        );
        let (day_rows, daily) = day_rollup(&conn, &s);
        // Every KPI the day rows answer equals its own statement over the whole range.
        let (from, to) = (range.from_stored(), range.to_stored());
        let mut answered = 0;
        for (id, m) in funnel::report::summary::measured() {
            let Some(got) = funnel::report::summary::from_daily(m, &day_rows) else {
                continue;
            };
            answered += 1;
            let own = value(&conn, &sql::measure(m, &from, &to));
            let own = match own {
                rusqlite::types::Value::Integer(i) => serde_json::Value::from(i),
                rusqlite::types::Value::Real(f) => serde_json::Value::from(f),
                other => panic!("{id}: {other:?}"),
            };
            assert_eq!(got.value, own, "{tz} {id}");
        }
        assert!(answered >= 15, "{tz}: only {answered} KPIs from the day rows");
        let per_type = totals(&daily);
        assert_eq!(per_type.len(), 5, "{tz}");
        for (event_type, n) in per_type {
            let f = EventFilter::parse(
                &Params::parse(
                    [
                        ("from", "2026-03-03"),
                        ("to", "2026-03-17"),
                        ("tz", tz),
                        ("type", event_type.as_str()),
                    ],
                    LIST_PARAMS,
                )
                .unwrap(),
                Utc::now(),
                KEY,
            )
            .unwrap();
            assert_eq!(page_all(&conn, &f, 500).len() as i64, n, "{tz} {event_type}");
        }
    }
}

#[test]
fn replay_statements_mark_passes_update_failures_and_never_store_twice() {
    let conn = migrated();
    let q = serde_json::json!([
        {"received_at": "2026-03-01T00:00:00.000Z", "source": "zuplo", "event_type": "app_open", "event_id": "q1",
         "clock_skew_ms": 0, "errors_json": "[]", "event_json": "{}"},
        {"received_at": "2026-03-01T00:00:01.000Z", "source": "zuplo", "event_type": "nope", "event_id": "q2",
         "clock_skew_ms": 0, "errors_json": "[]", "event_json": "{}"}
    ]);
    conn.execute(sql::INSERT_QUARANTINE, [q.to_string()]).unwrap();
    let run = |s: &Statement| conn.execute(&s.sql, params_from_iter(binds(s))).unwrap();
    let row = rows(1).pop().unwrap();
    let insert = || {
        let chunk = json_chunks(std::slice::from_ref(&row), 1 << 20).unwrap().pop().unwrap();
        conn.prepare(sql::INSERT_EVENTS)
            .unwrap()
            .query([chunk])
            .unwrap()
            .next()
            .unwrap()
            .is_some()
    };
    assert!(insert(), "first replay stores the row");
    assert_eq!(
        run(&Statement::with(
            sql::QUARANTINE_MARK_REPLAYED,
            [Bind::text("2026-03-02T00:00:00.000Z"), Bind::json(&[1])]
        )),
        1
    );
    assert_eq!(
        run(&Statement::with(
            sql::QUARANTINE_UPDATE_ERRORS,
            [
                Bind::json(&[(2, r#"[{"code":"x"}]"#)]),
                Bind::text("2026-03-02T00:00:00.000Z")
            ]
        )),
        1
    );
    assert!(!insert(), "a second replay of the same event stores nothing");
    assert_eq!(
        run(&Statement::with(
            sql::QUARANTINE_MARK_REPLAYED,
            [Bind::text("later"), Bind::json(&[1])]
        )),
        0
    );
    let pending: Vec<(i64, String)> = conn
        .prepare(sql::QUARANTINE_PENDING_NEXT)
        .unwrap()
        .query_map([10], |r| Ok((r.get("id")?, r.get("errors_json")?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(pending, [(2, r#"[{"code":"x"}]"#.to_string())]);
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM funnel_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

mod quotas {
    use super::*;
    use funnel::catalog::quotas::action;

    const MONTH: (&str, &str) = ("2026-02-28T15:00:00.000Z", "2026-03-31T15:00:00.000Z");

    fn metered_row(i: usize, user: &str, tenant: Option<&str>, event_type: &str, payload: &str) -> String {
        let mut row = rows(1).pop().unwrap();
        row.event_type = event_type.into();
        row.service = "easypick".into();
        row.event_id = format!("m{i}");
        row.user_id = Some(user.into());
        row.tenant_id = tenant.map(Into::into);
        row.ts = "2026-03-10T00:00:00.000Z".into();
        row.payload_json = Some(payload.into());
        serde_json::to_string(&[row]).unwrap()
    }

    /// Tries to store one metered event; true when it was stored.
    fn try_store(conn: &Connection, i: usize, user: &str, tenant: Option<&str>, action_name: &str) -> bool {
        let a = action(action_name).unwrap();
        let (event_type, payload) = match action_name {
            "ai_tool_access" => ("tool_interaction", r#"{"tool_id":"t","action_type":"use"}"#),
            _ => (a.events[0], r#"{"prompt_id":"p","model_type":"gpt-4"}"#),
        };
        let row = metered_row(i, user, tenant, event_type, payload);
        // As a write does: mark, insert, then roll the new row up.
        conn.execute(sql::MARK_NEW_ROWS, []).unwrap();
        let s = Statement::with(
            sql::INSERT_METERED_EVENT,
            sql::QuotaBinds {
                row: Some(row),
                month: MONTH,
                action: a,
                user_id: Some(user),
                tenant_id: tenant,
            }
            .binds(),
        );
        let stored = {
            let mut stmt = conn.prepare(&s.sql).unwrap();
            let mut rows = stmt.query(params_from_iter(binds(&s))).unwrap();
            rows.next().unwrap().is_some()
        };
        conn.execute(sql::ROLL_UP_USAGE, []).unwrap();
        stored
    }

    fn state(conn: &Connection, user: &str, action_name: &str) -> (i64, i64) {
        let s = Statement::with(
            sql::QUOTA_STATE,
            sql::QuotaBinds {
                row: None,
                month: MONTH,
                action: action(action_name).unwrap(),
                user_id: Some(user),
                tenant_id: None,
            }
            .binds(),
        );
        conn.query_row(&s.sql, params_from_iter(binds(&s)), |r| {
            Ok((r.get("used")?, r.get("limit")?))
        })
        .unwrap()
    }

    #[test]
    fn a_metered_event_is_stored_only_while_the_user_is_under_the_limit() {
        let conn = migrated();
        let stored = (0..25).filter(|i| try_store(&conn, *i, "u1", None, "compile")).count();
        assert_eq!(stored, 20, "the free plan's 20 compiles a month");
        assert_eq!(state(&conn, "u1", "compile"), (20, 20));
        assert_eq!(state(&conn, "u2", "compile"), (0, 20));
    }

    #[test]
    fn the_plan_comes_from_the_latest_subscription_and_overrides_win() {
        let conn = migrated();
        let subscribe = |id: &str, ts: &str, payload: &str| {
            conn.execute(
                "INSERT INTO funnel_events (ts, event_type, service, source, event_id, user_id, payload_json) \
                 VALUES (?, 'subscription', 'easypick', 'cp', ?, 'u1', ?)",
                [ts, id, payload],
            )
            .unwrap();
        };
        subscribe(
            "s1",
            "2026-03-01T00:00:00.000Z",
            r#"{"action":"complete","plan_type":"pro"}"#,
        );
        assert_eq!(state(&conn, "u1", "compile").1, 500);
        subscribe(
            "s2",
            "2026-03-02T00:00:00.000Z",
            r#"{"action":"cancel","plan_type":"pro"}"#,
        );
        assert_eq!(state(&conn, "u1", "compile").1, 20, "a cancel falls back to free");
        subscribe(
            "s3",
            "2026-03-03T00:00:00.000Z",
            r#"{"action":"start","plan_type":"team"}"#,
        );
        assert_eq!(
            state(&conn, "u1", "compile").1,
            20,
            "a started checkout grants nothing yet"
        );
        subscribe(
            "s4",
            "2026-03-04T00:00:00.000Z",
            r#"{"action":"complete","plan_type":"team"}"#,
        );
        subscribe(
            "s5",
            "2026-03-05T00:00:00.000Z",
            r#"{"action":"start","plan_type":"pro"}"#,
        );
        assert_eq!(
            state(&conn, "u1", "compile").1,
            2000,
            "a later start does not take away the plan paid for"
        );
        conn.execute("DELETE FROM funnel_events WHERE event_id IN ('s3', 's4', 's5')", [])
            .unwrap();

        let set = |kind: &str, id: &str, limit: i64| {
            conn.execute(
                sql::UPSERT_QUOTA_OVERRIDE,
                rusqlite::params![kind, id, "compile", limit, "2026-03-01T00:00:00.000Z"],
            )
            .unwrap();
        };
        assert!(
            try_store(&conn, 1, "u1", Some("acme"), "compile"),
            "u1's tenant is now acme"
        );
        set("tenant", "acme", 3);
        assert_eq!(state(&conn, "u1", "compile"), (1, 3));
        set("user", "u1", 2);
        assert_eq!(state(&conn, "u1", "compile").1, 2, "a user override beats the tenant's");
        assert!(try_store(&conn, 2, "u1", Some("acme"), "compile"));
        assert!(!try_store(&conn, 3, "u1", Some("acme"), "compile"));
        conn.execute(sql::DELETE_QUOTA_OVERRIDE, ["user", "u1", "compile"])
            .unwrap();
        assert!(try_store(&conn, 4, "u1", Some("acme"), "compile"));
        assert!(!try_store(&conn, 5, "u1", Some("acme"), "compile"));
        assert_eq!(state(&conn, "u1", "compile"), (3, 3));
    }

    #[test]
    fn a_conditional_action_counts_only_its_matching_events() {
        let conn = migrated();
        let a = action("ai_tool_access").unwrap();
        for i in 0..12 {
            try_store(&conn, i, "u1", None, "ai_tool_access");
        }
        // A viewed tool is not metered: stored without the guard, and not counted.
        conn.execute(
            "INSERT INTO funnel_events (ts, event_type, service, source, event_id, user_id, payload_json) \
             VALUES ('2026-03-10T00:00:00.000Z', 'tool_interaction', 'easypick', 'cp', 'v1', 'u1', '{\"action_type\":\"view\"}')",
            [],
        )
        .unwrap();
        assert_eq!(state(&conn, "u1", "ai_tool_access"), (a.limits.free, a.limits.free));
        let users = Statement::with(
            sql::QUOTA_USERS_AT_LIMIT,
            sql::QuotaBinds {
                row: None,
                month: MONTH,
                action: a,
                user_id: None,
                tenant_id: None,
            }
            .binds(),
        );
        let listed: Vec<(String, i64, i64)> = conn
            .prepare(&users.sql)
            .unwrap()
            .query_map(params_from_iter(binds(&users)), |r| {
                Ok((r.get("user_id")?, r.get("used")?, r.get("limit")?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(listed, [("u1".to_string(), 10, 10)]);
    }

    #[test]
    fn quota_statements_search_indexes() {
        let (conn, _) = seeded(200);
        let a = action("compile").unwrap();
        let row = metered_row(0, "u1", Some("t"), "compile_prompt", "{}");
        for (name, s) in [
            (
                "metered insert",
                Statement::with(
                    sql::INSERT_METERED_EVENT,
                    sql::QuotaBinds {
                        row: Some(row),
                        month: MONTH,
                        action: a,
                        user_id: Some("u1"),
                        tenant_id: Some("t"),
                    }
                    .binds(),
                ),
            ),
            (
                "quota state",
                Statement::with(
                    sql::QUOTA_STATE,
                    sql::QuotaBinds {
                        row: None,
                        month: MONTH,
                        action: a,
                        user_id: Some("u1"),
                        tenant_id: None,
                    }
                    .binds(),
                ),
            ),
            (
                "quota users at limit",
                Statement::with(
                    sql::QUOTA_USERS_AT_LIMIT,
                    sql::QuotaBinds {
                        row: None,
                        month: MONTH,
                        action: a,
                        user_id: None,
                        tenant_id: None,
                    }
                    .binds(),
                ),
            ),
            (
                "usage totals",
                Statement::with(
                    sql::USAGE_TOTALS,
                    [
                        Bind::json(&["compile", "workflow_run"]),
                        Bind::text(MONTH.0),
                        Bind::text(MONTH.1),
                    ],
                ),
            ),
            ("usage roll-up", Statement::new(sql::ROLL_UP_USAGE)),
            (
                "existing keys",
                Statement::with(sql::EXISTING_KEYS, [Bind::json(&[["cp", "e1"]])]),
            ),
        ] {
            assert_uses_indexes(&conn, name, &s);
        }
    }
}

/// The rollup kept by triggers always equals a recount of the rows: after
/// inserts, deletes and moves of `ts`, in whole-hour and mid-hour zones.
#[test]
fn the_hourly_rollup_stays_exactly_equal_to_the_rows_through_inserts_deletes_and_updates() {
    use funnel::query::range::TimeRange;
    use funnel::report::summary::days_json;
    let (conn, _) = seeded(3000);
    conn.execute("DELETE FROM funnel_events WHERE id % 7 = 0", []).unwrap();
    conn.execute(
        "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '-3 days', '+17 minutes') WHERE id % 5 = 0",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE funnel_events SET sample_rate = 0.1 WHERE event_type = 'app_open' AND id % 3 = 0",
        [],
    )
    .unwrap();
    let recount: i64 = conn
        .query_row(
            "SELECT CAST(ROUND(SUM(1.0 / sample_rate)) AS INTEGER) FROM funnel_events",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rolled: i64 = conn
        .query_row("SELECT CAST(ROUND(SUM(n)) AS INTEGER) FROM event_rollup", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rolled, recount);

    for tz in ["UTC", "Asia/Seoul", "Asia/Kathmandu", "America/New_York"] {
        let params = Params::parse([("from", "2026-03-02"), ("to", "2026-03-20"), ("tz", tz)], LIST_PARAMS).unwrap();
        let range = TimeRange::parse(&params, Utc::now()).unwrap();
        let b = days_json(&range.days());
        // Whole local days of UTC and Seoul read the day rollup; other zones read hours.
        assert_eq!(b.zone_days != "[]", ["UTC", "Asia/Seoul"].contains(&tz), "{tz}");
        let s = Statement::with(
            sql::DAILY_ROLLUP_BY_TYPE,
            [Bind::Text(b.hours), Bind::Text(b.raw), Bind::Text(b.zone_days)],
        );
        let (_, got) = day_rollup(&conn, &s);
        for day in range.days() {
            let (from, to) = (funnel::time::to_stored(day.start), funnel::time::to_stored(day.end));
            let mut stmt = conn
                .prepare(
                    "SELECT event_type, CAST(ROUND(SUM(1.0 / sample_rate)) AS INTEGER) FROM funnel_events \
                     WHERE ts >= ? AND ts < ? GROUP BY event_type ORDER BY event_type",
                )
                .unwrap();
            let expected: Vec<(String, i64)> = stmt
                .query_map([&from, &to], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let mut actual: Vec<(String, i64)> = got
                .iter()
                .filter(|g| g.day == day.date.to_string())
                .map(|g| (g.key.clone(), g.n))
                .collect();
            actual.sort();
            assert_eq!(actual, expected, "{tz} {}", day.date);
        }
        // Range measures through the rollup equal a recount too, on mid-hour bounds.
        let (from, to) = ("2026-03-03T10:37:00.000Z", "2026-03-15T02:11:00.000Z");
        let m = Measure::Count {
            events: &["m_auth_login_fail", "app_open"],
            outcome: Outcome::Success,
        };
        let expected: i64 = conn
            .query_row(
                "SELECT CAST(ROUND(COALESCE(SUM(1.0 / sample_rate), 0)) AS INTEGER) FROM funnel_events \
                 WHERE ts >= ? AND ts < ? AND event_type IN ('m_auth_login_fail', 'app_open') AND success = 1",
                [from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            value(&conn, &sql::measure(&m, from, to)),
            rusqlite::types::Value::Integer(expected)
        );
        let revenue = Measure::Sum {
            events: &["purchase_completed"],
            property: "amount",
        };
        let expected: f64 = conn
            .query_row(
                "SELECT TOTAL(json_extract(payload_json, '$.amount') / sample_rate) FROM funnel_events \
                 WHERE ts >= ? AND ts < ? AND event_type = 'purchase_completed'",
                [from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            value(&conn, &sql::measure(&revenue, from, to)),
            rusqlite::types::Value::Real(expected)
        );
    }
}

#[test]
fn every_top_kpi_reads_a_rolled_up_property_listed_in_the_migration() {
    use funnel::catalog::kpis::{Formula, KPIS};
    let conn = migrated();
    let mut listed: Vec<(String, String)> = conn
        .prepare("SELECT event_type, property FROM rollup_properties ORDER BY 1, 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut declared: Vec<(String, String)> = sql::ROLLUP_PROPERTIES
        .iter()
        .map(|(e, p)| (e.to_string(), p.to_string()))
        .collect();
    listed.sort();
    declared.sort();
    assert_eq!(
        listed, declared,
        "migration 0006 and storage::sql::ROLLUP_PROPERTIES agree"
    );
    for k in KPIS {
        if let Formula::Measure(Measure::Top { events, property }) = k.formula {
            for e in events {
                assert!(
                    sql::ROLLUP_PROPERTIES.contains(&(*e, property)),
                    "{}: {e}.{property} is not rolled up",
                    k.id
                );
            }
        }
    }
}

#[test]
fn the_property_rollup_gives_the_same_top_value_as_the_rows_after_changes() {
    let conn = migrated();
    let mut rows = rows(600);
    for (i, r) in rows.iter_mut().enumerate() {
        r.event_type = "command_executed".into();
        r.service = "presstuner".into();
        r.payload_json = Some(format!(r#"{{"scope":"s{}","action":"a{}"}}"#, i % 7, (i * i) % 5));
    }
    insert(&conn, &rows);
    conn.execute("DELETE FROM funnel_events WHERE id % 4 = 0", []).unwrap();
    conn.execute(
        "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '+2 days', '+29 minutes') WHERE id % 3 = 0",
        [],
    )
    .unwrap();
    let (from, to) = ("2026-03-02T07:13:00.000Z", "2026-03-14T19:41:00.000Z");
    for property in ["scope", "action"] {
        let m = Measure::Top {
            events: &["command_executed"],
            property: if property == "scope" { "scope" } else { "action" },
        };
        let s = sql::measure(&m, from, to);
        assert!(s.sql.contains("property_rollup"), "reads the rollup");
        let expected: String = conn
            .query_row(
                &format!(
                    "SELECT json_extract(payload_json, '$.{property}') AS v FROM funnel_events \
                     WHERE ts >= ? AND ts < ? AND event_type = 'command_executed' GROUP BY v \
                     ORDER BY SUM(1.0 / sample_rate) DESC, v LIMIT 1"
                ),
                [from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            value(&conn, &s),
            rusqlite::types::Value::Text(expected.clone()),
            "{property}"
        );
        // Cut into local days: Seoul and UTC read whole days from the day rollup, New York hours.
        for tz in ["UTC", "Asia/Seoul", "America/New_York"] {
            let params = Params::parse([("from", from), ("to", to), ("tz", tz)], LIST_PARAMS).unwrap();
            let days = funnel::query::range::TimeRange::parse(&params, Utc::now())
                .unwrap()
                .days();
            let s = sql::measure_over_days(&m, from, to, &days);
            let by_day = ["UTC", "Asia/Seoul"].contains(&tz);
            assert!(s.sql.contains("property_day_rollup"), "{tz}");
            assert_eq!(
                funnel::report::summary::days_json(&days).zone_days != "[]",
                by_day,
                "{tz}: whole days of a rollup zone"
            );
            assert_eq!(
                value(&conn, &s),
                rusqlite::types::Value::Text(expected.clone()),
                "{property} in {tz}"
            );
        }
    }
}

/// Rows stored before migration 0021 (the bulk loader's, an older release's)
/// are in the property day rollup once it is applied, as a write would add them.
#[test]
fn the_property_day_rollup_migration_backfills_rows_stored_before_it() {
    let mut rows = rows(300);
    for (i, r) in rows.iter_mut().enumerate() {
        r.event_type = "command_executed".into();
        r.service = "presstuner".into();
        r.payload_json = Some(format!(r#"{{"scope":"s{}","action":"a{}"}}"#, i % 3, i % 4));
    }
    let dump = |conn: &Connection| -> Vec<(i64, String, String, String, i64)> {
        conn.prepare(
            "SELECT minutes, day, property, value, CAST(n AS INTEGER) FROM property_day_rollup ORDER BY 1, 2, 3, 4",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let written = migrated();
    insert(&written, &rows);
    // The migration before this one, whatever its number.
    let number: u32 = std::fs::read_dir(sqlite::migrations_dir())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .find(|n| n.ends_with("_property_day_rollup.sql"))
        .and_then(|n| n[..4].parse().ok())
        .expect("the migration exists");
    let previous = format!("{:04}", number - 1);
    let before = Connection::open_in_memory().unwrap();
    sqlite::apply_migrations(&before, &sqlite::migrations_dir(), "", &previous);
    for chunk in json_chunks(&rows, 64 * 1024).unwrap() {
        let mut stmt = before.prepare(sql::INSERT_EVENTS).unwrap();
        let mut out = stmt.query([chunk]).unwrap();
        while out.next().unwrap().is_some() {}
    }
    sqlite::apply_migrations(&before, &sqlite::migrations_dir(), &previous, "9999");
    let kept = dump(&written);
    assert!(kept.len() > 6, "both zones, several days and values: {kept:?}");
    assert_eq!(dump(&before), kept);
}

/// `(currency, amount)` per currency of a per-currency statement, amounts rounded to cents.
fn money_rows(conn: &Connection, s: &Statement) -> Vec<(String, i64)> {
    conn.prepare(&s.sql)
        .unwrap()
        .query_map(params_from_iter(binds(s)), |r| {
            Ok((
                r.get::<_, String>("currency")?,
                (r.get::<_, f64>("amount")? * 100.0).round() as i64,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A funnel step row: trace, user, event type and its breakdown value.
type StepGroup = (Option<String>, Option<String>, String, Option<String>);

#[test]
fn a_funnel_breakdown_reads_the_same_groups_as_the_funnel_with_each_groups_value() {
    let (conn, rows) = seeded(500);
    let (from, to) = ("2026-03-02T00:00:00.000Z", "2026-03-12T00:00:00.000Z");
    let steps = ["m_auth_login_start", "purchase_completed"];
    let read = |s: &Statement| -> Vec<StepGroup> {
        let mut out: Vec<_> = conn
            .prepare(&s.sql)
            .unwrap()
            .query_map(params_from_iter(binds(s)), |r| {
                Ok((
                    r.get("trace_id")?,
                    r.get("user_id")?,
                    r.get("event_type")?,
                    r.get::<_, Option<String>>("group_value").unwrap_or(None),
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.sort();
        out
    };
    use funnel::report::funnel::Breakdown;
    let plain = read(&sql::funnel_steps(from, to, &steps, None));
    let by_domain = read(&sql::funnel_steps(from, to, &steps, Some(Breakdown::EmailDomain)));
    let by_plan = read(&sql::funnel_steps(from, to, &steps, Some(Breakdown::Property("plan"))));
    let keys = |v: &[StepGroup]| -> Vec<_> { v.iter().map(|(t, u, e, _)| (t.clone(), u.clone(), e.clone())).collect() };
    assert!(!plain.is_empty());
    assert_eq!(keys(&by_domain), keys(&plain), "the same groups, so the same cost");
    assert_eq!(keys(&by_plan), keys(&plain));
    for (trace, user, event_type, domain) in &by_domain {
        let expected = rows
            .iter()
            .filter(|r| r.ts.as_str() >= from && r.ts.as_str() < to)
            .filter(|r| &r.trace_id == trace && &r.user_id == user && &r.event_type == event_type)
            .filter_map(|r| r.email_domain.clone())
            .max();
        assert_eq!(domain, &expected);
    }
    assert!(by_plan.iter().any(|r| r.2 == "purchase_completed" && r.3.is_some()));
    assert!(by_plan
        .iter()
        .filter(|r| r.2 == "m_auth_login_start")
        .all(|r| r.3.is_none()));
}

#[test]
fn the_currency_rollup_sums_each_currency_apart_exactly_after_changes() {
    let conn = migrated();
    let mut rows = rows(600);
    let currencies = [Some("USD"), Some("EUR"), None, Some("JPY"), Some("KRW")];
    for (i, r) in rows.iter_mut().enumerate() {
        r.event_type = "purchase_completed".into();
        r.service = "presstuner".into();
        r.payload_json = Some(match currencies[i % currencies.len()] {
            Some(c) => format!(r#"{{"amount":{}.25,"currency":"{c}"}}"#, i % 13),
            None => format!(r#"{{"amount":{}}}"#, 1000 + i),
        });
        if i % 9 == 0 {
            r.sample_rate = 0.5;
        }
    }
    insert(&conn, &rows);
    conn.execute("DELETE FROM funnel_events WHERE id % 4 = 0", []).unwrap();
    conn.execute(
        "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '+2 days', '+29 minutes') WHERE id % 3 = 0",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE funnel_events SET payload_json = json_set(payload_json, '$.currency', 'EUR') WHERE id % 10 = 1",
        [],
    )
    .unwrap();
    let (from, to) = ("2026-03-02T07:13:00.000Z", "2026-03-14T19:41:00.000Z");
    let m = Measure::Money {
        events: &["purchase_completed"],
        property: "amount",
    };
    let s = sql::measure(&m, from, to);
    assert!(s.sql.contains("currency_rollup"), "reads the rollup");
    let expected: Vec<(String, i64)> = conn
        .prepare(
            "SELECT COALESCE(json_extract(payload_json, '$.currency'), 'KRW') AS c, \
             CAST(ROUND(TOTAL(json_extract(payload_json, '$.amount') / sample_rate) * 100) AS INTEGER) \
             FROM funnel_events WHERE ts >= ? AND ts < ? AND event_type = 'purchase_completed' GROUP BY c ORDER BY c",
        )
        .unwrap()
        .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(expected.len(), 4, "four currencies in range: {expected:?}");
    assert_eq!(money_rows(&conn, &s), expected);
    assert_uses_indexes(&conn, "money by currency", &s);
    // A property the rollup does not hold reads the rows, still per currency.
    let other = sql::money_measure(&["purchase_completed"], "amount_due", from, to);
    assert!(!other.sql.contains("currency_rollup"));
    assert_eq!(money_rows(&conn, &other), Vec::<(String, i64)>::new());
    assert_uses_indexes(&conn, "money of another property", &other);
}

#[test]
fn replays_reach_every_pending_event_even_behind_a_full_batch_that_keeps_failing() {
    let conn = migrated();
    // 500 events that will always fail, then one that a replay can pass.
    let quarantined: Vec<serde_json::Value> = (0..=500)
        .map(|i| {
            serde_json::json!({"received_at": format!("2026-03-01T00:{:02}:{:02}.000Z", i / 60, i % 60),
                "source": "zuplo", "event_type": "nope", "event_id": format!("q{i}"), "clock_skew_ms": 0,
                "errors_json": "[]", "event_json": "{}"})
        })
        .collect();
    conn.execute(
        sql::INSERT_QUARANTINE,
        [serde_json::Value::from(quarantined).to_string()],
    )
    .unwrap();
    let fixable = "q500";
    let next = |limit: i64| -> Vec<(i64, String)> {
        conn.prepare(sql::QUARANTINE_PENDING_NEXT)
            .unwrap()
            .query_map([limit], |r| Ok((r.get("id")?, r.get("event_id")?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut replays = 0;
    loop {
        replays += 1;
        assert!(
            replays <= 2,
            "{fixable} not reached after {} replays of 500",
            replays - 1
        );
        let batch = next(500);
        assert_eq!(batch.len(), 500);
        if let Some((id, _)) = batch.iter().find(|(_, e)| e == fixable) {
            let mark = Statement::with(
                sql::QUARANTINE_MARK_REPLAYED,
                [Bind::text("2026-03-02T00:00:00.000Z"), Bind::json(&[id])],
            );
            conn.execute(&mark.sql, params_from_iter(binds(&mark))).unwrap();
            break;
        }
        // Every examined event still fails: recorded with this replay's time.
        let failing: Vec<(i64, &str)> = batch.iter().map(|(id, _)| (*id, r#"[{"code":"x"}]"#)).collect();
        let update = Statement::with(
            sql::QUARANTINE_UPDATE_ERRORS,
            [
                Bind::json(&failing),
                Bind::text(format!("2026-03-02T00:00:0{replays}.000Z")),
            ],
        );
        assert_eq!(
            conn.execute(&update.sql, params_from_iter(binds(&update))).unwrap(),
            500
        );
    }
    assert_eq!(replays, 2);
    // The never-checked go first, then the longest ago: the next batch starts with the oldest failures.
    let after = next(3);
    assert_eq!(
        after.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>(),
        ["q0", "q1", "q2"]
    );
}

#[test]
fn the_migrated_event_table_has_exactly_the_record_columns_in_order() {
    let conn = migrated();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('funnel_events') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut expected = vec!["id".to_string()];
    expected.extend(EventRow::COLUMNS.iter().map(|c| c.to_string()));
    assert_eq!(columns, expected);
}

/// The overview's per-service-and-type read of `[from, to)`, cut into `tz`'s local days.
fn service_type_statement(from: &str, to: &str, tz: &str) -> Statement {
    let params = Params::parse([("from", from), ("to", to), ("tz", tz)], LIST_PARAMS).unwrap();
    let days = funnel::query::range::TimeRange::parse(&params, Utc::now())
        .unwrap()
        .days();
    let b = funnel::report::summary::days_json(&days);
    Statement::with(
        sql::COUNTS_BY_SERVICE_AND_TYPE,
        [
            Bind::Text(b.hours),
            Bind::Text(b.raw),
            Bind::Text(b.zone_days),
            Bind::json(&funnel::catalog::failure_types()),
        ],
    )
}

/// Per-service-and-type counts and failures of a range, as the overview reads them.
fn service_type_counts(conn: &Connection, from: &str, to: &str, tz: &str) -> Vec<(String, String, i64, i64)> {
    let s = service_type_statement(from, to, tz);
    let mut out: Vec<(String, String, i64, i64)> = conn
        .prepare(&s.sql)
        .unwrap()
        .query_map(params_from_iter(binds(&s)), |r| {
            Ok((r.get("service")?, r.get("event_type")?, r.get("n")?, r.get("failed")?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

#[test]
fn rollups_count_each_stored_row_once_however_often_a_write_offers_it_and_failures_equal_a_recount() {
    let (conn, rows) = seeded(2000);
    let rolled = |conn: &Connection| -> (f64, f64, f64) {
        conn.query_row(
            "SELECT TOTAL(n), TOTAL(amount), TOTAL(errored) FROM event_rollup",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    let before = rolled(&conn);
    // A retried batch: every key already stored, plus one new row.
    let mut again = rows[..700].to_vec();
    let mut new = rows[0].clone();
    new.event_id = "brand-new".into();
    new.error_code = Some("E9".into());
    again.push(new);
    insert(&conn, &again);
    let after = rolled(&conn);
    assert_eq!(after.0, before.0 + 1.0, "only the new row counts");
    assert_eq!(after.2, before.2 + 1.0, "and its error code");
    assert_eq!(
        after.1,
        before.1 + if rows[0].payload_json.is_some() { 1000.0 } else { 0.0 }
    );

    let recount = |conn: &Connection, from: &str, to: &str| -> Vec<(String, String, i64, i64)> {
        let failure_types = funnel::catalog::failure_types();
        let mut stmt = conn
            .prepare(
                "SELECT service, event_type, success, error_code, sample_rate FROM funnel_events WHERE ts >= ? AND ts < ?",
            )
            .unwrap();
        let mut by: std::collections::BTreeMap<(String, String), (f64, f64)> = Default::default();
        let found = stmt
            .query_map([from, to], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, f64>(4)?,
                ))
            })
            .unwrap();
        for row in found {
            let (service, t, success, code, rate) = row.unwrap();
            let failed = success == Some(0) || code.is_some() || failure_types.contains(&t.as_str());
            let e = by.entry((service, t)).or_default();
            e.0 += 1.0 / rate;
            e.1 += if failed { 1.0 / rate } else { 0.0 };
        }
        by.into_iter()
            .filter(|(_, (n, _))| n.round() > 0.0)
            .map(|((s, t), (n, f))| (s, t, n.round() as i64, f.round() as i64))
            .collect()
    };
    let changes = [
        "DELETE FROM funnel_events WHERE id % 7 = 0",
        "UPDATE funnel_events SET error_code = 'E7' WHERE id % 5 = 0 AND error_code IS NULL",
        "UPDATE funnel_events SET error_code = NULL WHERE id % 11 = 0",
        "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '-2 days', '+13 minutes') WHERE id % 3 = 0",
        "UPDATE funnel_events SET sample_rate = 0.25 WHERE event_type = 'app_open' AND id % 2 = 0",
    ];
    for change in ["", changes[0], changes[1], changes[2], changes[3], changes[4]] {
        if !change.is_empty() {
            conn.execute(change, []).unwrap();
        }
        for (from, to) in [
            ("2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"),
            ("2026-03-03T10:37:00.000Z", "2026-03-09T02:11:00.000Z"),
            ("2026-03-04T05:10:00.000Z", "2026-03-04T05:50:00.000Z"),
        ] {
            // Seoul and UTC read whole days from the day rollup; New York reads hours.
            for tz in ["UTC", "Asia/Seoul", "America/New_York"] {
                assert_eq!(
                    service_type_counts(&conn, from, to, tz),
                    recount(&conn, from, to),
                    "after {change:?} over [{from}, {to}) in {tz}"
                );
            }
        }
    }
}

#[test]
fn the_day_rollup_zones_of_the_migration_are_the_ones_reads_use() {
    let conn = migrated();
    let zones: Vec<i64> = conn
        .prepare("SELECT minutes FROM rollup_zones ORDER BY minutes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(zones, sql::DAY_ROLLUP_ZONES);
}

#[test]
fn a_funnels_failures_are_exactly_those_of_its_step_traces_and_traceless_step_users() {
    let conn = migrated();
    let mut rows = rows(1500);
    // Some failures come without a trace: they belong to their user's funnel subject.
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 13 == 0 {
            r.trace_id = None;
            r.error_code = Some(format!("E_nt{}", i % 3));
        }
        // Failures on traces no step is on (not step types themselves).
        if i % 17 == 0 && !r.event_type.starts_with("m_auth_login_s") {
            r.trace_id = Some(format!("other_{i}"));
            r.error_code = Some("E_other".into());
        }
    }
    insert(&conn, &rows);
    let steps = ["m_auth_login_start", "m_auth_login_success"];
    let (from, to) = ("2026-03-03T10:00:00.000Z", "2026-03-15T00:00:00.000Z");
    let in_range = |r: &&EventRow| r.ts.as_str() >= from && r.ts.as_str() < to;
    let step_rows: Vec<&EventRow> = rows
        .iter()
        .filter(in_range)
        .filter(|r| steps.contains(&r.event_type.as_str()))
        .collect();
    let traces: std::collections::HashSet<&str> = step_rows.iter().filter_map(|r| r.trace_id.as_deref()).collect();
    let users: std::collections::HashSet<&str> = step_rows.iter().filter_map(|r| r.user_id.as_deref()).collect();
    let mut expected: std::collections::BTreeMap<(Option<String>, Option<String>, String), String> = Default::default();
    for r in rows.iter().filter(in_range).filter(|r| r.error_code.is_some()) {
        let belongs = match (&r.trace_id, &r.user_id) {
            (Some(t), _) => traces.contains(t.as_str()),
            (None, Some(u)) => users.contains(u.as_str()),
            (None, None) => false,
        };
        if belongs {
            let e = expected
                .entry((r.trace_id.clone(), r.user_id.clone(), r.error_code.clone().unwrap()))
                .or_default();
            if r.ts > *e {
                *e = r.ts.clone();
            }
        }
    }
    let s = Statement::with(
        sql::FUNNEL_ERRORS,
        [Bind::text(from), Bind::text(to), Bind::json(&steps)],
    );
    let got: std::collections::BTreeMap<(Option<String>, Option<String>, String), String> = conn
        .prepare(&s.sql)
        .unwrap()
        .query_map(params_from_iter(binds(&s)), |r| {
            Ok((
                (r.get("trace_id")?, r.get("user_id")?, r.get("error_code")?),
                r.get("last_ts")?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(expected.keys().any(|k| k.0.is_none()), "traceless failures take part");
    assert!(
        !expected.keys().any(|k| k.2 == "E_other"),
        "failures of other traces do not"
    );
    assert_eq!(got, expected);
    let plan = plan(&conn, &s).join("\n");
    assert!(plan.contains("idx_funnel_events_trace_failures"), "{plan}");
    assert!(plan.contains("idx_funnel_events_user_failures"), "{plan}");
}

/// Monthly usage per quota action (migration 0018): the rollup the aggregate
/// usage reads use must always say what the ingest guard counts.
mod usage_rollup {
    use super::*;
    use funnel::catalog::quotas::{month_bounds, QuotaAction, ACTIONS};

    /// The quota months the generated rows (and their moves) fall in.
    const MONTHS: [(i32, u32); 6] = [(2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5), (2026, 6)];

    /// From the first month's start to the last month's end.
    fn all_months() -> (String, String) {
        (bounds(2026, 1).0, bounds(2026, 6).1)
    }

    fn bounds(y: i32, m: u32) -> (String, String) {
        let (from, to) = month_bounds(chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap());
        (to_stored(from), to_stored(to))
    }

    /// Metered and unmetered rows of 8 users over Feb–June 2026, some exactly on
    /// a quota month's first and last millisecond, tools used and only viewed.
    fn metered_rows(n: usize) -> Vec<EventRow> {
        let start = Utc.with_ymd_and_hms(2026, 2, 26, 0, 0, 0).unwrap();
        let template = rows(1).pop().unwrap();
        let types = [
            "compile_prompt",
            "start_workflow",
            "complete_step",
            "tool_interaction",
            "app_open",
        ];
        (0..n)
            .map(|i| {
                let event_type = types[i % types.len()];
                let ts = match i % 50 {
                    0 => "2026-02-28T15:00:00.000Z".to_string(), // March 1st, 00:00 in Seoul
                    1 => "2026-03-31T14:59:59.999Z".to_string(), // March 31st, 23:59:59.999 in Seoul
                    _ => to_stored(start + Duration::minutes(i as i64 * 157)),
                };
                let payload = match event_type {
                    "tool_interaction" => format!(
                        r#"{{"tool_id":"t","action_type":"{}"}}"#,
                        if i % 3 == 0 { "view" } else { "use" }
                    ),
                    _ => r#"{"prompt_id":"p"}"#.to_string(),
                };
                EventRow {
                    ts,
                    event_type: event_type.into(),
                    service: "easypick".into(),
                    event_id: format!("u{i}"),
                    user_id: (i % 13 != 0).then(|| format!("u{}", i % 8)),
                    tenant_id: Some(format!("t{}", i % 3)),
                    payload_json: Some(payload),
                    ..template.clone()
                }
            })
            .collect()
    }

    fn query<T>(conn: &Connection, s: &Statement, f: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>) -> Vec<T> {
        conn.prepare(&s.sql)
            .unwrap()
            .query_map(params_from_iter(binds(s)), f)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn quota_binds<'a>(month: &'a (String, String), action: &'a QuotaAction, user: Option<&'a str>) -> Vec<Bind> {
        sql::QuotaBinds {
            row: None,
            month: (&month.0, &month.1),
            action,
            user_id: user,
            tenant_id: None,
        }
        .binds()
    }

    /// `(action, month, user, used)`.
    type Usage = (String, String, String, i64);
    /// `(action, month, user, used, limit)`.
    type UsageState = (String, String, String, i64, i64);

    /// Per (action, month, user): the rollup's count.
    fn rolled(conn: &Connection) -> Vec<Usage> {
        let s = Statement::new("SELECT action, month, user_id, used FROM usage_rollup ORDER BY 1, 2, 3");
        query(conn, &s, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
    }

    /// Per (action, month, user): what the guard counts, over the rows (users
    /// with no counted event left out), and each user's limit.
    fn recount(conn: &Connection) -> (Vec<Usage>, Vec<UsageState>) {
        let users: Vec<String> = query(
            conn,
            &Statement::new("SELECT DISTINCT user_id FROM funnel_events WHERE user_id IS NOT NULL ORDER BY 1"),
            |r| r.get(0),
        );
        let (mut counts, mut states) = (Vec::new(), Vec::new());
        for a in ACTIONS {
            for (y, m) in MONTHS {
                let month = bounds(y, m);
                let label = format!("{y}-{m:02}");
                for u in &users {
                    let s = Statement::with(sql::QUOTA_STATE, quota_binds(&month, a, Some(u)));
                    let (used, limit): (i64, i64) = query(conn, &s, |r| Ok((r.get("used")?, r.get("limit")?)))[0];
                    if used > 0 {
                        counts.push((a.name.to_string(), label.clone(), u.clone(), used));
                        states.push((a.name.to_string(), label.clone(), u.clone(), used, limit));
                    }
                }
            }
        }
        counts.sort();
        (counts, states)
    }

    fn totals(conn: &Connection) -> Vec<(String, String, i64, i64)> {
        let (first, last) = all_months();
        let names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        let s = Statement::with(
            sql::USAGE_TOTALS,
            [Bind::json(&names), Bind::text(first), Bind::text(last)],
        );
        let mut out = query(conn, &s, |r| {
            Ok((r.get("action")?, r.get("month")?, r.get("users")?, r.get("used")?))
        });
        out.sort();
        out
    }

    /// The users at their limit of each action over all the months, as the read returns them.
    fn at_limit(conn: &Connection) -> Vec<UsageState> {
        let range = all_months();
        ACTIONS
            .iter()
            .flat_map(|a| {
                let s = Statement::with(sql::QUOTA_USERS_AT_LIMIT, quota_binds(&range, a, None));
                query(conn, &s, |r| {
                    Ok((
                        r.get::<_, String>("action")?,
                        r.get("month")?,
                        r.get("user_id")?,
                        r.get("used")?,
                        r.get("limit")?,
                    ))
                })
            })
            .collect()
    }

    fn assert_exact(conn: &Connection, after: &str) {
        let (counts, states) = recount(conn);
        assert_eq!(
            rolled(conn),
            counts,
            "the rollup equals the guard's count after {after}"
        );
        let mut expected_totals: std::collections::BTreeMap<(String, String), (i64, i64)> = Default::default();
        for (a, m, _, used) in &counts {
            let t = expected_totals.entry((a.clone(), m.clone())).or_default();
            t.0 += 1;
            t.1 += used;
        }
        let expected_totals: Vec<_> = expected_totals
            .into_iter()
            .map(|((a, m), (users, used))| (a, m, users, used))
            .collect();
        assert_eq!(totals(conn), expected_totals, "totals after {after}");
        // Every user at their limit, by action, month and use (most first), as a full listing would filter them.
        let mut expected: Vec<_> = states.into_iter().filter(|s| s.3 >= s.4).collect();
        let order = |a: &str| ACTIONS.iter().position(|x| x.name == a).unwrap();
        expected.sort_by(|x, y| {
            (order(&x.0), &x.1, std::cmp::Reverse(x.3), &x.2).cmp(&(order(&y.0), &y.1, std::cmp::Reverse(y.3), &y.2))
        });
        assert_eq!(at_limit(conn), expected, "users at their limit after {after}");
    }

    #[test]
    fn the_usage_rollup_equals_the_guards_count_through_inserts_duplicates_deletes_moves_and_rewrites() {
        let conn = migrated();
        let rows = metered_rows(900);
        insert(&conn, &rows[..400]);
        assert_exact(&conn, "the first write");
        // A retried write: 300 stored keys again and 500 new rows.
        insert(&conn, &rows[100..]);
        assert_exact(&conn, "a write with duplicates");
        let set = |kind: &str, id: &str, action: &str, limit: i64| {
            conn.execute(
                sql::UPSERT_QUOTA_OVERRIDE,
                rusqlite::params![kind, id, action, limit, "2026-03-01T00:00:00.000Z"],
            )
            .unwrap();
        };
        // Limits low enough that some users reach them: a user's, a tenant's, and 0 (blocked).
        set("user", "u1", "compile", 3);
        set("user", "u2", "workflow_run", 0);
        set("tenant", "t2", "ai_tool_access", 2);
        assert_exact(&conn, "overrides");
        assert!(!at_limit(&conn).is_empty(), "the data puts someone at their limit");
        for change in [
            "DELETE FROM funnel_events WHERE id % 7 = 0",
            // The demo's backdating: rows move across quota months.
            "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '-2 days', '+13 minutes') WHERE id % 3 = 0",
            // A payload rewrite decides whether a tool event counts.
            "UPDATE funnel_events SET payload_json = json_set(payload_json, '$.action_type', \
             CASE json_extract(payload_json, '$.action_type') WHEN 'use' THEN 'view' ELSE 'use' END) \
             WHERE event_type = 'tool_interaction' AND id % 4 = 0",
            "UPDATE funnel_events SET payload_json = NULL WHERE id % 17 = 0",
            "UPDATE funnel_events SET event_type = 'compile_prompt' WHERE event_type = 'app_open' AND id % 2 = 0",
            "UPDATE funnel_events SET event_type = 'app_open' WHERE event_type = 'start_workflow' AND id % 5 = 0",
            "UPDATE funnel_events SET user_id = NULL WHERE id % 11 = 0",
            "UPDATE funnel_events SET user_id = 'u9' WHERE user_id IS NULL AND id % 2 = 1",
            // Erasure of a user, then retention of everything before April.
            "DELETE FROM funnel_events WHERE user_id = 'u3'",
            "DELETE FROM funnel_events WHERE ts < '2026-03-31T15:00:00.000Z'",
        ] {
            conn.execute(change, []).unwrap();
            assert_exact(&conn, change);
        }
        let months: Vec<String> = query(&conn, &Statement::new("SELECT DISTINCT month FROM usage_rollup"), |r| {
            r.get(0)
        });
        assert!(
            months.iter().all(|m| m.as_str() >= "2026-04"),
            "months emptied by retention leave no rows: {months:?}"
        );
        let empty_totals: i64 = conn
            .query_row("SELECT COUNT(*) FROM usage_totals WHERE month < '2026-04'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(empty_totals, 0);
    }

    #[test]
    fn a_rebuild_of_the_usage_rollup_equals_what_the_writes_kept() {
        let conn = migrated();
        insert(&conn, &metered_rows(600));
        conn.execute(
            "UPDATE funnel_events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', ts, '+5 days') WHERE id % 4 = 0",
            [],
        )
        .unwrap();
        let kept = (rolled(&conn), totals(&conn));
        for s in sql::CLEAR_ROLLUPS.into_iter().chain(sql::ROLL_UP_NEW_ROWS) {
            conn.execute(s, []).unwrap();
        }
        assert!(!kept.0.is_empty());
        assert_eq!((rolled(&conn), totals(&conn)), kept);
    }

    /// Rows the bulk loader or an older release stored before migration 0018
    /// are counted by its backfill.
    #[test]
    fn the_migration_backfills_the_rows_stored_before_it() {
        let conn = Connection::open_in_memory().unwrap();
        sqlite::apply_migrations(&conn, &sqlite::migrations_dir(), "", "0017");
        insert_rows_only(&conn, &metered_rows(500));
        sqlite::apply_migrations(&conn, &sqlite::migrations_dir(), "0017", "9999");
        assert_exact(&conn, "the migration");
    }

    fn insert_rows_only(conn: &Connection, rows: &[EventRow]) {
        for chunk in json_chunks(rows, 64 * 1024).unwrap() {
            let mut stmt = conn.prepare(sql::INSERT_EVENTS).unwrap();
            let mut out = stmt.query([chunk]).unwrap();
            while out.next().unwrap().is_some() {}
        }
    }

    #[test]
    fn the_counted_types_in_the_migration_are_the_catalogs() {
        let conn = migrated();
        let listed: Vec<(String, String, Option<String>, Option<String>)> =
            query(&conn, &Statement::new(sql::QUOTA_ACTION_TYPES), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            });
        let mut declared: Vec<_> = ACTIONS
            .iter()
            .flat_map(|a| {
                a.events.iter().map(|e| {
                    (
                        a.name.to_string(),
                        e.to_string(),
                        a.only_when.map(|(p, _)| format!("$.{p}")),
                        a.only_when.map(|(_, v)| v.to_string()),
                    )
                })
            })
            .collect();
        declared.sort();
        assert_eq!(
            listed, declared,
            "migration 0018's quota_action_types and catalog::quotas::ACTIONS agree"
        );
    }

    /// The month SQL gives a stored timestamp is the quota month `month_bounds` puts it in.
    #[test]
    fn the_sql_quota_month_of_a_timestamp_is_the_catalogs_month() {
        let conn = migrated();
        for (y, m) in [(2026, 1), (2026, 2), (2026, 12), (2027, 3), (2030, 10)] {
            let (from, to) = bounds(y, m);
            let last = to_stored(funnel::time::parse_rfc3339(&to).unwrap() - Duration::milliseconds(1));
            for ts in [&from, &last] {
                let label: String = conn
                    .query_row("SELECT substr(datetime(?1, '+9 hours'), 1, 7)", [ts], |r| r.get(0))
                    .unwrap();
                assert_eq!(label, format!("{y}-{m:02}"), "{ts}");
            }
        }
    }

    #[test]
    fn usage_reads_search_indexes() {
        let conn = migrated();
        insert(&conn, &metered_rows(300));
        conn.execute(
            sql::UPSERT_QUOTA_OVERRIDE,
            rusqlite::params!["user", "u1", "compile", 1, "2026-03-01T00:00:00.000Z"],
        )
        .unwrap();
        let range = all_months();
        let s = Statement::with(sql::QUOTA_USERS_AT_LIMIT, quota_binds(&range, &ACTIONS[0], None));
        assert_uses_indexes(&conn, "users at limit", &s);
        // Each month is one seek of the users who may be at their limit, never a walk of the month's users.
        let plan = plan(&conn, &s);
        assert!(
            plan.iter()
                .any(|l| l.contains("idx_usage_rollup_used (action=? AND month=? AND used>?)")),
            "{plan:#?}"
        );
        assert!(
            plan.iter()
                .all(|l| !l.starts_with("SCAN t") && !l.starts_with("SCAN g")),
            "{plan:#?}"
        );
    }
}

#[test]
fn retention_prunes_old_quarantine_and_counters_but_keeps_every_rollup_and_sketch() {
    // Archived hours stay in the rollups and sketches: summaries over archived ranges still answer.
    let conn = migrated();
    for p in ["2026-03-04T10", "2026-03-03", "2026-02", "2026-03-03@540"] {
        conn.execute(
            "INSERT INTO sketches (kind, scope, period, regs) VALUES ('u', 's:pluid', ?1, 'S1')",
            [p],
        )
        .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO event_rollup (hour, event_type, service, outcome, n, amount, sampled) VALUES ('2026-03-01T10', 'app_open', 'pluid', 1, 5, 0, 0);
         INSERT INTO event_volume (day, event_type, received) VALUES ('2026-03-01', 'app_open', 5), ('2026-03-05', 'app_open', 2);",
    )
    .unwrap();
    for q in sql::PRUNE_EXPIRED {
        conn.execute(q, ["2026-03-04T12:00:00.000Z"]).unwrap();
    }
    let n = |q: &str| conn.query_row(q, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(n("SELECT COUNT(*) FROM sketches"), 4);
    assert_eq!(n("SELECT COUNT(*) FROM event_rollup"), 1);
    assert_eq!(n("SELECT COUNT(*) FROM event_volume"), 1);
}

#[test]
fn alert_reads_seek_indexes_and_never_scan_events_or_the_rollup() {
    let (conn, _) = seeded(200);
    let types = Bind::json(&["app_open", "m_otp_send_result"]);
    let cases = [
        ("last seen", Statement::with(sql::LAST_SEEN_BY_TYPE, [types.clone()])),
        (
            "failure counts",
            Statement::with(
                sql::FAILURE_COUNTS,
                [
                    types,
                    Bind::text("2026-03-10T11"),
                    Bind::text("2026-03-10T13"),
                    Bind::text("2026-03-03T11"),
                    Bind::json(&["m_auth_login_fail"]),
                ],
            ),
        ),
        (
            "quarantined since",
            Statement::with(sql::QUARANTINED_SINCE, [Bind::text("2026-03-10T11:00:00.000Z")]),
        ),
    ];
    for (what, s) in cases {
        assert_uses_indexes(&conn, what, &s);
        let plan = plan(&conn, &s);
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN event_rollup")),
            "{what}: {plan:#?}"
        );
    }
}

/// The virtual machine steps SQLite takes to run `s` to its last row: the
/// work of a read, counted exactly (a b-tree seek is one step whatever the
/// table's size, so only rows visited add steps).
fn vm_steps(conn: &Connection, s: &Statement) -> i32 {
    let mut stmt = conn.prepare(&s.sql).unwrap();
    let mut out = stmt.query(params_from_iter(binds(s))).unwrap();
    while out.next().unwrap().is_some() {}
    drop(out);
    stmt.get_status(rusqlite::StatementStatus::VmStep)
}

#[test]
fn a_funnels_reads_grow_with_its_own_step_events_and_never_with_other_events() {
    let steps = ["m_auth_login_start", "m_auth_login_success"];
    let (from, to) = ("2026-03-01T00:00:00.000Z", "2026-03-25T00:00:00.000Z");
    let statements = || {
        vec![
            ("steps", sql::funnel_steps(from, to, &steps, None)),
            (
                "steps by domain",
                sql::funnel_steps(from, to, &steps, Some(funnel::report::funnel::Breakdown::EmailDomain)),
            ),
            (
                "errors",
                Statement::with(
                    sql::FUNNEL_ERRORS,
                    [Bind::text(from), Bind::text(to), Bind::json(&steps)],
                ),
            ),
        ]
    };
    // Step events (some failing) on their own traces and users.
    let step_rows = |n: usize, offset: usize| -> Vec<EventRow> {
        rows(n * 5)
            .into_iter()
            .filter(|r| steps.contains(&r.event_type.as_str()))
            .take(n)
            .map(|mut r| {
                r.event_id = format!("step{offset}_{}", r.event_id);
                r.trace_id = r.trace_id.map(|t| format!("{t}_{offset}"));
                r.user_id = r.user_id.map(|u| format!("{u}_{offset}"));
                r
            })
            .collect()
    };
    let work = |conn: &Connection| -> Vec<i32> { statements().iter().map(|(_, s)| vm_steps(conn, s)).collect() };

    let conn = migrated();
    insert(&conn, &step_rows(400, 0));
    let alone = work(&conn);

    // Ten times as many other events in the same range: other types on the
    // funnel's own traces and users (not failing), and other types failing on
    // other traces and users.
    let mut others = rows(8000);
    others.retain(|r| !steps.contains(&r.event_type.as_str()));
    for (i, r) in others.iter_mut().enumerate() {
        r.event_id = format!("other{i}");
        if r.error_code.is_some() {
            r.trace_id = Some(format!("other_trace_{i}"));
            r.user_id = Some(format!("other_user_{i}"));
        }
    }
    assert!(others.len() >= 4000);
    insert(&conn, &others);
    let with_others = work(&conn);
    // A range read may take one more step to find where it ends when a
    // neighbour follows its last row: at most a few per step type, never per row.
    for (((what, _), a), b) in statements().iter().zip(&alone).zip(&with_others) {
        assert!(
            (*a..=*a + 8).contains(b),
            "funnel {what}: {a} steps alone, {b} with ten times as many other events"
        );
    }

    // Twice its step events (of as many more subjects): the work grows with them.
    insert(&conn, &step_rows(400, 1));
    let doubled = work(&conn);
    for (((what, _), a), b) in statements().iter().zip(&alone).zip(&doubled) {
        assert!(
            *b as f64 > 1.6 * *a as f64,
            "funnel {what}: {a} steps, {b} with twice its step events"
        );
    }
}
