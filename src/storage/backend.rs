//! The one thing a database must do for [`super::SqlStore`]: run a list of
//! statements as one transaction and hand back each statement's rows as JSON
//! arrays of column-name → value objects. D1 (in the worker shell) and SQLite
//! (natively, in tests) implement it; everything above it is shared, so the
//! statements, their binds and the decoding of their rows run in `cargo test`
//! exactly as they run on D1.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Statement;
pub use crate::store::StorageError;

/// One row: column name → value.
pub type Row = Map<String, Value>;

/// What one statement of a batch returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// The rows, in order, as JSON arrays of row objects: one text per slice
    /// of rows. Decoded straight into the caller's type, never through
    /// intermediate maps (a busy day's funnel reads hundreds of thousands of
    /// rows, and the worker has 128 MB).
    pub rows_json: Vec<String>,
    /// Rows written (inserted, updated or deleted) by the statement.
    pub changes: u64,
}

impl QueryResult {
    /// A result holding `rows` (one slice).
    pub fn of_rows(rows: &[Row], changes: u64) -> QueryResult {
        QueryResult {
            rows_json: vec![serde_json::to_string(rows).expect("maps of JSON values always serialize")],
            changes,
        }
    }

    /// The rows as `T`, matched by column name (never by position). Each slice's
    /// text is dropped once read.
    pub fn decode<T: DeserializeOwned>(self) -> Result<Vec<T>, StorageError> {
        let mut out = Vec::new();
        for slice in self.rows_json {
            let rows: Vec<T> = serde_json::from_str(&slice).map_err(|e| StorageError::Decode(e.to_string()))?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The first row as `T`, if any.
    pub fn first<T: DeserializeOwned>(self) -> Result<Option<T>, StorageError> {
        Ok(self.decode::<T>()?.into_iter().next())
    }
}

/// A database that runs statements. `batch` is one round trip and one
/// transaction: if one statement fails, none of them took effect.
#[allow(async_fn_in_trait)] // the worker is single-threaded: its futures are never `Send`
pub trait SqlBackend {
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>, StorageError>;
}

/// Where each statement of a batch sits, so results are taken by name
/// ([`Slot`]) instead of by index arithmetic.
#[derive(Debug, Default)]
pub struct Batch {
    statements: Vec<Statement>,
}

/// A statement's place in a [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

/// The results of a [`Batch`], taken out by [`Slot`].
#[derive(Debug)]
pub struct Results(Vec<Option<QueryResult>>);

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn push(&mut self, statement: Statement) -> Slot {
        self.statements.push(statement);
        Slot(self.statements.len() - 1)
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    pub async fn run<B: SqlBackend>(self, backend: &B) -> Result<Results, StorageError> {
        if self.statements.is_empty() {
            return Ok(Results(Vec::new()));
        }
        let expected = self.statements.len();
        let results = backend.batch(self.statements).await?;
        if results.len() != expected {
            return Err(StorageError::Decode(format!(
                "{expected} statements gave {} results",
                results.len()
            )));
        }
        Ok(Results(results.into_iter().map(Some).collect()))
    }
}

impl Results {
    /// The result of the statement at `slot` (each can be taken once).
    pub fn take(&mut self, slot: Slot) -> Result<QueryResult, StorageError> {
        self.0
            .get_mut(slot.0)
            .and_then(Option::take)
            .ok_or_else(|| StorageError::Decode(format!("no result for statement {}", slot.0)))
    }

    pub fn rows<T: DeserializeOwned>(&mut self, slot: Slot) -> Result<Vec<T>, StorageError> {
        self.take(slot)?.decode()
    }

    pub fn first<T: DeserializeOwned>(&mut self, slot: Slot) -> Result<Option<T>, StorageError> {
        self.take(slot)?.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Pair {
        b: i64,
        a: String,
    }

    #[test]
    fn rows_decode_by_column_name_whatever_the_column_order() {
        let mut row = Row::new();
        row.insert("a".into(), Value::from("x"));
        row.insert("b".into(), Value::from(2));
        let result = QueryResult::of_rows(&[row], 0);
        assert_eq!(result.decode::<Pair>().unwrap(), vec![Pair { b: 2, a: "x".into() }]);
    }

    #[test]
    fn rows_in_several_slices_decode_in_order() {
        let result = QueryResult {
            rows_json: vec![
                r#"[{"a":"x","b":1},{"a":"y","b":2}]"#.into(),
                "[]".into(),
                r#"[{"b":3,"a":"z"}]"#.into(),
            ],
            changes: 0,
        };
        let names: Vec<String> = result.decode::<Pair>().unwrap().into_iter().map(|p| p.a).collect();
        assert_eq!(names, ["x", "y", "z"]);
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_a_decode_error_not_an_outage() {
        let mut row = Row::new();
        row.insert("a".into(), Value::from("x"));
        row.insert("b".into(), Value::Null);
        let err = QueryResult::of_rows(&[row], 0).decode::<Pair>().unwrap_err();
        assert!(matches!(err, StorageError::Decode(_)), "{err:?}");
    }
}
