//! How far the overview's distinct users and sessions (HyperLogLog sketches)
//! are from the exact counts, on a local database file (the benchmark's
//! bulk-loaded shapes):
//!
//!     cargo run --release --example distinct_error -- <sqlite file> [tz]
//!
//! For the overview's ranges (today, 14, 90 and 400 days, ending today in
//! `tz`), per service and for all services together, it prints the estimate,
//! the exact `COUNT(DISTINCT ...)` over the rows and the relative error, and
//! a last line `max_error <percent>` (the benchmark reads it).

use chrono::Utc;
use funnel::query::params::Params;
use funnel::report::links::LinkBases;
use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;
use funnel::usecases::overview;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: distinct_error <sqlite file> [tz]");
        std::process::exit(2);
    };
    let tz = args.next().unwrap_or_else(|| "Asia/Seoul".into());
    let store = SqlStore::new(Sqlite::from_connection(
        rusqlite::Connection::open(&path).expect("opens"),
    ));
    let now = Utc::now();
    let date = |days: i64| (now + chrono::Duration::days(days)).format("%Y-%m-%d").to_string();
    let mut worst: f64 = 0.0;
    println!("| range | scope | users: estimate / exact | error | sessions: estimate / exact | error |");
    println!("|---|---|---|---|---|---|");
    for (label, from) in [("today", 0), ("14 days", -13), ("90 days", -89), ("400 days", -399)] {
        let params = Params::parse(
            [("from", date(from)), ("to", date(1)), ("tz", tz.clone())],
            &["from", "to", "tz"],
        )
        .unwrap();
        let o = pollster::block_on(overview::overview(&store, &params, &LinkBases::default(), now)).expect("overview");
        let conn = store.backend().connection();
        let exact = |column: &str, service: Option<&str>| -> i64 {
            // Column names cannot be bound; each is one of two constants.
            let sql = format!(
                "SELECT COUNT(DISTINCT {column}) FROM funnel_events WHERE ts >= ?1 AND ts < ?2 AND (?3 IS NULL OR service = ?3)"
            );
            conn.query_row(&sql, rusqlite::params![o.from, o.to, service], |r| r.get(0))
                .unwrap()
        };
        let mut rows: Vec<(String, i64, i64, i64, i64)> = o
            .services
            .iter()
            .map(|s| {
                (
                    s.service.to_string(),
                    s.users,
                    exact("user_id", Some(s.service)),
                    s.sessions,
                    exact("session_id", Some(s.service)),
                )
            })
            .collect();
        rows.push((
            "all services".into(),
            o.totals.users,
            exact("user_id", None),
            o.totals.sessions,
            exact("session_id", None),
        ));
        for (scope, users, users_exact, sessions, sessions_exact) in rows {
            let error = |estimate: i64, exact: i64| {
                if exact == 0 {
                    if estimate == 0 {
                        0.0
                    } else {
                        100.0
                    }
                } else {
                    100.0 * (estimate - exact).abs() as f64 / exact as f64
                }
            };
            let (eu, es) = (error(users, users_exact), error(sessions, sessions_exact));
            worst = worst.max(eu).max(es);
            println!("| {label} | {scope} | {users} / {users_exact} | {eu:.2} % | {sessions} / {sessions_exact} | {es:.2} % |");
        }
    }
    println!("max_error {worst:.2}");
}
