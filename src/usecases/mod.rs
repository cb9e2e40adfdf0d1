//! Every route's logic, written against the storage seam
//! ([`crate::store::EventStore`]) and plain values: parse → read/write → answer.
//! Each use case returns a typed response; [`crate::api::dispatch`] turns it
//! into HTTP. All of it runs natively in `cargo test` over SQLite.

pub mod audit;
pub mod bench;
pub mod catalog;
pub mod erasure;
pub mod events;
pub mod funnels;
pub mod health;
pub mod ingest;
pub mod maintenance;
pub mod overview;
pub mod quarantine;
pub mod retention;
pub mod summary;
pub mod sweep;
pub mod trace;
pub mod usage;

use crate::query::range::TimeRange;
use crate::store::Span;

impl From<&TimeRange> for Span {
    fn from(range: &TimeRange) -> Span {
        Span {
            from: range.from_stored(),
            to: range.to_stored(),
        }
    }
}
