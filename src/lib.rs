//! funnel: collects product and funnel events on Cloudflare Workers + D1.
//!
//! Layout (the architecture in folders):
//! - the core, no `worker` types, run natively by `cargo test`:
//!   - [`api`]: the route table, access rules, dispatch, the OpenAPI document;
//!   - [`usecases`]: every route's logic, over the storage seam [`store`];
//!   - the rules they use: [`catalog`] (events, KPIs, funnels, quotas),
//!     [`ingest`] (validation, normalisation, sampling), [`query`] (filters,
//!     ranges, cursors), [`report`] (response building), [`security`]
//!     (signatures, keys, fingerprints), [`sketch`] (distinct-count sketches and
//!     the stored periods covering a range), [`trace`], [`time`], [`config`], [`error`];
//!   - [`storage`]: the seam's implementation over SQL (every statement), with a
//!     SQLite backend natively.
//! - `edge` (wasm only): the thin worker shell: D1 backend, env, HTTP in and out.

// First: its column-list macros are used by `storage::sql`.
#[macro_use]
pub mod record;

pub mod api;
pub mod archive;
pub mod catalog;
pub mod config;
pub mod error;
pub mod ingest;
pub mod notify;
pub mod privacy;
pub mod query;
pub mod ratelimit;
pub mod report;
pub mod security;
pub mod sketch;
pub mod spool;
pub mod storage;
pub mod store;
pub mod time;
pub mod trace;
pub mod usecases;

#[cfg(target_arch = "wasm32")]
mod edge;
