//! Storage: the [`crate::store::EventStore`] implementation over SQL.
//!
//! - [`sql`]: every statement of the service, by concern;
//! - [`backend`]: what a database must do (run a batch, return named columns);
//! - [`SqlStore`]: the use cases' statements, binds and row types, over any backend;
//! - [`sqlite`] (native only): the backend `cargo test` runs on. The worker's
//!   D1 backend lives in the shell (`edge::d1`).

pub mod backend;
pub mod sql;
mod sql_store;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;

pub use sql_store::SqlStore;

use serde::Serialize;

/// A value bound to a `?` placeholder. D1 takes no BigInt binds, so integers
/// travel as JS numbers: every integer bound here is far below 2^53.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
    Null,
}

impl Bind {
    pub fn text(v: impl Into<String>) -> Bind {
        Bind::Text(v.into())
    }

    pub fn opt_text(v: Option<impl Into<String>>) -> Bind {
        v.map_or(Bind::Null, |v| Bind::Text(v.into()))
    }

    /// A list bound as one JSON array, read in SQL with `json_each(?)`.
    pub fn json<T: Serialize + ?Sized>(v: &T) -> Bind {
        Bind::Text(serde_json::to_string(v).expect("lists of strings and numbers always serialize"))
    }
}

/// SQL text assembled only from constant fragments, with its bound values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Statement {
    pub fn new(sql: &'static str) -> Statement {
        Statement {
            sql: sql.to_string(),
            binds: Vec::new(),
        }
    }

    /// A constant statement with its binds.
    pub fn with(sql: &'static str, binds: impl IntoIterator<Item = Bind>) -> Statement {
        let mut s = Statement::new(sql);
        s.binds.extend(binds);
        s
    }

    /// Appends a constant fragment and the values of its placeholders.
    pub fn push(&mut self, fragment: &'static str, binds: impl IntoIterator<Item = Bind>) {
        self.sql.push_str(fragment);
        self.binds.extend(binds);
    }
}

/// Largest JSON text bound to one `json_each` insert. D1 caps a string value
/// at 2 MB; staying at a quarter of that leaves room and keeps statements fast.
pub const MAX_BOUND_JSON_BYTES: usize = 512 * 1024;

/// Serializes `rows` into JSON arrays of at most `max_bytes` each (a single
/// row larger than that gets an array of its own). Every chunk becomes one
/// statement of one `db.batch`: one round trip, one transaction.
pub fn json_chunks<T: Serialize>(rows: &[T], max_bytes: usize) -> Result<Vec<String>, serde_json::Error> {
    let mut chunks = Vec::new();
    let mut current = String::from("[");
    for row in rows {
        let item = serde_json::to_string(row)?;
        if current.len() > 1 && current.len() + item.len() + 2 > max_bytes {
            current.push(']');
            chunks.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&item);
    }
    if current.len() > 1 {
        current.push(']');
        chunks.push(current);
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn chunks_hold_every_row_once_in_order_and_respect_the_cap() {
        let rows: Vec<String> = (0..1000)
            .map(|i| format!("row-{i:04}-{}", "x".repeat(i % 50)))
            .collect();
        let chunks = json_chunks(&rows, 4096).unwrap();
        assert!(chunks.len() > 1);
        let mut back = Vec::new();
        for c in &chunks {
            assert!(c.len() <= 4096, "{}", c.len());
            let v: Vec<String> = serde_json::from_str(c).unwrap();
            back.extend(v);
        }
        assert_eq!(back, rows);
    }

    #[test]
    fn no_rows_means_no_statement_and_a_huge_row_gets_its_own_chunk() {
        assert!(json_chunks::<Value>(&[], 100).unwrap().is_empty());
        let rows = vec!["a".to_string(), "b".repeat(300), "c".to_string()];
        let chunks = json_chunks(&rows, 100).unwrap();
        assert_eq!(
            chunks,
            vec![
                "[\"a\"]".to_string(),
                format!("[\"{}\"]", "b".repeat(300)),
                "[\"c\"]".into()
            ]
        );
    }
}
