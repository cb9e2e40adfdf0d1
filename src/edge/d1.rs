//! The D1 backend of the storage seam: binds values, runs one `db.batch`
//! (one round trip, one transaction) and hands back rows as column maps.

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::storage::backend::{QueryResult, SqlBackend, StorageError};
use crate::storage::{Bind, Statement};

pub struct D1Backend(pub D1Database);

fn unavailable(e: worker::Error) -> StorageError {
    StorageError::Unavailable(format!("D1: {e}"))
}

fn prepare(db: &D1Database, s: &Statement) -> Result<D1PreparedStatement, StorageError> {
    let binds: Vec<JsValue> = s
        .binds
        .iter()
        .map(|b| match b {
            Bind::Text(t) => JsValue::from_str(t),
            // Numbers, not BigInt: D1 rejects BigInt binds (every integer bound is far below 2^53).
            Bind::Int(i) => JsValue::from_f64(*i as f64),
            Bind::Real(f) => JsValue::from_f64(*f),
            Bind::Null => JsValue::NULL,
        })
        .collect();
    db.prepare(&s.sql).bind(&binds).map_err(unavailable)
}

impl SqlBackend for D1Backend {
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>, StorageError> {
        let prepared = statements
            .iter()
            .map(|s| prepare(&self.0, s))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.0.batch(prepared).await.map_err(unavailable)?;
        results
            .into_iter()
            .map(|r| {
                let rows = r
                    .results::<Map<String, Value>>()
                    .map_err(|e| StorageError::Decode(format!("D1 rows: {e}")))?;
                let changes = r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) as u64;
                Ok(QueryResult { rows, changes })
            })
            .collect()
    }
}
