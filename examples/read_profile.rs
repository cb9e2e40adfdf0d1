//! Where a console read spends its time, statement by statement, on a local
//! database file (the benchmark's bulk-loaded shapes, a copy of the local D1):
//!
//!     FUNNEL_SQL_TIMING=1 cargo run --release --example read_profile -- <sqlite file> [tz]
//!
//! Runs the console's aggregate reads natively over the same statements as
//! the worker (SQLite is D1's engine) and prints each read's total time; with
//! FUNNEL_SQL_TIMING set, each statement's time and row count too.

use std::time::Instant;

use chrono::Utc;
use funnel::query::params::Params;
use funnel::report::links::LinkBases;
use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;
use funnel::usecases::{catalog, funnels, overview, summary, usage};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: read_profile <sqlite file> [tz]");
        std::process::exit(2);
    };
    let tz = args.next().unwrap_or_else(|| "Asia/Seoul".into());
    let store = SqlStore::new(Sqlite::from_connection(
        rusqlite::Connection::open(&path).expect("opens"),
    ));
    let now = Utc::now();
    // Ranges end with today (`to` is exclusive: tomorrow's date).
    let today = now.format("%Y-%m-%d").to_string();
    let tomorrow = (now + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let days_ago = |n: i64| (now - chrono::Duration::days(n)).format("%Y-%m-%d").to_string();
    let range = |from: String| {
        Params::parse(
            [("from", from), ("to", tomorrow.clone()), ("tz", tz.clone())],
            &["from", "to", "tz"],
        )
        .unwrap()
    };
    let none = Params::parse(Vec::<(String, String)>::new(), &[]).unwrap();
    let time = |name: &str, f: &mut dyn FnMut() -> bool| {
        eprintln!("{name}");
        let t = Instant::now();
        let ok = f();
        println!(
            "{name:<28} {:>8.1} ms{}",
            t.elapsed().as_secs_f64() * 1e3,
            if ok { "" } else { "  (error)" }
        );
    };
    let links = LinkBases::default();
    time("overview, 14 days", &mut || {
        pollster::block_on(overview::overview(&store, &range(days_ago(13)), &links, now)).is_ok()
    });
    time("overview, today", &mut || {
        pollster::block_on(overview::overview(&store, &range(today.clone()), &links, now)).is_ok()
    });
    time("catalog, 14 days", &mut || {
        pollster::block_on(catalog::catalog(&store, &range(days_ago(13)), now)).is_ok()
    });
    time("summary, 14 days", &mut || {
        pollster::block_on(summary::summary(&store, &range(days_ago(13)), now)).is_ok()
    });
    time("summary, 90 days", &mut || {
        pollster::block_on(summary::summary(&store, &range(days_ago(89)), now)).is_ok()
    });
    for f in funnel::catalog::funnels::FUNNELS {
        time(&format!("funnel {}", f.name), &mut || {
            pollster::block_on(funnels::count(&store, f.name, &range(days_ago(13)), now)).is_ok()
        });
    }
    time("usage summary", &mut || {
        pollster::block_on(usage::summary(&store, &none, now)).is_ok()
    });
    time("usage over quota", &mut || {
        pollster::block_on(usage::over_quota(&store, &none, now)).is_ok()
    });
    time("usage months", &mut || {
        pollster::block_on(usage::history(&store, &none, now)).is_ok()
    });
}
