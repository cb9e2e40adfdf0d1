//! D1 access: binds and runs the statements of [`crate::storage::sql`].

use std::collections::HashSet;

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{console_error, D1Database};

use crate::error::{AppError, AppResult};
use crate::ingest::batch::Plan;
use crate::storage::{json_chunks, sql, MAX_BOUND_JSON_BYTES};

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
