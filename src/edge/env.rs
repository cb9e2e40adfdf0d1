//! The deployment's bindings and configuration, read from the worker env.

use worker::{console_error, Env};

use super::d1::D1Backend;
use crate::api::session::SessionStart;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::storage::SqlStore;

pub const DB_BINDING: &str = "DB";
pub const ASSETS_BINDING: &str = "ASSETS";

/// The configuration, or `None` (logged) when a secret or variable is missing or invalid.
pub fn config(env: &Env) -> Option<Config> {
    // `.dev.vars` entries and `wrangler secret put` values both arrive as strings.
    let lookup = |name: &str| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    };
    Config::from_lookup(lookup)
        .map_err(|e| console_error!("configuration error: {e}"))
        .ok()
}

/// The store on the primary database (ingest's queue consumer, the crons).
pub fn store(env: &Env) -> AppResult<SqlStore<D1Backend>> {
    store_in_session(env, &SessionStart::Primary)
}

/// The store of one request, in the D1 session `start` says.
pub fn store_in_session(env: &Env, start: &SessionStart) -> AppResult<SqlStore<D1Backend>> {
    let db = env.d1(DB_BINDING).map_err(|e| {
        console_error!("D1 binding {DB_BINDING} unavailable: {e}");
        AppError::Misconfigured
    })?;
    let backend = D1Backend::open(db, start).map_err(|e| {
        console_error!("D1 session could not start: {e:?}");
        AppError::StorageUnavailable
    })?;
    Ok(SqlStore::new(backend))
}
