//! Retention through the archive: expired hours become verified gzip NDJSON
//! objects before their rows leave D1; rollups stay; the export reads the
//! archived hours so every event comes back exactly once.

use std::collections::HashSet;

use chrono::Duration;
use funnel::archive::hour::{self, ArchivedHour};
use funnel::usecases::retention::{self, RetentionRun, MAX_HOURS_PER_RUN};

use super::harness::{count, dump, old_row, store_unchecked, Service};

const DAYS: i64 = 30;
/// now() is 2026-03-10T12:00Z: with 30 days, hours before this expire.
const CUTOFF: &str = "2026-02-08T12:00:00.000Z";
const TABLES: [&str; 6] = [
    "event_rollup",
    "event_day_rollup",
    "property_rollup",
    "property_day_rollup",
    "currency_rollup",
    "usage_rollup",
];
/// The last one's `scope` and `action` are rolled up by hour and by day (the "top value" KPIs).
const TYPES: [&str; 4] = [
    "m_otp_send",
    "m_auth_login_start",
    "m_auth_login_fail",
    "command_executed",
];

/// 60 events 97 minutes apart from 2026-02-07T00:00Z: 23 in expired hours (each its own hour).
fn service_with_rows() -> Service {
    service_with_rows_where(|_| true)
}

/// The same events, of those whose index `keep` accepts (event `i` is user `u{i % 4}`'s).
fn service_with_rows_where(keep: impl Fn(i64) -> bool) -> Service {
    let s = Service::new();
    let start = funnel::time::parse_rfc3339("2026-02-07T00:00:00Z").unwrap();
    let rows: Vec<_> = (0..60)
        .filter(|i| keep(*i))
        .map(|i| {
            let ts = funnel::time::to_stored(start + Duration::minutes(97 * i));
            let mut row = old_row(
                &format!("e{i}"),
                &ts,
                TYPES[i as usize % 4],
                None,
                serde_json::json!({ "n": i, "scope": "doc", "action": format!("a{}", i % 2) }),
            );
            row.user_id = Some(format!("u{}", i % 4));
            row.success = Some(u8::from(i % 5 != 0));
            row
        })
        .collect();
    store_unchecked(s.db(), &rows);
    s
}

fn expired(s: &Service) -> i64 {
    count(s, &format!("SELECT COUNT(*) FROM funnel_events WHERE ts < '{CUTOFF}'"))
}

fn rollups(s: &Service) -> Vec<Vec<Vec<String>>> {
    TABLES.iter().map(|t| dump(s, t)).collect()
}

fn run(s: &Service) -> RetentionRun {
    pollster::block_on(retention::run(&s.app.store, &*s.archive, DAYS, s.app.now)).unwrap()
}

fn run_until_done(s: &Service) -> Vec<RetentionRun> {
    let mut runs = vec![run(s)];
    while !runs.last().unwrap().done {
        assert!(runs.len() < 10, "{runs:?}");
        runs.push(run(s));
    }
    runs
}

fn manifests(s: &Service) -> Vec<ArchivedHour> {
    pollster::block_on(funnel::store::EventStore::archived_hours_in(
        &s.app.store,
        "2000-01-01T00:00:00.000Z",
        "2100-01-01T00:00:00.000Z",
        10_000,
    ))
    .unwrap()
}

/// Every event id in the bucket's objects, each checked against its D1 manifest.
fn archived_ids(s: &Service) -> Vec<String> {
    let mut ids = Vec::new();
    for m in manifests(s) {
        let bytes = s.archive.object(&m.object_key).expect("the object of a manifest row");
        ids.extend(hour::verify(&bytes, &m).unwrap().into_iter().map(|e| e.event_id));
    }
    ids
}

fn summary(s: &Service) -> serde_json::Value {
    let a = s.get("/internal/funnel-events/summary?from=2026-02-01&to=2026-03-10");
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

#[test]
fn retention_archives_each_expired_hour_then_deletes_it_and_the_rollups_stay() {
    let s = service_with_rows();
    let (before, totals) = (rollups(&s), summary(&s));
    let to_archive = expired(&s);
    assert_eq!(to_archive, 23);

    let runs = run_until_done(&s);
    // 23 hours at most 12 a run: bounded, and finished by the second run.
    assert_eq!(
        runs.iter().map(|r| r.hours).collect::<Vec<_>>(),
        [MAX_HOURS_PER_RUN, 11]
    );
    assert_eq!(runs.iter().map(|r| r.deleted).sum::<u64>(), 23);
    assert_eq!(expired(&s), 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM funnel_events"), 60 - 23);

    // One object and one manifest per hour, named by the hour; the manifests count every row.
    let m = manifests(&s);
    assert_eq!(m.len(), 23);
    assert_eq!(m.iter().map(|m| m.rows).sum::<i64>(), 23);
    for m in &m {
        assert_eq!(m.object_key, hour::object_key(&m.hour));
        let beside: ArchivedHour =
            serde_json::from_slice(&s.archive.object(&hour::manifest_key(&m.hour)).unwrap()).unwrap();
        assert_eq!(&beside, m);
    }
    let ids = archived_ids(&s);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 23);

    // Deleting archived rows subtracts nothing: rollups and summaries are unchanged.
    assert_eq!(rollups(&s), before);
    assert_eq!(summary(&s)["totals"], totals["totals"]);
}

#[test]
fn a_put_that_fails_leaves_the_rows_in_d1_and_the_next_run_archives_them() {
    let s = service_with_rows();
    s.archive.fail_next_puts(1);
    assert!(pollster::block_on(retention::run(&s.app.store, &*s.archive, DAYS, s.app.now)).is_err());
    assert_eq!(expired(&s), 23);
    assert!(manifests(&s).is_empty());

    run_until_done(&s);
    assert_eq!(expired(&s), 0);
    let ids = archived_ids(&s);
    assert_eq!((ids.len(), ids.iter().collect::<HashSet<_>>().len()), (23, 23));
}

#[test]
fn an_object_that_reads_back_damaged_is_never_trusted_and_nothing_is_deleted() {
    let s = service_with_rows();
    s.archive.corrupt_reads(true);
    let failed = pollster::block_on(retention::run(&s.app.store, &*s.archive, DAYS, s.app.now));
    assert!(failed.unwrap_err().to_string().contains("SHA-256"));
    assert_eq!(expired(&s), 23);
    assert!(manifests(&s).is_empty());
    s.archive.corrupt_reads(false);
    run_until_done(&s);
    assert_eq!(expired(&s), 0);
}

#[test]
fn rows_left_in_d1_or_arriving_late_for_an_archived_hour_are_merged_once() {
    let s = service_with_rows();
    let sql = |q: &str| s.db().connection().execute_batch(q).unwrap();
    // Three rows as a run stopped between its verified put and its delete would leave them.
    sql(&format!(
        "CREATE TABLE kept AS SELECT * FROM funnel_events WHERE ts < '{CUTOFF}' ORDER BY ts LIMIT 3"
    ));
    run_until_done(&s);
    sql("INSERT INTO funnel_events SELECT * FROM kept");
    // And a late event of an archived hour.
    store_unchecked(
        s.db(),
        &[old_row(
            "late",
            "2026-02-07T00:30:00.000Z",
            "m_otp_send",
            None,
            serde_json::json!({}),
        )],
    );
    let before = rollups(&s);
    run_until_done(&s);
    assert_eq!(expired(&s), 0);
    let ids = archived_ids(&s);
    assert_eq!((ids.len(), ids.iter().collect::<HashSet<_>>().len()), (24, 24));
    assert!(ids.contains(&"late".to_string()));
    assert_eq!(manifests(&s).len(), 23, "the late event joined its hour's object");
    assert_eq!(rollups(&s), before);
}

#[test]
fn the_export_reads_archived_hours_so_every_event_comes_back_once_and_in_order() {
    let s = service_with_rows();
    let range = "from=2026-02-01&to=2026-03-10";
    let queries = [
        String::new(),
        "&type=m_auth_login_fail".into(),
        "&success=false".into(),
        "&success=true&user_id=u1".into(),
        "&format=ga4".into(),
    ];
    let export = |q: &str| s.drain_export(s.get(&format!("/internal/funnel-events/export?{range}{q}")));
    let before: Vec<String> = queries.iter().map(|q| export(q)).collect();
    assert!(before[0].lines().count() == 61 && before[1].lines().count() > 1);
    run_until_done(&s);
    assert_eq!(expired(&s), 0);
    for (q, was) in queries.iter().zip(&before) {
        assert_eq!(&export(q), was, "export with {q:?} differs across the boundary");
    }
    // A range wholly in the archive.
    let old = export_lines(&s, "from=2026-02-07&to=2026-02-08");
    assert_eq!(old, 1 + 15);
}

fn export_lines(s: &Service, query: &str) -> usize {
    s.drain_export(s.get(&format!("/internal/funnel-events/export?{query}")))
        .lines()
        .count()
}

#[test]
fn an_export_over_archived_hours_without_the_bucket_is_a_503_not_a_silent_gap() {
    let mut s = service_with_rows();
    run_until_done(&s);
    s.app.archive = None;
    let a = s.get("/internal/funnel-events/export?from=2026-02-01&to=2026-03-10");
    assert_eq!((a.status, a.code()), (503, "archive_unavailable"));
    // A range of the hot window alone needs no bucket.
    assert_eq!(export_lines(&s, "from=2026-02-09&to=2026-03-10"), 1 + 30);
}

#[test]
fn the_archive_routes_list_the_manifest_and_serve_each_verified_object() {
    let s = service_with_rows();
    run_until_done(&s);
    let listing = s.get("/internal/archive/hours?from=2026-02-01&to=2026-03-10");
    assert_eq!(listing.status, 200, "{:?}", listing.body);
    assert_eq!(listing.body["rows"], 23);
    let hours = listing.body["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 23);
    assert_eq!(hours[0]["hour"], "2026-02-08T11", "newest first");

    let one = s.get("/internal/archive/hours/2026-02-07T00");
    assert_eq!(one.status, 200);
    let funnel::api::reply::Body::Bytes(bytes) = &one.reply.body else {
        panic!("bytes")
    };
    let header = |name: &str| {
        one.reply
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("content-type").as_deref(), Some("application/gzip"));
    assert_eq!(header("x-archive-sha256"), Some(hour::sha256_hex(bytes)));
    let events = hour::decode(bytes).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_id, "e0");

    for (target, status, code) in [
        ("/internal/archive/hours/2026-02-07", 400, "invalid_hour"),
        ("/internal/archive/hours/2026-03-01T00", 404, "not_found"),
    ] {
        let a = s.get(target);
        assert_eq!((a.status, a.code()), (status, code), "{target}");
    }
    s.archive.corrupt_reads(true);
    let damaged = s.get("/internal/archive/hours/2026-02-07T00");
    assert_eq!((damaged.status, damaged.code()), (503, "archive_unavailable"));
}

mod dead_letters {
    use super::*;
    use funnel::usecases::dead_letter;
    use serde_json::json;

    /// A queued message as the producer writes it, holding one event.
    fn queued_message(event_id: &str) -> String {
        let queue = Service::with_queue(super::super::harness::config(&[("INGEST_MODE", "queue")]));
        let a = queue.ingest(json!([{ "event_type": "m_otp_send", "event_id": event_id }]));
        assert_eq!(a.status, 202, "{:?}", a.body);
        queue.spool().drain().pop().unwrap()
    }

    fn replay(s: &Service, after: Option<&str>) -> super::super::harness::Answer {
        let target = match after {
            Some(a) => format!("/internal/dead-letter/replay?after={a}"),
            None => "/internal/dead-letter/replay".into(),
        };
        s.with_key(funnel::api::Method::Post, &target, &json!(null))
    }

    #[test]
    fn dead_letters_are_kept_in_the_bucket_and_a_replay_stores_them_once() {
        let s = Service::new();
        let message = queued_message("dl-1");
        let key = pollster::block_on(dead_letter::keep(&*s.archive, "msg/1", &message, s.app.now)).unwrap();
        assert_eq!(key, "dead-letter/2026/03/10/msg_1.json");
        pollster::block_on(dead_letter::keep(
            &*s.archive,
            "msg-2",
            "not a queued message",
            s.app.now,
        ))
        .unwrap();

        let a = replay(&s, None);
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(
            (
                a.body["examined"].clone(),
                a.body["stored"].clone(),
                a.body["inserted"].clone(),
                a.body["kept"].clone()
            ),
            (json!(2), json!(1), json!(1), json!(1))
        );
        assert_eq!(
            count(&s, "SELECT COUNT(*) FROM funnel_events WHERE event_id = 'dl-1'"),
            1
        );
        // The stored message left the bucket; the unreadable one stays for a look.
        assert_eq!(s.archive.keys(), ["dead-letter/2026/03/10/msg-2.json"]);
        let again = replay(&s, None);
        assert_eq!(
            (again.body["stored"].clone(), again.body["kept"].clone()),
            (json!(0), json!(1))
        );
        assert_eq!(
            count(&s, "SELECT COUNT(*) FROM funnel_events WHERE event_id = 'dl-1'"),
            1
        );
    }

    #[test]
    fn a_failed_put_is_an_error_so_the_message_is_retried_not_acknowledged() {
        let s = Service::new();
        s.archive.fail_next_puts(1);
        assert!(pollster::block_on(dead_letter::keep(&*s.archive, "m", "{}", s.app.now)).is_err());
        assert!(s.archive.keys().is_empty());
    }

    #[test]
    fn a_replay_pages_with_after_and_refuses_a_foreign_position() {
        let s = Service::new();
        for i in 0..dead_letter::MAX_REPLAY + 3 {
            pollster::block_on(dead_letter::keep(&*s.archive, &format!("m{i:03}"), "junk", s.app.now)).unwrap();
        }
        let first = replay(&s, None);
        assert_eq!(first.body["examined"], dead_letter::MAX_REPLAY);
        let after = first.body["next_after"].as_str().unwrap().to_string();
        let second = replay(&s, Some(&after));
        assert_eq!(
            (second.body["examined"].clone(), second.body["next_after"].clone()),
            (json!(3), json!(null))
        );
        let bad = replay(&s, Some("events/2026"));
        assert_eq!((bad.status, bad.code()), (400, "invalid_after"));
    }
}

/// Every archived event, each object checked against its D1 manifest.
fn archived_events(s: &Service) -> Vec<funnel::record::StoredEvent> {
    let mut events = Vec::new();
    for m in manifests(s) {
        let bytes = s.archive.object(&m.object_key).expect("the object of a manifest row");
        events.extend(hour::verify(&bytes, &m).unwrap());
    }
    events
}

/// Σ per rollup table of its measure, per event type (the rows that are not zero).
fn rollup_totals(s: &Service) -> Vec<Vec<Vec<String>>> {
    [
        "SELECT event_type, round(SUM(n), 6), round(SUM(errored), 6) FROM event_rollup GROUP BY 1 HAVING SUM(n) <> 0",
        "SELECT event_type, round(SUM(n), 6) FROM event_day_rollup GROUP BY 1 HAVING SUM(n) <> 0",
        "SELECT event_type, property, value, round(SUM(n), 6) FROM property_rollup GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
        "SELECT event_type, property, value, round(SUM(n), 6) FROM property_day_rollup GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
        "SELECT user_id, action, month, used FROM usage_rollup WHERE used <> 0 ORDER BY 1, 2, 3",
    ]
    .iter()
    .map(|q| dump(s, &format!("({q})")))
    .collect()
}

fn erase_u1(s: &Service) -> serde_json::Value {
    let a = s.with_key(
        funnel::api::Method::Post,
        "/internal/erasure",
        &serde_json::json!({ "user_id": "u1" }),
    );
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

/// The rows archived, and the same service where u1 never sent anything:
/// what must exist after u1's erasure.
fn archived_with_and_without_u1() -> (Service, Service) {
    let s = service_with_rows();
    run_until_done(&s);
    let without = service_with_rows_where(|i| i % 4 != 1);
    run_until_done(&without);
    (s, without)
}

fn u1_left(s: &Service) -> (i64, usize) {
    let in_d1 = count(s, "SELECT COUNT(*) FROM funnel_events WHERE user_id = 'u1'");
    let archived = archived_events(s)
        .iter()
        .filter(|e| e.user_id.as_deref() == Some("u1"))
        .count();
    (in_d1, archived)
}

#[test]
fn erasure_rewrites_the_archived_hours_holding_the_subject_and_the_rollups_lose_exactly_those_events() {
    let (s, without) = archived_with_and_without_u1();
    // And a late event of u1 in an archived hour, not archived yet (its delete
    // alone would not leave the rollups: archived hours' deletes do not subtract).
    let mut late = old_row(
        "late",
        "2026-02-07T00:30:00.000Z",
        "m_otp_send",
        None,
        serde_json::json!({}),
    );
    late.user_id = Some("u1".into());
    store_unchecked(s.db(), &[late]);
    // u1 has 16 events: 6 archived (in 6 hour objects) and 10 in D1.
    assert_eq!(u1_left(&s), (10, 6));
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM archived_subjects WHERE subject_kind = 'user_id' AND subject = 'u1'"
        ),
        6
    );
    let untouched: Vec<String> = manifests(&s)
        .iter()
        .filter(|m| {
            !archived_events(&s)
                .iter()
                .any(|e| e.user_id.as_deref() == Some("u1") && hour::hour_of(&e.ts) == m.hour)
        })
        .map(|m| m.sha256.clone())
        .collect();

    let receipt = erase_u1(&s);
    assert_eq!(receipt["done"], true, "{receipt}");
    assert_eq!(
        (receipt["events_deleted"].as_i64(), receipt["archived_deleted"].as_i64()),
        (Some(10), Some(6))
    );

    // No row and no object holds u1; every other event is where it was, once.
    assert_eq!(u1_left(&s), (0, 0));
    let mut ids: Vec<String> = archived_events(&s).into_iter().map(|e| e.event_id).collect();
    let mut expected: Vec<String> = archived_events(&without).into_iter().map(|e| e.event_id).collect();
    ids.sort();
    expected.sort();
    assert_eq!((ids.len(), &ids), (17, &expected));
    // Hours without u1 were not rewritten; the bucket's manifests match D1's.
    let after: Vec<ArchivedHour> = manifests(&s);
    assert!(untouched.iter().all(|sha| after.iter().any(|m| &m.sha256 == sha)));
    for m in &after {
        let beside: ArchivedHour =
            serde_json::from_slice(&s.archive.object(&hour::manifest_key(&m.hour)).unwrap()).unwrap();
        assert_eq!(&beside, m);
    }
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM archived_subjects WHERE subject = 'u1'"),
        0
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM archive_rewrites"), 0);
    // The rollups count what exists, as if u1 had never sent anything.
    assert_eq!(rollup_totals(&s), rollup_totals(&without));
    assert_eq!(summary(&s)["totals"], summary(&without)["totals"]);
}

#[test]
fn a_failed_archive_write_leaves_the_object_intact_and_the_erasure_resumes_without_debiting_twice() {
    let (s, without) = archived_with_and_without_u1();
    let before: Vec<ArchivedHour> = manifests(&s);

    s.archive.fail_next_puts(1);
    let receipt = erase_u1(&s);
    assert_eq!(receipt["done"], false, "{receipt}");
    // D1 is clean; the archive is as it was, every object still its manifest's.
    assert_eq!(u1_left(&s), (0, 6));
    assert_eq!(manifests(&s), before);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM archive_rewrites"), 1);
    let id = receipt["id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("/internal/erasure/{id}")).body["done"], false);

    // The cron's share resumes it.
    let archive: &dyn funnel::archive::ArchiveStore = &*s.archive;
    pollster::block_on(funnel::usecases::erasure::continue_unfinished(
        &s.app.store,
        Some(archive),
        s.app.now,
    ))
    .unwrap();
    let progress = s.get(&format!("/internal/erasure/{id}")).body;
    assert_eq!(
        (progress["done"].as_bool(), progress["archived_deleted"].as_i64()),
        (Some(true), Some(6))
    );
    assert_eq!(u1_left(&s), (0, 0));
    assert_eq!(archived_events(&s).len(), 17);
    assert_eq!(rollup_totals(&s), rollup_totals(&without));
}

#[test]
fn a_rebuild_from_the_rows_is_refused_once_hours_are_archived_and_keeps_what_they_contributed() {
    let s = service_with_rows();
    // Before any hour is archived a rebuild runs.
    let step = s.with_key(
        funnel::api::Method::Post,
        "/internal/sketches/rebuild",
        &serde_json::json!({}),
    );
    assert_eq!(step.status, 200, "{:?}", step.body);
    assert!(pollster::block_on(funnel::usecases::sketches::refuse_once_archived(&s.app.store)).is_ok());

    run_until_done(&s);
    let (before, sketches) = (rollups(&s), dump(&s, "sketches"));
    let refused = s.with_key(
        funnel::api::Method::Post,
        "/internal/sketches/rebuild",
        &serde_json::json!({}),
    );
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "archived_hours_present");
    assert!(refused.body["detail"].as_str().unwrap().contains("2026-02-08T11"));
    assert!(pollster::block_on(funnel::usecases::sketches::refuse_once_archived(&s.app.store)).is_err());
    assert_eq!((rollups(&s), dump(&s, "sketches")), (before, sketches));
}

/// `hours` expired events one an hour from 2026-01-01T00:30Z (each its own
/// archived hour once retention ran) and 5 recent ones in D1.
fn service_with_archived_hours(hours: i64) -> Service {
    let s = Service::new();
    let start = funnel::time::parse_rfc3339("2026-01-01T00:30:00Z").unwrap();
    let recent = funnel::time::parse_rfc3339("2026-03-01T00:30:00Z").unwrap();
    let rows: Vec<_> = (0..hours)
        .map(|i| start + Duration::hours(i))
        .chain((0..5).map(|i| recent + Duration::hours(i)))
        .enumerate()
        .map(|(i, t)| {
            old_row(
                &format!("h{i}"),
                &funnel::time::to_stored(t),
                "m_otp_send",
                None,
                serde_json::json!({}),
            )
        })
        .collect();
    store_unchecked(s.db(), &rows);
    while !run(&s).done {}
    assert_eq!(manifests(&s).len() as i64, hours);
    s
}

/// An export request's event ids (CSV rows after the header) and its continuation
/// through older archived hours.
fn export_request(s: &Service, query: &str) -> (Vec<String>, Option<String>) {
    let (ids, next) = export_answer(s, query);
    assert_eq!(next.cursor, None, "no more D1 rows than one request returns");
    (ids, next.archived_before)
}

/// Where an export answer says the next request continues.
#[derive(Debug, PartialEq)]
struct Continuation {
    /// `x-export-next-cursor`: more D1 rows.
    cursor: Option<String>,
    /// `x-export-next-archived-before`: older archived hours.
    archived_before: Option<String>,
}

fn export_answer(s: &Service, query: &str) -> (Vec<String>, Continuation) {
    let answer = s.get(&format!(
        "/internal/funnel-events/export?from=2025-12-01&to=2026-03-10{query}"
    ));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let header = |wanted: &str| {
        answer
            .reply
            .headers
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, v)| v.clone())
    };
    let next = Continuation {
        cursor: header("x-export-next-cursor"),
        archived_before: header("x-export-next-archived-before"),
    };
    let body = s.drain_export(answer);
    let ids = body
        .lines()
        .skip(1)
        .map(|l| l.split(',').find(|c| c.starts_with('h')).unwrap().to_string())
        .collect();
    (ids, next)
}

/// Adds `n` events to D1 one second apart from 2026-03-02T00:00Z (after the
/// recent ones of [`service_with_archived_hours`]), ids `hot{first}`….
fn add_hot_rows(s: &Service, first: usize, n: usize) {
    let start = funnel::time::parse_rfc3339("2026-03-02T00:00:00Z").unwrap();
    let rows: Vec<_> = (first..first + n)
        .map(|i| {
            let ts = funnel::time::to_stored(start + Duration::seconds(i as i64));
            old_row(&format!("hot{i}"), &ts, "m_otp_send", None, serde_json::json!({}))
        })
        .collect();
    store_unchecked(s.db(), &rows);
}

#[test]
fn an_export_past_one_request_of_d1_rows_continues_by_cursor_and_then_reads_the_archive_every_event_once() {
    use funnel::usecases::events::EXPORT_ROWS;
    // 3 archived hours, and exactly as many D1 rows as one request returns: one request.
    let s = service_with_archived_hours(3);
    add_hot_rows(&s, 0, EXPORT_ROWS - 5);
    let (ids, next) = export_answer(&s, "");
    assert_eq!(ids.len(), EXPORT_ROWS + 3);
    assert_eq!(
        next,
        Continuation {
            cursor: None,
            archived_before: None
        }
    );

    // One D1 row more: the first request ends at its 100,000th row and says where
    // the next begins; that one returns the last D1 row, then the archived hours.
    add_hot_rows(&s, EXPORT_ROWS - 5, 1);
    let (first, next) = export_answer(&s, "");
    assert_eq!(first.len(), EXPORT_ROWS);
    // Newest first: every added row, then the recent ones down to h4.
    assert_eq!(first.last().map(String::as_str), Some("h4"));
    let cursor = next.cursor.expect("a continuation");
    assert_eq!(next.archived_before, None);
    let (rest, after) = export_answer(&s, &format!("&cursor={cursor}"));
    assert_eq!(
        after,
        Continuation {
            cursor: None,
            archived_before: None
        }
    );
    assert_eq!(rest, ["h3", "h2", "h1", "h0"]);
    let all: HashSet<&String> = first.iter().chain(&rest).collect();
    assert_eq!(all.len(), EXPORT_ROWS + 1 + 3, "every event once");

    // Older archived hours after that request are asked for with the same query
    // (its cursor included) plus `archived_before`: only those hours come.
    let (older, after) = export_answer(&s, &format!("&cursor={cursor}&archived_before=2026-01-01T02"));
    assert_eq!(older, ["h1", "h0"]);
    assert_eq!(
        after,
        Continuation {
            cursor: None,
            archived_before: None
        }
    );
}

#[test]
fn an_export_reads_as_many_archived_hours_as_one_request_may_and_says_where_to_continue() {
    use funnel::usecases::events::EXPORT_ARCHIVED_HOURS;
    // At the limit: one request, no continuation.
    let s = service_with_archived_hours(EXPORT_ARCHIVED_HOURS as i64);
    let (ids, next) = export_request(&s, "");
    assert_eq!((ids.len(), next), (EXPORT_ARCHIVED_HOURS + 5, None));

    // One hour past it: the first request reads D1's rows and the newest
    // hours, and names the oldest hour it read; the continuation reads the rest.
    let s = service_with_archived_hours(EXPORT_ARCHIVED_HOURS as i64 + 1);
    let (first, next) = export_request(&s, "");
    assert_eq!(first.len(), EXPORT_ARCHIVED_HOURS + 5);
    assert_eq!(next.as_deref(), Some("2026-01-01T01"));
    let (rest, after) = export_request(&s, &format!("&archived_before={}", next.unwrap()));
    assert_eq!((rest, after), (vec!["h0".to_string()], None));
    let all: HashSet<&String> = first.iter().collect();
    assert_eq!(all.len(), EXPORT_ARCHIVED_HOURS + 5, "every event once");

    let bad = s.get("/internal/funnel-events/export?archived_before=2026-01-01");
    assert_eq!((bad.status, bad.code()), (400, "invalid_archived_before"));
}

fn total_events(summary: &serde_json::Value) -> i64 {
    summary["totals"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum()
}

#[test]
fn a_summary_edge_inside_an_archived_hour_takes_the_whole_hour_so_nothing_archived_is_missed() {
    let s = service_with_rows();
    // Events at 01:37, 03:14, 04:51, 06:28 and 08:05: both edges' hours hold one.
    let inside = "/internal/funnel-events/summary?from=2026-02-07T01:10:00Z&to=2026-02-07T08:20:00Z";
    let before = s.get(inside).body;
    assert_eq!(total_events(&before), 5);
    assert_eq!(before["from"], "2026-02-07T01:10:00.000Z");

    run_until_done(&s);
    let after = s.get(inside).body;
    assert_eq!(total_events(&after), 5, "{after}");
    // The answer states the range it counted: whole archived hours at both edges.
    assert_eq!(
        (after["from"].as_str(), after["to"].as_str()),
        (Some("2026-02-07T01:00:00.000Z"), Some("2026-02-07T09:00:00.000Z"))
    );
    // An edge in the hot window stays as asked (its rows are there).
    let mixed = s
        .get("/internal/funnel-events/summary?from=2026-02-07T01:10:00Z&to=2026-03-09T10:30:00Z")
        .body;
    assert_eq!(
        (mixed["from"].as_str(), mixed["to"].as_str()),
        (Some("2026-02-07T01:00:00.000Z"), Some("2026-03-09T10:30:00.000Z"))
    );
    assert_eq!(total_events(&mixed), 59);
    // The overview widens the same way.
    let overview = s
        .get("/api/overview?from=2026-02-07T01:10:00Z&to=2026-02-07T08:20:00Z")
        .body;
    assert_eq!(overview["from"], "2026-02-07T01:00:00.000Z", "{overview}");
}
