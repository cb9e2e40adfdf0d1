//! `GET /internal/funnel-events` (one page, newest first) and
//! `GET /internal/funnel-events/export` (every page, as CSV or GA4 payloads).

use chrono::Utc;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use worker::{console_error, Request, Response, Result, RouteContext};

use super::{authorize, query};
use crate::config::Config;
use crate::edge::{env, http, store};
use crate::error::AppResult;
use crate::query::cursor::{self, CursorKey, Position};
use crate::query::filter::{EventFilter, LIST_PARAMS};
use crate::query::params::{self, Params};
use crate::query::{bad, range::TimeRange};
use crate::report::event::{split_page, StoredEvent};
use crate::report::{csv, ga4};
use crate::storage::sql;
use crate::time::parse_rfc3339;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// Rows per D1 read of the export.
pub const EXPORT_PAGE: usize = 500;
/// The export stops after this many pages (100,000 rows); narrow the range for more.
pub const EXPORT_MAX_PAGES: usize = 200;

pub async fn list(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(list_page(req, ctx).await)
}

pub async fn export(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(export_csv(req, ctx).await)
}

/// The cursor is bound to every parameter but itself and the page size.
fn scope(params: &Params) -> String {
    format!("events\n{}", params.canonical(&["cursor", "limit", "format"]))
}

/// The filter, with the range a cursor carries when one is given.
fn filter_and_position(
    params: &Params,
    config: &Config,
    key: &CursorKey,
) -> AppResult<(EventFilter, Option<Position>)> {
    let mut filter = EventFilter::parse(params, Utc::now(), config.email_fingerprint_key.as_bytes())?;
    let Some(raw) = params.get("cursor") else {
        return Ok((filter, None));
    };
    let c = cursor::decode(key, &scope(params), raw)?;
    let (Some(from), Some(to)) = (parse_rfc3339(&c.range.0), parse_rfc3339(&c.range.1)) else {
        return Err(bad("cursor", "invalid_cursor", "The cursor's range is unreadable."));
    };
    filter.range = TimeRange {
        from,
        to,
        ..filter.range
    };
    Ok((filter, Some(c.position)))
}

async fn list_page(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    let config = authorize(&req, &ctx.env)?;
    let params = query(&req, LIST_PARAMS)?;
    let limit = params::limit(&params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (filter, after) = filter_and_position(&params, &config, &key)?;
    let db = env::db(&ctx.env)?;
    let rows: Vec<StoredEvent> = store::all(&db, &sql::list_events(&filter, after.as_ref(), limit)).await?;
    let (page, next) = split_page(rows, limit, StoredEvent::position);
    let range = (filter.range.from_stored(), filter.range.to_stored());
    let next_cursor = next.map(|p| cursor::encode(&key, &scope(&params), range.clone(), p));
    http::json(
        200,
        &json!({
            "from": range.0,
            "to": range.1,
            "events": page.into_iter().map(StoredEvent::into_view).collect::<Vec<_>>(),
            "next_cursor": next_cursor,
        }),
    )
}

async fn export_csv(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    let config = authorize(&req, &ctx.env)?;
    let mut known = LIST_PARAMS.to_vec();
    known.push("format");
    let params = query(&req, &known)?;
    // CSV rows, or GA4 Measurement Protocol payloads (one JSON request body per line).
    let (render, content_type, filename): (fn(&[StoredEvent]) -> String, _, _) =
        match params.get("format").unwrap_or("csv") {
            "csv" => (csv::rows, "text/csv; charset=utf-8", "funnel-events.csv"),
            "ga4" => (ga4::ndjson, "application/x-ndjson", "funnel-events-ga4.ndjson"),
            _ => return Err(bad("format", "invalid_format", "`format` must be csv or ga4.")),
        };
    let header = if content_type.starts_with("text/csv") {
        csv::HEADER
    } else {
        ""
    };
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (filter, after) = filter_and_position(&params, &config, &key)?;
    let db = env::db(&ctx.env)?;

    // The first page is read before answering, so a D1 failure is still a clean 503.
    let rows: Vec<StoredEvent> = store::all(&db, &sql::list_events(&filter, after.as_ref(), EXPORT_PAGE)).await?;
    let (page, next) = split_page(rows, EXPORT_PAGE, StoredEvent::position);
    let first = format!("{header}{}", render(&page)).into_bytes();

    // Then one page per pull: never more than one page in memory.
    let rest = stream::try_unfold(
        next.map(|p| (db, filter, p, EXPORT_MAX_PAGES - 1)),
        move |state| async move {
            let Some((db, filter, after, pages_left)) = state else {
                return Ok(None);
            };
            if pages_left == 0 {
                return Ok(None);
            }
            let rows: Vec<StoredEvent> = store::all(&db, &sql::list_events(&filter, Some(&after), EXPORT_PAGE))
                .await
                .map_err(|e| {
                    console_error!("export stopped: {e:?}");
                    worker::Error::RustError("export stopped: storage unavailable".into())
                })?;
            let (page, next) = split_page(rows, EXPORT_PAGE, StoredEvent::position);
            let chunk = render(&page).into_bytes();
            Ok::<_, worker::Error>(Some((chunk, next.map(|p| (db, filter, p, pages_left - 1)))))
        },
    );
    let body = stream::once(async move { Ok::<Vec<u8>, worker::Error>(first) }).chain(rest.into_stream());
    let response = Response::from_stream(body).map_err(http::internal)?;
    let headers = response.headers();
    headers.set("content-type", content_type).map_err(http::internal)?;
    headers
        .set("content-disposition", &format!("attachment; filename=\"{filename}\""))
        .map_err(http::internal)?;
    Ok(response)
}
