//! Mergeable distinct-count sketches for the overview's distinct users and
//! sessions over any range, without `COUNT(DISTINCT ...)` over every row.
//!
//! - [`hll`]: the HyperLogLog sketch itself (hash, insert, merge, estimate) and
//!   its compact text form for a D1 TEXT column. Persisted: the hash and the
//!   encoding are stable formats.
//! - [`cover`]: which stored sketches (UTC months, days, hours) and which raw
//!   edges outside whole hours exactly partition a read range.
//! - [`distinct`]: what a write adds (its parts, per hour, scope and kind) and
//!   what a read merges (sketches per scope, plus the edges' identifiers).
//!
//! Pure core: no storage, no `worker` types.

pub mod cover;
pub mod distinct;
pub mod hll;

pub use cover::{containing, containing_in, cover, cover_in, Cover};
pub use hll::{hash, Hll, SketchError, PRECISION};
