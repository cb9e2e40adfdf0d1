//! Recomputes everything derived from the stored rows of a local database
//! file: the hourly rollups and the distinct-count sketches. For rows written
//! without the write path (the benchmark's bulk loader, the demo's backdated
//! rows); on D1 the same work would exceed a request's limits. Refused once
//! any hour is archived (its rows are gone; the rebuild would drop them).
//!
//!     cargo run --release --example rebuild_derived -- <sqlite file>

use std::time::Instant;

use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;
use funnel::store::EventStore;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: rebuild_derived <sqlite file>");
        std::process::exit(2);
    };
    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| {
        eprintln!("cannot open {path}: {e}");
        std::process::exit(1);
    });
    let store = SqlStore::new(Sqlite::from_connection(conn));
    if let Err(e) = pollster::block_on(funnel::usecases::sketches::refuse_once_archived(&store)) {
        eprintln!("rebuild_derived: {}", e.to_problem().detail);
        std::process::exit(1);
    }
    let started = Instant::now();
    pollster::block_on(store.rebuild_rollups()).expect("rollups rebuild");
    let rollups = started.elapsed();
    let rows = pollster::block_on(funnel::usecases::sketches::rebuild(&store)).expect("sketches rebuild");
    println!(
        "rebuild_derived: rollups in {:.1} s; sketches of {rows} rows in {:.1} s",
        rollups.as_secs_f64(),
        (started.elapsed() - rollups).as_secs_f64()
    );
}
