//! The native backend: SQLite (the engine under D1) with the real
//! migrations. `cargo test` runs every use case on it; D1 and this file are
//! the only two implementations of [`SqlBackend`].
//!
//! [`Sqlite::fail_next`] injects outages, so the error paths above the seam
//! (503s, nothing half-stored) are tested natively too.

use std::cell::{Cell, RefCell};
use std::path::Path;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection};
use serde_json::{Number, Value};

use super::backend::{QueryResult, Row, SqlBackend, StorageError};
use super::{Bind, Statement};

pub struct Sqlite {
    conn: RefCell<Connection>,
    /// How many of the next batches fail as if the database were locked.
    failures: Cell<usize>,
    /// How many batches succeed before one fails ([`Sqlite::fail_after`]).
    fail_after: Cell<Option<usize>>,
}

impl Sqlite {
    /// A fresh in-memory database with every migration of `migrations/` applied in order.
    pub fn migrated() -> Sqlite {
        Sqlite::migrated_through("9999")
    }

    /// A fresh in-memory database with the migrations numbered up to `last`
    /// (e.g. `"0010"`): a database as an older release left it.
    pub fn migrated_through(last: &str) -> Sqlite {
        let conn = Connection::open_in_memory().expect("in-memory SQLite opens");
        apply_migrations(&conn, &migrations_dir(), "", last);
        Sqlite::from_connection(conn)
    }

    /// Applies the migrations numbered after `after` (a later release's upgrade).
    pub fn migrate_after(&self, after: &str) {
        apply_migrations(&self.conn.borrow(), &migrations_dir(), after, "9999");
    }

    pub fn from_connection(conn: Connection) -> Sqlite {
        Sqlite {
            conn: RefCell::new(conn),
            failures: Cell::new(0),
            fail_after: Cell::new(None),
        }
    }

    /// The next `n` batches fail with [`StorageError::Unavailable`] and change nothing.
    pub fn fail_next(&self, n: usize) {
        self.failures.set(n);
    }

    /// The batch after the next `n` fails (a transaction after the first ones of a use case).
    pub fn fail_after(&self, n: usize) {
        self.fail_after.set(Some(n));
    }

    /// The connection, for tests that look at tables directly.
    pub fn connection(&self) -> std::cell::Ref<'_, Connection> {
        self.conn.borrow()
    }
}

/// The project's `migrations/` folder.
pub fn migrations_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

/// Runs the `.sql` files of `dir` numbered after `after` and up to `last`, in name order.
pub fn apply_migrations(conn: &Connection, dir: &Path, after: &str, last: &str) {
    let number = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .map(|n| n[..4.min(n.len())].to_string())
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the migrations folder exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .filter(|p| number(p).is_some_and(|n| n.as_str() > after && n.as_str() <= last))
        .collect();
    files.sort();
    for f in files {
        let sql = std::fs::read_to_string(&f).expect("readable migration");
        conn.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("migration {} failed: {e}", f.display()));
    }
}

/// A statement's binds as SQLite values, in order.
pub fn bind_values(s: &Statement) -> Vec<SqlValue> {
    s.binds.iter().map(to_sql).collect()
}

fn to_sql(b: &Bind) -> SqlValue {
    match b {
        Bind::Text(t) => SqlValue::Text(t.clone()),
        Bind::Int(i) => SqlValue::Integer(*i),
        Bind::Real(f) => SqlValue::Real(*f),
        Bind::Null => SqlValue::Null,
    }
}

/// A column value as D1 hands it to the worker: integers and reals as JSON
/// numbers (a non-finite real as null, as JSON has no such number), text as strings.
fn to_json(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::from(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
    }
}

fn run(conn: &Connection, s: &Statement) -> rusqlite::Result<QueryResult> {
    // FUNNEL_SQL_TIMING=1: each statement's time and rows on stderr (examples/read_profile.rs).
    let started = std::env::var_os("FUNNEL_SQL_TIMING").map(|_| std::time::Instant::now());
    let (rows, changes) = run_statement(conn, s)?;
    if let Some(t) = started {
        let head: String = s
            .sql
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(90)
            .collect();
        eprintln!(
            "  {:>8.1} ms {:>7} rows  {head}",
            t.elapsed().as_secs_f64() * 1e3,
            rows.len()
        );
    }
    // As D1 hands rows over: JSON row objects (not timed above: D1 has its own way).
    Ok(QueryResult::of_rows(&rows, changes))
}

/// The statement's rows and the rows it wrote.
fn run_statement(conn: &Connection, s: &Statement) -> rusqlite::Result<(Vec<Row>, u64)> {
    let mut stmt = conn.prepare(&s.sql)?;
    let names: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut rows = Vec::new();
    {
        let mut found = stmt.query(params_from_iter(bind_values(s)))?;
        while let Some(r) = found.next()? {
            let mut row = Row::new();
            for (i, name) in names.iter().enumerate() {
                row.insert(name.clone(), to_json(r.get_ref(i)?));
            }
            rows.push(row);
        }
    }
    let changes = if stmt.readonly() { 0 } else { conn.changes() };
    Ok((rows, changes))
}

impl SqlBackend for Sqlite {
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>, StorageError> {
        match self.fail_after.get() {
            Some(0) => {
                self.fail_after.set(None);
                self.failures.set(self.failures.get() + 1);
            }
            Some(n) => self.fail_after.set(Some(n - 1)),
            None => {}
        }
        if self.failures.get() > 0 {
            self.failures.set(self.failures.get() - 1);
            return Err(StorageError::Unavailable("injected fault: database is locked".into()));
        }
        let mut conn = self.conn.borrow_mut();
        let tx = conn
            .transaction()
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let mut results = Vec::with_capacity(statements.len());
        for s in &statements {
            // Dropping `tx` on an error rolls the whole batch back, as D1 does.
            results.push(run(&tx, s).map_err(|e| StorageError::Unavailable(format!("{e} in: {}", s.sql)))?);
        }
        tx.commit().map_err(|e| StorageError::Unavailable(e.to_string()))?;
        Ok(results)
    }
}
