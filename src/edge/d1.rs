//! The D1 backend of the storage seam: binds values, runs one `db.batch`
//! (one round trip, one transaction) and hands back rows as column maps.
//! A request's reads and writes go through one D1 session (read replicas,
//! see `crate::api::session`); ingest, the queue consumer and the crons use
//! the primary directly.

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1SessionConstraint};

use crate::api::session::SessionStart;
use crate::storage::backend::{QueryResult, SqlBackend, StorageError};
use crate::storage::{Bind, Statement};

pub enum D1Backend {
    /// The primary database, no session.
    Primary(D1Database),
    /// One session: sequentially consistent, may be served by a replica.
    Session(D1DatabaseSession),
}

impl D1Backend {
    /// The backend a request runs on, opened as `start` says.
    pub fn open(db: D1Database, start: &SessionStart) -> Result<D1Backend, StorageError> {
        let constraint = match start {
            SessionStart::Primary => return Ok(D1Backend::Primary(db)),
            SessionStart::FirstPrimary => D1SessionConstraint::FirstPrimary,
            SessionStart::FirstUnconstrained => D1SessionConstraint::FirstUnconstrained,
            SessionStart::After(bookmark) => {
                return db
                    .with_session(Some(bookmark))
                    .map(D1Backend::Session)
                    .map_err(unavailable)
            }
        };
        db.with_session_constraint(constraint)
            .map(D1Backend::Session)
            .map_err(unavailable)
    }

    /// The session's latest bookmark, for the caller to send back; `None`
    /// without a session or before its first query.
    pub fn bookmark(&self) -> Option<String> {
        match self {
            D1Backend::Primary(_) => None,
            D1Backend::Session(s) => s.get_bookmark().ok().flatten(),
        }
    }
}

fn unavailable(e: worker::Error) -> StorageError {
    StorageError::Unavailable(format!("D1: {e}"))
}

fn prepare(backend: &D1Backend, s: &Statement) -> Result<D1PreparedStatement, StorageError> {
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
    let statement = match backend {
        D1Backend::Primary(db) => db.prepare(&s.sql),
        D1Backend::Session(session) => session.prepare(&s.sql),
    };
    statement.bind(&binds).map_err(unavailable)
}

impl SqlBackend for D1Backend {
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>, StorageError> {
        let prepared = statements
            .iter()
            .map(|s| prepare(self, s))
            .collect::<Result<Vec<_>, _>>()?;
        let results = match self {
            D1Backend::Primary(db) => db.batch(prepared).await,
            D1Backend::Session(session) => session.batch(prepared).await,
        }
        .map_err(unavailable)?;
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
