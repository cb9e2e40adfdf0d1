//! Every route's logic, written against the storage seam
//! ([`crate::store::EventStore`]) and plain values: parse → read/write → answer.
//! Each use case returns a typed response; [`crate::api::dispatch`] turns it
//! into HTTP. All of it runs natively in `cargo test` over SQLite.

pub mod alerts;
pub mod archive;
pub mod audit;
pub mod bench;
pub mod catalog;
pub mod collect;
pub mod dead_letter;
pub mod erasure;
pub mod events;
pub mod funnels;
pub mod health;
pub mod ingest;
pub mod maintenance;
pub mod overview;
pub mod quarantine;
pub mod queue;
pub mod retention;
pub mod sketches;
pub mod summary;
pub mod sweep;
pub mod trace;
pub mod usage;

use crate::archive::ArchiveError;
use crate::query::range::TimeRange;
use crate::store::{Span, StorageError};

/// Why a job moving rows between D1 and the archive (retention, an erasure's
/// archived hours) stopped: in D1 or in the bucket. Each job keeps what it
/// finished; the next run resumes the rest.
#[derive(Debug)]
pub enum ArchiveJobError {
    Storage(StorageError),
    Archive(ArchiveError),
}

impl std::fmt::Display for ArchiveJobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveJobError::Storage(e) => write!(f, "{e:?}"),
            ArchiveJobError::Archive(e) => write!(f, "{e}"),
        }
    }
}

impl From<StorageError> for ArchiveJobError {
    fn from(e: StorageError) -> Self {
        ArchiveJobError::Storage(e)
    }
}

impl From<ArchiveError> for ArchiveJobError {
    fn from(e: ArchiveError) -> Self {
        ArchiveJobError::Archive(e)
    }
}

impl From<&TimeRange> for Span {
    fn from(range: &TimeRange) -> Span {
        Span {
            from: range.from_stored(),
            to: range.to_stored(),
        }
    }
}

/// `<prefix>_<32 random hex>`: ids the service makes (events sent without
/// one, erasure requests).
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without randomness, fall back to the clock: unique enough, never a panic.
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
    }
    format!("{prefix}_{}", hex::encode(bytes))
}
