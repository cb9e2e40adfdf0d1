//! The D1 backend of the storage seam: binds values, runs one `db.batch`
//! (one round trip, one transaction) and hands back rows as column maps.
//! A request's reads and writes go through one D1 session (read replicas,
//! see `crate::api::session`); ingest, the queue consumer and the crons use
//! the primary directly.

use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{self, Array, Function, Promise, Reflect, JSON};
use worker::wasm_bindgen_futures::JsFuture;
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

/// Rows that cross from JavaScript in one JSON text: few crossings, and a
/// bounded text however many rows a statement returns (a busy day's funnel
/// reads hundreds of thousands; the Workers isolate has 128 MB).
const ROWS_PER_CROSSING: u32 = 2_000;

impl SqlBackend for D1Backend {
    /// Runs the statements as one D1 batch (one transaction). Each answer's rows
    /// cross from JavaScript as JSON texts of at most [`ROWS_PER_CROSSING`] rows,
    /// parsed here: reading them value by value (`D1Result::results`) costs a
    /// crossing per column of every row, which made reads of a few thousand rows
    /// spend most of their time crossing.
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>, StorageError> {
        let prepared: Array = statements
            .iter()
            .map(|s| prepare(self, s).map(|p| JsValue::from(p.inner().clone())))
            .collect::<Result<_, _>>()?;
        let target: &JsValue = match self {
            D1Backend::Primary(db) => db.as_ref(),
            D1Backend::Session(session) => session.as_ref(),
        };
        let answers: Array = JsFuture::from(call_batch(target, &prepared)?)
            .await
            .map_err(|e| js_failure("D1 batch", &e))?
            .dyn_into()
            .map_err(|e| js_failure("D1 answers", &e))?;
        answers.iter().map(|answer| read_answer(&answer)).collect()
    }
}

/// One statement's rows and changes.
fn read_answer(answer: &JsValue) -> Result<QueryResult, StorageError> {
    let field = |name: &str| Reflect::get(answer, &JsValue::from_str(name)).map_err(|e| js_failure("D1 answer", &e));
    let changes = Reflect::get(&field("meta")?, &JsValue::from_str("changes"))
        .ok()
        .and_then(|c| c.as_f64())
        .unwrap_or(0.0) as u64;
    let mut rows_json = Vec::new();
    if let Ok(results) = field("results")?.dyn_into::<Array>() {
        let total = results.length();
        let mut start = 0;
        while start < total {
            let end = total.min(start + ROWS_PER_CROSSING);
            let text = JSON::stringify(&results.slice(start, end)).map_err(|e| js_failure("D1 rows", &e))?;
            rows_json.push(text.into());
            start = end;
        }
    }
    Ok(QueryResult { rows_json, changes })
}

/// `target.batch(statements)`: the database's or the session's.
fn call_batch(target: &JsValue, statements: &Array) -> Result<Promise, StorageError> {
    let batch: Function = Reflect::get(target, &JsValue::from_str("batch"))
        .and_then(|f| f.dyn_into())
        .map_err(|e| js_failure("D1 binding", &e))?;
    batch
        .call1(target, statements)
        .and_then(|p| p.dyn_into())
        .map_err(|e| js_failure("D1 batch", &e))
}

/// A thrown JavaScript error as an unavailable store, with D1's message and cause.
fn js_failure(what: &str, e: &JsValue) -> StorageError {
    let message = match e.dyn_ref::<js_sys::Error>() {
        Some(err) => {
            let cause = err
                .cause()
                .dyn_ref::<js_sys::Error>()
                .map(|c| format!(" ({})", String::from(c.message())))
                .unwrap_or_default();
            format!("{}{cause}", String::from(err.message()))
        }
        None => format!("{e:?}"),
    };
    StorageError::Unavailable(format!("{what}: {message}"))
}
