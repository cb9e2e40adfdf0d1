//! Reads the deployment's configuration from the worker env.

use worker::{console_error, D1Database, Env};

use crate::config::Config;
use crate::error::{AppError, AppResult};

pub const DB_BINDING: &str = "DB";

pub fn config(env: &Env) -> AppResult<Config> {
    // `.dev.vars` entries and `wrangler secret put` values both arrive as strings.
    let lookup = |name: &str| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    };
    Config::from_lookup(lookup).map_err(|e| {
        console_error!("configuration error: {e}");
        AppError::Misconfigured
    })
}

pub fn db(env: &Env) -> AppResult<D1Database> {
    env.d1(DB_BINDING).map_err(|e| {
        console_error!("D1 binding {DB_BINDING} unavailable: {e}");
        AppError::Misconfigured
    })
}
