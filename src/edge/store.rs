//! D1 access: binds and runs the statements of [`crate::storage::sql`].

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{console_error, D1Database, D1PreparedStatement, D1Result};

use crate::catalog::quotas::{self, QuotaAction};
use crate::error::{AppError, AppResult};
use crate::ingest::batch::{Plan, QuotaState, StoreOutcome};
use crate::report::quarantine::ReplayPlan;
use crate::storage::{json_chunks, sql, Bind, Statement, MAX_BOUND_JSON_BYTES};
use crate::time::{parse_rfc3339, to_stored};

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
/// unmetered rows (skipping keys already stored), each metered row behind its
/// quota guard, the quarantined rows and the volume counters; then, for
/// metered rows, which keys exist and each user's usage after the batch.
pub async fn insert_batch(db: &D1Database, plan: &Plan) -> AppResult<StoreOutcome> {
    let mut statements = Vec::new();
    for chunk in json_chunks(&plan.unmetered_rows(), MAX_BOUND_JSON_BYTES).map_err(|_| AppError::Internal)? {
        statements.push(Statement::with(sql::INSERT_EVENTS, [Bind::Text(chunk)]));
    }
    let month = plan
        .rows
        .first()
        .and_then(|r| parse_rfc3339(&r.ts))
        .map(quotas::month_of);
    let month = month.map(|(a, b)| (to_stored(a), to_stored(b))).unwrap_or_default();
    for m in &plan.metered {
        let row = serde_json::to_string(&[&plan.rows[m.row]]).map_err(|_| AppError::Internal)?;
        let binds = sql::quota_binds(
            Some(row),
            (&month.0, &month.1),
            m.action,
            Some(&m.user_id),
            m.tenant_id.as_deref(),
        );
        statements.push(Statement::with(sql::INSERT_METERED_EVENT, binds));
    }
    let inserts = statements.len();
    for chunk in json_chunks(&plan.quarantine, MAX_BOUND_JSON_BYTES).map_err(|_| AppError::Internal)? {
        statements.push(Statement::with(sql::INSERT_QUARANTINE, [Bind::Text(chunk)]));
    }
    if !plan.volume.is_empty() {
        statements.push(Statement::with(sql::UPSERT_VOLUME, [Bind::json(&plan.volume_rows())]));
    }
    // After the inserts, in the same transaction: what the metered rows became.
    let checks = statements.len();
    let mut subjects: Vec<(&str, &QuotaAction, Option<&str>)> = Vec::new();
    if !plan.metered.is_empty() {
        let keys: Vec<[&str; 2]> = plan
            .metered
            .iter()
            .map(|m| [plan.rows[m.row].source.as_str(), plan.rows[m.row].event_id.as_str()])
            .collect();
        statements.push(Statement::with(sql::EXISTING_KEYS, [Bind::json(&keys)]));
        for m in &plan.metered {
            if !subjects.iter().any(|s| s.0 == m.user_id && s.1.name == m.action.name) {
                subjects.push((&m.user_id, m.action, m.tenant_id.as_deref()));
            }
        }
        for (user, action, tenant) in &subjects {
            let binds = sql::quota_binds(None, (&month.0, &month.1), action, Some(user), *tenant);
            statements.push(Statement::with(sql::QUOTA_STATE, binds));
        }
    }
    let results = batch(db, &statements).await?;

    let mut outcome = StoreOutcome::default();
    for result in results.iter().take(inserts) {
        outcome
            .inserted
            .extend(rows::<InsertedKey>(result)?.into_iter().map(|k| (k.source, k.event_id)));
    }
    if !plan.metered.is_empty() {
        let existing: HashSet<(String, String)> = rows::<InsertedKey>(&results[checks])?
            .into_iter()
            .map(|k| (k.source, k.event_id))
            .collect();
        for m in &plan.metered {
            let row = &plan.rows[m.row];
            let key = (row.source.clone(), row.event_id.clone());
            if !existing.contains(&key) {
                outcome.quota_limited.insert(key);
            }
        }
        for result in &results[checks + 1..] {
            for state in rows::<QuotaRow>(result)? {
                outcome.quotas.push(QuotaState {
                    remaining: (state.limit - state.used).max(0),
                    user_id: state.user_id,
                    action: state.action,
                    used: state.used,
                    limit: state.limit,
                });
            }
        }
    }
    Ok(outcome)
}

/// A row of [`sql::QUOTA_STATE`] or [`sql::QUOTA_USERS`].
#[derive(Deserialize)]
pub struct QuotaRow {
    pub user_id: String,
    pub action: String,
    pub used: i64,
    pub limit: i64,
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
            Bind::Real(f) => JsValue::from_f64(*f),
            Bind::Null => JsValue::NULL,
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
            [Bind::json(&plan.still_failing), Bind::text(replayed_at)],
        ));
    }
    let results = batch(db, &statements).await?;
    let mut inserted = 0;
    for r in results.iter().take(inserts) {
        inserted += rows::<InsertedKey>(r)?.len();
    }
    Ok(inserted)
}
