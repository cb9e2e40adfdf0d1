//! funnel: collects product and funnel events on Cloudflare Workers + D1.
//!
//! Layout (the architecture in folders):
//! - pure core, no `worker` types, unit-tested natively with `cargo test`:
//!   [`config`], [`error`], [`time`], [`trace`], [`security`], [`catalog`], [`ingest`], [`query`], [`storage`] (SQL text).
//! - [`edge`] (wasm only): the thin worker shell — routes, D1 calls, env.

pub mod catalog;
pub mod config;
pub mod error;
pub mod ingest;
pub mod query;
pub mod report;
pub mod retention;
pub mod security;
pub mod storage;
pub mod time;
pub mod trace;

#[cfg(target_arch = "wasm32")]
mod edge;
