//! The archive's size: runs retention (the real code path: pages, hour
//! objects, verification, deletes) over every row of a local database file
//! into an in-memory bucket, and prints the gzip NDJSON bytes per million
//! events. The file's rows are deleted: use a scratch copy.
//!
//!     python3 -c "import sqlite3, glob; db = sqlite3.connect('/tmp/archive.db'); \
//!       [db.executescript(open(f).read()) for f in sorted(glob.glob('migrations/*.sql'))]"
//!     python3 bench/load_rows.py /tmp/archive.db key 0 1000000 --shape year
//!     cargo run --release --example archive_size -- /tmp/archive.db

use std::time::Instant;

use chrono::{Duration, Utc};
use funnel::archive::MemoryArchive;
use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: archive_size <sqlite file>");
        std::process::exit(2);
    };
    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| {
        eprintln!("cannot open {path}: {e}");
        std::process::exit(1);
    });
    let store = SqlStore::new(Sqlite::from_connection(conn));
    let archive = MemoryArchive::new();
    // Every row is past a retention of 0 days a day from now.
    let now = Utc::now() + Duration::days(1);
    let started = Instant::now();
    let (mut events, mut hours, mut runs) = (0u64, 0usize, 0usize);
    loop {
        let run =
            pollster::block_on(funnel::usecases::retention::run(&store, &archive, 0, now)).expect("retention run");
        events += run.deleted;
        hours += run.hours;
        runs += 1;
        if run.done {
            break;
        }
    }
    let objects: u64 = archive
        .keys()
        .iter()
        .filter(|k| k.ends_with(".ndjson.gz"))
        .map(|k| archive.object(k).map_or(0, |o| o.len() as u64))
        .sum();
    let per_million = objects as f64 / events.max(1) as f64 * 1e6;
    println!(
        "archive_size: {events} events in {hours} hour objects ({runs} runs, {:.1} s): {objects} bytes of gzip NDJSON, \
         {:.1} MB per million events ({:.0} bytes/event, {:.0} events/hour object)",
        started.elapsed().as_secs_f64(),
        per_million / 1e6,
        objects as f64 / events.max(1) as f64,
        events as f64 / hours.max(1) as f64,
    );
}
