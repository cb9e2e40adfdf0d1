//! The access log: which key looked up whom. Every read that names a person
//! (by address, fingerprint, user id or trace), every export and every admin
//! write appends an entry ([`entry_for`], called by the dispatcher after the
//! use case answered); `GET /internal/audit` (admin) reads it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::error::AppResult;
use crate::query::cursor::{self, CursorKey};
use crate::query::params::{self, Params};
use crate::query::{bad, range::TimeRange};
use crate::report::event::split_page;
use crate::security::fingerprint::EmailFilter;
use crate::store::{AuditEntry, AuditQuery, AuditRow, EventStore, Span};
use crate::time::to_stored;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub from: String,
    pub to: String,
    pub entries: Vec<AuditRow>,
    pub next_cursor: Option<String>,
}

/// What a request looked up: the subject it names, from its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub kind: &'static str,
    pub subject: Option<String>,
}

/// The person a list or export names, if any: an address becomes its
/// fingerprint (or its domain for `@domain`), never the raw text.
pub fn lookup_of_filter(params: &Params, fingerprint_key: &[u8]) -> Option<Lookup> {
    if let Some(fp) = params.get("email_fingerprint") {
        return Some(Lookup {
            kind: "email_fingerprint",
            subject: Some(fp.to_ascii_lowercase()),
        });
    }
    if params.get("q_email").is_some() {
        return match crate::query::filter::parse_email(params, fingerprint_key)
            .ok()
            .flatten()
        {
            Some(EmailFilter::Fingerprint(fp)) => Some(Lookup {
                kind: "email_fingerprint",
                subject: Some(fp),
            }),
            Some(EmailFilter::Domain(d)) => Some(Lookup {
                kind: "email_domain",
                subject: Some(d),
            }),
            None => None,
        };
    }
    for kind in ["trace_id", "user_id"] {
        if let Some(v) = params.get(kind) {
            return Some(Lookup {
                kind: if kind == "trace_id" { "trace" } else { "user_id" },
                subject: Some(v.to_string()),
            });
        }
    }
    None
}

/// An entry for the access log.
pub fn entry(now: DateTime<Utc>, key_name: &str, route: String, lookup: Lookup, rows: Option<i64>) -> AuditEntry {
    AuditEntry {
        at: to_stored(now),
        key_name: key_name.to_string(),
        route,
        kind: lookup.kind.to_string(),
        subject: lookup.subject,
        rows,
    }
}

fn scope(params: &Params) -> String {
    format!("audit\n{}", params.canonical(&["cursor", "limit"]))
}

pub async fn list<S: EventStore>(
    store: &S,
    config: &Config,
    params: &Params,
    now: DateTime<Utc>,
) -> AppResult<AuditPage> {
    let limit = params::limit(params, 50, 500)?;
    let range = TimeRange::parse(params, now)?;
    for name in ["key", "subject"] {
        if params.get(name).is_some_and(|v| v.chars().count() > 128) {
            return Err(bad(
                name,
                "parameter_too_long",
                format!("`{name}` is longer than 128 characters."),
            ));
        }
    }
    let key = CursorKey::derive(config.email_fingerprint_key.as_bytes());
    let (range, after) = cursor::resume(&key, &scope(params), params.get("cursor"), range)?;
    let span = Span::from(&range);
    let query = AuditQuery {
        span: &span,
        key_name: params.get("key"),
        subject: params.get("subject"),
        after: after.as_ref(),
        limit,
    };
    let rows = store.list_audit(&query).await?;
    let (page, next) = split_page(rows, limit, |r: &AuditRow| cursor::Position {
        ts: r.entry.at.clone(),
        id: r.id,
    });
    let next_cursor = next.map(|p| cursor::encode(&key, &scope(params), (span.from.clone(), span.to.clone()), p));
    Ok(AuditPage {
        from: span.from,
        to: span.to,
        entries: page,
        next_cursor,
    })
}
