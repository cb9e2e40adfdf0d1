//! One module per endpoint group; each handler is a plain `async fn`.

pub mod bench;
pub mod catalog;
pub mod console;
pub mod events;
pub mod funnels;
pub mod health;
pub mod ingest;
pub mod overview;
pub mod quarantine;
pub mod summary;
pub mod trace;
pub mod usage;

use worker::{Env, Request};

use crate::config::Config;
use crate::edge::env;
use crate::error::{AppError, AppResult};
use crate::query::params::Params;
use crate::security;

/// A request header as a string, if present and readable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Every read API needs the internal bearer key; returns the configuration it was checked against.
pub fn authorize(req: &Request, env: &Env) -> AppResult<Config> {
    let config = env::config(env)?;
    security::authenticate_internal(header(req, "authorization").as_deref(), &config)
        .map_err(AppError::Unauthorized)?;
    Ok(config)
}

/// The query string, checked against the parameters the endpoint knows.
pub fn query(req: &Request, known: &[&str]) -> AppResult<Params> {
    let url = req
        .url()
        .map_err(|_| AppError::InvalidBody("The request URL could not be read.".into()))?;
    Params::parse(url.query_pairs(), known)
}
