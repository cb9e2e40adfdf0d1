//! D1 access: binds and runs the statements of [`crate::storage::sql`].

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{console_error, D1Database, D1PreparedStatement, D1Result};

use crate::error::{AppError, AppResult};
use crate::ingest::batch::Plan;
use crate::report::quarantine::ReplayPlan;
use crate::storage::{json_chunks, sql, Bind, Statement, MAX_BOUND_JSON_BYTES};

fn unavailable(e: worker::Error) -> AppError {
    console_error!("D1 error: {e}");
    AppError::StorageUnavailable
}

#[derive(Deserialize)]
struct InsertedKey {
    source: String,
    event_id: String,
}

/// Stores a planned batch in one D1 batch (one round trip, one transaction):
/// the valid rows, skipping keys already stored, and the quarantined rows.
/// Returns the `(source, event_id)` keys that were new.
pub async fn insert_batch(db: &D1Database, plan: &Plan) -> AppResult<HashSet<(String, String)>> {
    let event_chunks = json_chunks(&plan.rows, MAX_BOUND_JSON_BYTES).map_err(|_| AppError::Internal)?;
    let quarantine_chunks = json_chunks(&plan.quarantine, MAX_BOUND_JSON_BYTES).map_err(|_| AppError::Internal)?;
    let event_statements = event_chunks.len();
    let mut statements = Vec::with_capacity(event_statements + quarantine_chunks.len());
    for (query, chunk) in event_chunks
        .iter()
        .map(|c| (sql::INSERT_EVENTS, c))
        .chain(quarantine_chunks.iter().map(|c| (sql::INSERT_QUARANTINE, c)))
    {
        statements.push(
            db.prepare(query)
                .bind(&[JsValue::from_str(chunk)])
                .map_err(unavailable)?,
        );
    }
    let mut inserted = HashSet::new();
    if statements.is_empty() {
        return Ok(inserted);
    }
    let results = db.batch(statements).await.map_err(unavailable)?;
    for result in results.iter().take(event_statements) {
        let keys: Vec<InsertedKey> = result.results().map_err(unavailable)?;
        inserted.extend(keys.into_iter().map(|k| (k.source, k.event_id)));
    }
    Ok(inserted)
}

/// One trivial query: proves D1 answers.
pub async fn ping(db: &D1Database) -> AppResult<()> {
    db.prepare(sql::HEALTH_PROBE)
        .first::<serde_json::Value>(None)
        .await
        .map_err(unavailable)?;
    Ok(())
}

fn prepare(db: &D1Database, s: &Statement) -> AppResult<D1PreparedStatement> {
    let binds: Vec<JsValue> = s
        .binds
        .iter()
        .map(|b| match b {
            Bind::Text(t) => JsValue::from_str(t),
            // Numbers, not BigInt: D1 rejects BigInt binds.
            Bind::Int(i) => JsValue::from_f64(*i as f64),
        })
        .collect();
    db.prepare(&s.sql).bind(&binds).map_err(unavailable)
}

/// Runs one read statement and deserializes its rows.
pub async fn all<T: DeserializeOwned>(db: &D1Database, s: &Statement) -> AppResult<Vec<T>> {
    let result = prepare(db, s)?.all().await.map_err(unavailable)?;
    result.results().map_err(unavailable)
}

/// Runs several statements in one round trip (one D1 batch); results in order.
pub async fn batch(db: &D1Database, statements: &[Statement]) -> AppResult<Vec<D1Result>> {
    let prepared = statements
        .iter()
        .map(|s| prepare(db, s))
        .collect::<AppResult<Vec<_>>>()?;
    if prepared.is_empty() {
        return Ok(Vec::new());
    }
    db.batch(prepared).await.map_err(unavailable)
}

/// The rows of one batch result.
pub fn rows<T: DeserializeOwned>(result: &D1Result) -> AppResult<Vec<T>> {
    result.results().map_err(unavailable)
}

/// Stores the rows a quarantine replay validated and marks their quarantine
/// entries, in one D1 batch (one transaction). Returns how many rows were new.
pub async fn apply_replay(db: &D1Database, plan: &ReplayPlan, replayed_at: &str) -> AppResult<usize> {
    let mut statements = Vec::new();
    for chunk in json_chunks(&plan.rows, MAX_BOUND_JSON_BYTES).map_err(|_| AppError::Internal)? {
        statements.push(Statement::with(sql::INSERT_EVENTS, [Bind::Text(chunk)]));
    }
    let inserts = statements.len();
    if !plan.passed_ids.is_empty() {
        statements.push(Statement::with(
            sql::QUARANTINE_MARK_REPLAYED,
            [Bind::text(replayed_at), Bind::json(&plan.passed_ids)],
        ));
    }
    if !plan.still_failing.is_empty() {
        statements.push(Statement::with(
            sql::QUARANTINE_UPDATE_ERRORS,
            [Bind::json(&plan.still_failing)],
        ));
    }
    let results = batch(db, &statements).await?;
    let mut inserted = 0;
    for r in results.iter().take(inserts) {
        inserted += rows::<InsertedKey>(r)?.len();
    }
    Ok(inserted)
}
