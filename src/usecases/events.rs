//! `GET /internal/funnel-events` (one page, newest first) and
//! `GET /internal/funnel-events/export` (every page, as CSV or GA4 payloads).

use chrono::{DateTime, Utc};
use serde::Serialize;

use std::collections::HashSet;
use std::rc::Rc;

use crate::archive::hour::{self, ArchivedHour};
use crate::archive::{read_object, ArchiveError, ArchiveStore};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::query::bad;
use crate::query::cursor::{self, CursorKey, Position};
use crate::query::filter::EventFilter;
use crate::query::params::{self, Params};
use crate::report::event::{split_page, EventView, StoredEvent};
use crate::report::{csv, ga4};
use crate::security::fingerprint::EmailFilter;
use crate::store::EventStore;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// Rows per read of the export.
pub const EXPORT_PAGE: usize = 500;
/// D1 rows one export request returns at most (200 pages): past them the
/// answer names where the next request continues (`x-export-next-cursor`).
pub const EXPORT_ROWS: usize = 100_000;
/// Archived hours one export request reads (each one R2 read): past them the
/// answer names where the next request continues (`x-export-next-archived-before`).
pub const EXPORT_ARCHIVED_HOURS: usize = 200;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// The resolved range (a cursor keeps it, so a default range cannot slide while paging).
    pub from: String,
    pub to: String,
    pub events: Vec<EventView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// When `q_email` was an address: the fingerprint it was matched by, so a
    /// client can keep that (in its address bar, say) instead of the address.
    /// Null otherwise.
    pub email_fingerprint: Option<String>,
}

/// The cursor is bound to every parameter but itself, the page size, the format
/// and an export's `archived_before` (the archived hours after the request that
/// ended D1's rows, which carried a cursor: the same query plus that hour).
fn scope(params: &Params) -> String {
    format!(
        "events\n{}",
        params.canonical(&["cursor", "limit", "format", "archived_before"])
    )
}

/// The filter, with the range a cursor carries when one is given.
fn filter_and_position(
    params: &Params,
    config: &Config,
    key: &CursorKey,
    now: DateTime<Utc>,
) -> AppResult<(EventFilter, Option<Position>)> {
    let mut filter = EventFilter::parse(params, now, config.email_fingerprint_key.as_bytes())?;
    let (range, after) = cursor::resume(key, &scope(params), params.get("cursor"), filter.range)?;
    filter.range = range;
    Ok((filter, after))
}

pub async fn list<S: EventStore>(
    store: &S,
    config: &Config,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<EventPage> {
    let limit = params::limit(params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (filter, after) = filter_and_position(params, config, &key, now)?;
    let email_fingerprint = match (&filter.email, params.get("q_email")) {
        (Some(EmailFilter::Fingerprint(fp)), Some(_)) => Some(fp.clone()),
        _ => None,
    };
    let rows = store.list_events(&filter, after.as_ref(), limit).await?;
    let (page, next) = split_page(rows, limit, StoredEvent::position);
    let range = (filter.range.from_stored(), filter.range.to_stored());
    let next_cursor = next.map(|p| cursor::encode(&key, &scope(params), range.clone(), p));
    Ok(EventPage {
        from: range.0,
        to: range.1,
        events: page.into_iter().map(|e| e.into_view(&config.links)).collect(),
        next_cursor,
        email_fingerprint,
    })
}

/// The export's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    /// GA4 Measurement Protocol payloads, one JSON request body per line.
    Ga4,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ga4 => "application/x-ndjson",
        }
    }

    pub fn filename(self) -> &'static str {
        match self {
            ExportFormat::Csv => "funnel-events.csv",
            ExportFormat::Ga4 => "funnel-events-ga4.ndjson",
        }
    }

    fn render(self, events: &[StoredEvent]) -> String {
        match self {
            ExportFormat::Csv => csv::rows(events),
            ExportFormat::Ga4 => ga4::ndjson(events),
        }
    }
}

/// An export under way: what to read, and where the next page starts.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// Where the archived hours of the range are read (after D1's rows).
    pub archive: Option<Rc<dyn ArchiveStore>>,
    /// The archived hours of this request not yet read, newest first.
    pub archived: Vec<ArchivedHour>,
    /// The ids of the events of those hours still in D1 (read from D1, so
    /// skipped in the objects).
    pub archived_in_d1: HashSet<i64>,
    /// More archived hours of the range are older than those of this request:
    /// the next request passes this hour as `archived_before`.
    pub next_archived_before: Option<String>,
    /// More D1 rows match than one request returns: the next request passes
    /// this as `cursor` (and reads the archived hours once D1's rows are done).
    pub next_cursor: Option<String>,
    pub format: ExportFormat,
    pub filter: EventFilter,
    /// The first chunk of the body, read before answering so a database
    /// failure is still a clean problem response.
    pub first: Vec<u8>,
    pub next: Option<Position>,
    /// The last D1 row of this request when more follow it (the position
    /// `next_cursor` holds): the pages stop there.
    pub last: Option<Position>,
}

pub async fn export<S: EventStore>(
    store: &S,
    archive: Option<Rc<dyn ArchiveStore>>,
    config: &Config,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<ExportPlan> {
    let format = match params.get("format").unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "ga4" => ExportFormat::Ga4,
        _ => return Err(bad("format", "invalid_format", "`format` must be csv or ga4.")),
    };
    let archived_before =
        match params.get("archived_before") {
            None => None,
            Some(h) if hour::is_hour(h) => Some(h.to_string()),
            Some(_) => return Err(bad(
                "archived_before",
                "invalid_archived_before",
                "`archived_before` must be YYYY-MM-DDTHH: the `x-export-next-archived-before` of the previous answer.",
            )),
        };
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (filter, after) = filter_and_position(params, config, &key, now)?;
    let header = if format == ExportFormat::Csv { csv::HEADER } else { "" };
    // A continuation of archived hours reads no D1 rows: they came before it.
    let (page, next, last) = if archived_before.is_some() {
        (Vec::new(), None, None)
    } else {
        // Where this request's D1 rows end, found before answering (the headers go
        // first): the `EXPORT_ROWS`th row when another one follows it.
        let probe = store
            .event_positions_at(&filter, after.as_ref(), EXPORT_ROWS - 1)
            .await?;
        let last = (probe.len() == 2).then(|| probe[0].clone());
        let rows = store.list_events(&filter, after.as_ref(), EXPORT_PAGE).await?;
        let (page, next) = within(split_page(rows, EXPORT_PAGE, StoredEvent::position), last.as_ref());
        (page, next, last)
    };
    let range = (filter.range.from_stored(), filter.range.to_stored());
    let next_cursor = last.clone().map(|p| cursor::encode(&key, &scope(params), range, p));
    // The archived hours come after every D1 row, in the last request of the chain.
    let archived = if last.is_some() {
        ArchivedPart::default()
    } else {
        archived_part(store, &filter, archived_before.as_deref(), archive.is_some()).await?
    };
    Ok(ExportPlan {
        archive,
        archived: archived.hours,
        archived_in_d1: archived.in_d1,
        next_archived_before: archived.next_before,
        next_cursor,
        format,
        filter,
        first: format!("{header}{}", format.render(&page)).into_bytes(),
        next,
        last,
    })
}

/// The archived hours one export request reads, and where the next one goes on.
#[derive(Default)]
struct ArchivedPart {
    hours: Vec<ArchivedHour>,
    in_d1: HashSet<i64>,
    next_before: Option<String>,
}

/// Past the hot window: the range's archived hours (older than
/// `archived_before`), newest first, at most [`EXPORT_ARCHIVED_HOURS`].
async fn archived_part<S: EventStore>(
    store: &S,
    filter: &EventFilter,
    archived_before: Option<&str>,
    bucket_bound: bool,
) -> AppResult<ArchivedPart> {
    let from = filter.range.from_stored();
    let to = match archived_before {
        Some(h) => hour::hour_start(h).min(filter.range.to_stored()),
        None => filter.range.to_stored(),
    };
    let mut hours = store.archived_hours_in(&from, &to, EXPORT_ARCHIVED_HOURS + 1).await?;
    let next_before = (hours.len() > EXPORT_ARCHIVED_HOURS).then(|| {
        hours.truncate(EXPORT_ARCHIVED_HOURS);
        hours.last().map(|h| h.hour.clone()).unwrap_or_default()
    });
    if !hours.is_empty() && !bucket_bound {
        log::error!("export: the range holds archived hours but no archive bucket is bound");
        return Err(AppError::ArchiveUnavailable);
    }
    // One read for the events of these hours still in D1 (late ones, or a
    // retention run stopped before its delete: few, the hours are old).
    let in_d1 = match (hours.last(), hours.first()) {
        (Some(oldest), Some(newest)) => store
            .event_ids_between(
                &hour::hour_start(&oldest.hour),
                &hour::hour_end(&newest.hour).ok_or(AppError::Internal)?,
            )
            .await?
            .into_iter()
            .collect(),
        _ => HashSet::new(),
    };
    Ok(ArchivedPart {
        hours,
        in_d1,
        next_before,
    })
}

/// A page cut at `last` (this request's last row, inclusive): the rows after it
/// belong to the next request, so no next page past it.
fn within(
    (mut page, next): (Vec<StoredEvent>, Option<Position>),
    last: Option<&Position>,
) -> (Vec<StoredEvent>, Option<Position>) {
    let Some(last) = last else {
        return (page, next);
    };
    // Newest first: the rows past `last` are the older ones.
    if let Some(cut) = page.iter().position(|e| (&e.ts, e.id) < (&last.ts, last.id)) {
        page.truncate(cut);
        return (page, None);
    }
    // A page that ends on `last` has no next page either.
    (page, next.filter(|n| n != last))
}

/// The next chunk of an export, or `None` when it is complete. Never more
/// than one page (or one archived hour) in memory.
pub async fn export_next<S: EventStore>(store: &S, plan: &mut ExportPlan) -> AppResult<Option<Vec<u8>>> {
    let Some(after) = plan.next.take() else {
        return archived_page(plan).await;
    };
    let rows = store.list_events(&plan.filter, Some(&after), EXPORT_PAGE).await?;
    let (page, next) = within(split_page(rows, EXPORT_PAGE, StoredEvent::position), plan.last.as_ref());
    plan.next = next;
    Ok(Some(plan.format.render(&page).into_bytes()))
}

/// The next archived hour's events that pass the filter, newest first, as
/// one chunk; `None` once every archived hour of the request was read. Events
/// of the hour still in D1 (a late event, a run stopped before its delete)
/// were read from D1 and are skipped here: every event once.
async fn archived_page(plan: &mut ExportPlan) -> AppResult<Option<Vec<u8>>> {
    let (Some(archive), false) = (plan.archive.clone(), plan.archived.is_empty()) else {
        return Ok(None);
    };
    let manifest = plan.archived.remove(0);
    let bytes = read_object(&*archive, &manifest)
        .await
        .map_err(|e| archive_failed(&e))?;
    let events = hour::verify(&bytes, &manifest).map_err(|e| archive_failed(&e))?;
    let mut page: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| !plan.archived_in_d1.contains(&e.id) && plan.filter.matches(e))
        .collect();
    page.sort_by(|a, b| (&b.ts, b.id).cmp(&(&a.ts, a.id)));
    Ok(Some(plan.format.render(&page).into_bytes()))
}

fn archive_failed(e: &ArchiveError) -> AppError {
    log::error!("export: {e}");
    AppError::ArchiveUnavailable
}
