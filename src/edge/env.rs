//! The deployment's bindings and configuration, read from the worker env.

use worker::{console_error, Env};

use super::d1::D1Backend;
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

pub fn store(env: &Env) -> AppResult<SqlStore<D1Backend>> {
    let db = env.d1(DB_BINDING).map_err(|e| {
        console_error!("D1 binding {DB_BINDING} unavailable: {e}");
        AppError::Misconfigured
    })?;
    Ok(SqlStore::new(D1Backend(db)))
}
