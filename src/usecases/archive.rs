//! `GET /internal/archive/hours` (the manifest of the archived hours of a
//! range) and `GET /internal/archive/hours/{hour}` (one hour's gzip NDJSON
//! object, verified against its manifest first): the archive as analysts'
//! tools read it (docs/api.md, "Archive").

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::hour::{self, ArchivedHour};
use crate::archive::{read_object, ArchiveStore};
use crate::error::{AppError, AppResult};
use crate::query::bad;
use crate::query::params::Params;
use crate::query::range::TimeRange;
use crate::store::EventStore;

/// Most hours one listing returns (400 days of hours fit).
pub const MAX_HOURS: usize = 10_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArchiveListing {
    pub from: String,
    pub to: String,
    /// The archived hours overlapping the range, newest first.
    pub hours: Vec<ArchivedHour>,
    /// Σ rows of `hours`.
    pub rows: i64,
}

pub async fn list<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<ArchiveListing> {
    let range = TimeRange::parse(params, now)?;
    let (from, to) = (range.from_stored(), range.to_stored());
    let hours = store.archived_hours_in(&from, &to, MAX_HOURS).await?;
    Ok(ArchiveListing {
        rows: hours.iter().map(|h| h.rows).sum(),
        from,
        to,
        hours,
    })
}

/// The range, widened to whole hours at an edge that falls inside an archived
/// hour: that hour's rows are gone, and the rollups count it only whole. A
/// read from the rollups then answers exactly for the range it states (the
/// answer's `from`/`to` are the widened ones). One D1 read, only when an edge
/// is not on the hour.
pub async fn whole_archived_edges<S: EventStore>(store: &S, mut range: TimeRange) -> AppResult<TimeRange> {
    use crate::query::range::floor_hour;
    let (from_floor, to_floor) = (floor_hour(range.from), floor_hour(range.to));
    let mut edges = Vec::new();
    if from_floor != range.from {
        edges.push(crate::query::range::hour_key(from_floor));
    }
    if to_floor != range.to {
        edges.push(crate::query::range::hour_key(to_floor));
    }
    if edges.is_empty() {
        return Ok(range);
    }
    let archived: Vec<String> = store
        .archived_hours_of(&edges)
        .await?
        .into_iter()
        .map(|h| h.hour)
        .collect();
    if from_floor != range.from && archived.contains(&crate::query::range::hour_key(from_floor)) {
        range.from = from_floor;
    }
    if to_floor != range.to && archived.contains(&crate::query::range::hour_key(to_floor)) {
        range.to = to_floor + chrono::Duration::hours(1);
    }
    Ok(range)
}

/// One hour's object and its manifest; a 404 for an hour not archived, a 503
/// when the object is unreadable or differs from its manifest.
pub async fn object<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    hour_name: &str,
) -> AppResult<(Vec<u8>, ArchivedHour)> {
    if !hour::is_hour(hour_name) {
        return Err(bad("hour", "invalid_hour", "`hour` must be YYYY-MM-DDTHH (UTC)."));
    }
    let manifest = store
        .archived_hours_of(&[hour_name.to_string()])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let archive = archive.ok_or(AppError::ArchiveUnavailable)?;
    let unavailable = |e: crate::archive::ArchiveError| {
        log::error!("archive download: {e}");
        AppError::ArchiveUnavailable
    };
    let bytes = read_object(archive, &manifest).await.map_err(unavailable)?;
    hour::verify(&bytes, &manifest).map_err(unavailable)?;
    Ok((bytes, manifest))
}
