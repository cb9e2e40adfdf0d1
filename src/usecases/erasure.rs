//! Erasure on request (GDPR Art. 17, Korea's PIPA): `POST /internal/erasure`
//! deletes every event and quarantined copy of one person, named by address,
//! fingerprint or user id, in bounded chunks (a large subject finishes across
//! calls and cron runs: the receipt says what is left), keeping every rollup
//! exact (the delete triggers). With `suppress`, the person's later events are
//! answered `suppressed` and stored nowhere. `GET /internal/erasure/{id}`
//! shows the progress. Every request is in the access log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use std::collections::HashMap;

use crate::archive::hour::{self, ArchivedHour};
use crate::archive::{read_object, write_manifest, write_verified, ArchiveStore};
use crate::error::{AppError, AppResult};
use crate::ingest::body;
use crate::query::bad;
use crate::record::StoredEvent;
use crate::security::fingerprint::fingerprint_email;
use crate::store::{ArchiveRewrite, Erasure, EventStore, StoreResult};
use crate::time::to_stored;

use super::ArchiveJobError;

/// Rows per delete statement (each table), and statements per call: a call
/// stays far inside the platform's per-request query budget.
pub const ERASE_CHUNK: i64 = 1_000;
pub const ERASE_STEPS_PER_CALL: usize = 10;
/// Archived hour objects rewritten per call: each is a get, a put, a get to
/// verify and the manifest's put (4 R2 calls) and 2 D1 batches, so a call
/// spends at most 32 R2 calls.
pub const ARCHIVE_HOURS_PER_CALL: usize = 8;
/// The largest erasure request body.
pub const ERASURE_MAX_BODY: usize = 4096;

/// The answer to an erasure request or a progress check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureReceipt {
    #[serde(flatten)]
    pub erasure: Erasure,
    /// No row of the subject is left (else the cron, or another call, continues).
    pub done: bool,
}

fn receipt(erasure: Erasure) -> ErasureReceipt {
    ErasureReceipt {
        done: erasure.finished_at.is_some(),
        erasure,
    }
}

/// `{"email" | "email_fingerprint" | "user_id": "...", "suppress": bool}` → (kind, subject, suppress).
pub fn parse_request(raw: &[u8], fingerprint_key: &[u8]) -> AppResult<(&'static str, String, bool)> {
    let value = crate::ingest::strict_json::from_slice(raw)
        .map_err(|e| AppError::InvalidJson(format!("The body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(AppError::InvalidBody("The body must be a JSON object.".into()));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["email", "email_fingerprint", "user_id", "suppress"].contains(&k.as_str()))
    {
        let shown: String = unknown.chars().take(40).collect();
        return Err(bad(&shown, "unknown_field", format!("Unknown field `{shown}`.")));
    }
    let suppress = match map.get("suppress") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("suppress", "invalid_suppress", "`suppress` must be true or false.")),
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::trim);
    let named = ["email", "email_fingerprint", "user_id"]
        .iter()
        .filter(|k| map.contains_key(**k))
        .count();
    if named != 1 {
        return Err(AppError::InvalidBody(
            "Name the person with exactly one of `email`, `email_fingerprint` or `user_id`.".into(),
        ));
    }
    if map.contains_key("email") {
        // The address is fingerprinted at once and never echoed, not even in an error.
        let fp = text("email")
            .and_then(|e| fingerprint_email(fingerprint_key, e).ok())
            .ok_or_else(|| bad("email", "invalid_email", "`email` must be an email address."))?;
        return Ok(("email_fingerprint", fp.fingerprint, suppress));
    }
    if map.contains_key("email_fingerprint") {
        let fp = text("email_fingerprint")
            .filter(|f| f.len() == 64 && f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .ok_or_else(|| {
                bad(
                    "email_fingerprint",
                    "invalid_fingerprint",
                    "`email_fingerprint` must be 64 lowercase hex characters.",
                )
            })?;
        return Ok(("email_fingerprint", fp.to_string(), suppress));
    }
    let user = text("user_id")
        .filter(|u| !u.is_empty() && u.chars().count() <= 128)
        .ok_or_else(|| bad("user_id", "invalid_user_id", "`user_id` must be 1 to 128 characters."))?;
    Ok(("user_id", user.to_string(), suppress))
}

/// Runs up to [`ERASE_STEPS_PER_CALL`] chunks of one erasure in D1, then (once
/// D1 holds none of the subject's rows) rewrites up to
/// [`ARCHIVE_HOURS_PER_CALL`] archived hour objects that hold them; the
/// updated erasure.
async fn advance<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    erasure: Erasure,
    now: DateTime<Utc>,
) -> StoreResult<Erasure> {
    let mut d1_clean = false;
    for _ in 0..ERASE_STEPS_PER_CALL {
        let rows = store.erase_step(&erasure, ERASE_CHUNK, &to_stored(now)).await?;
        if (rows.events as i64) < ERASE_CHUNK && (rows.quarantine as i64) < ERASE_CHUNK {
            d1_clean = true;
            break;
        }
    }
    if d1_clean {
        erase_archived(store, archive, &erasure, now).await?;
    }
    Ok(store.get_erasure(&erasure.id).await?.unwrap_or(erasure))
}

/// Rewrites the archived hours holding the subject, each in two recorded
/// steps (see [`rewrite_hour`]). An archive failure stops here and leaves the
/// erasure unfinished: the next call or cron run resumes it.
async fn erase_archived<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    erasure: &Erasure,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let hours = store
        .archived_hours_of_subject(&erasure.subject_kind, &erasure.subject, ARCHIVE_HOURS_PER_CALL)
        .await?;
    if hours.is_empty() {
        return Ok(());
    }
    let Some(archive) = archive else {
        log::error!("erasure: archived hours hold the subject but no archive bucket is bound");
        return Ok(());
    };
    let names: Vec<String> = hours.iter().map(|h| h.hour.clone()).collect();
    let pending: HashMap<String, ArchiveRewrite> = store
        .archive_rewrites_of(&names)
        .await?
        .into_iter()
        .map(|r| (r.hour.clone(), r))
        .collect();
    for manifest in &hours {
        match rewrite_hour(store, archive, erasure, manifest, pending.get(&manifest.hour), now).await {
            Ok(()) => {}
            Err(ArchiveJobError::Storage(e)) => return Err(e),
            Err(ArchiveJobError::Archive(e)) => {
                log::error!("erasure stopped in the archive (resumes on the next run): {e}");
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Whether an event is the erasure's subject's.
fn is_subjects(erasure: &Erasure, event: &StoredEvent) -> bool {
    let field = if erasure.subject_kind == "user_id" {
        &event.user_id
    } else {
        &event.email_fingerprint
    };
    field.as_deref() == Some(erasure.subject.as_str())
}

/// One hour's object without the subject's events, the way retention writes
/// objects (write, read back, check size, SHA-256, rows, hour; then the
/// manifest beside it). Step one (D1, before the object is touched) records the
/// new manifest and debits the rollups; step two (after the verified write)
/// makes it the hour's manifest. A run stopped between them finds the pending
/// manifest: when the object already matches it only step two is left, else
/// the object (still the old one) is rewritten without a second debit.
async fn rewrite_hour<S: EventStore>(
    store: &S,
    archive: &dyn ArchiveStore,
    erasure: &Erasure,
    manifest: &ArchivedHour,
    pending: Option<&ArchiveRewrite>,
    now: DateTime<Utc>,
) -> Result<(), ArchiveJobError> {
    let archived_at = to_stored(now);
    let bytes = read_object(archive, manifest).await?;
    let pending_manifest = pending.map(|p| ArchivedHour {
        rows: p.rows,
        bytes: p.bytes,
        sha256: p.sha256.clone(),
        archived_at: archived_at.clone(),
        ..manifest.clone()
    });
    if let Some(done) = pending_manifest.filter(|m| hour::verify(&bytes, m).is_ok()) {
        write_manifest(archive, &done).await?;
        store.finish_archive_rewrite(erasure, &done, &archived_at).await?;
        return Ok(());
    }
    let (removed, kept): (Vec<StoredEvent>, Vec<StoredEvent>) = hour::verify(&bytes, manifest)?
        .into_iter()
        .partition(|e| is_subjects(erasure, e));
    if removed.is_empty() && pending.is_none() {
        // The index named an hour the subject has no event in (any more).
        store.finish_archive_rewrite(erasure, manifest, &archived_at).await?;
        return Ok(());
    }
    let (new_bytes, new_manifest) = hour::encode(&manifest.hour, &kept, &archived_at)?;
    let rewrite = ArchiveRewrite {
        hour: manifest.hour.clone(),
        erasure_id: erasure.id.clone(),
        rows: new_manifest.rows,
        bytes: new_manifest.bytes,
        sha256: new_manifest.sha256.clone(),
    };
    // Debited once: a pending rewrite already did.
    let debit: &[StoredEvent] = if pending.is_some() { &[] } else { &removed };
    store.begin_archive_rewrite(&rewrite, debit).await?;
    write_verified(archive, new_bytes, &new_manifest).await?;
    store
        .finish_archive_rewrite(erasure, &new_manifest, &archived_at)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn request<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    fingerprint_key: &[u8],
    key_name: &str,
    content_type: Option<&str>,
    raw: &[u8],
    now: DateTime<Utc>,
    new_id: &mut dyn FnMut() -> String,
) -> AppResult<ErasureReceipt> {
    if !body::is_json_content_type(content_type) {
        return Err(AppError::UnsupportedMediaType);
    }
    let (kind, subject, suppress) = parse_request(raw, fingerprint_key)?;
    let erasure = Erasure {
        id: new_id(),
        subject_kind: kind.to_string(),
        subject,
        suppress,
        requested_at: to_stored(now),
        requested_by: key_name.to_string(),
        events_deleted: 0,
        quarantine_deleted: 0,
        archived_deleted: 0,
        finished_at: None,
    };
    store.create_erasure(&erasure).await?;
    Ok(receipt(advance(store, archive, erasure, now).await?))
}

pub async fn progress<S: EventStore>(store: &S, id: &str) -> AppResult<ErasureReceipt> {
    if id.len() > 64 {
        return Err(bad(
            "id",
            "invalid_erasure_id",
            "An erasure id is at most 64 characters.",
        ));
    }
    store.get_erasure(id).await?.map(receipt).ok_or(AppError::NotFound)
}

/// The cron's share: continues the oldest unfinished erasures.
pub async fn continue_unfinished<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let pending = store.unfinished_erasures(5).await?;
    let n = pending.len();
    for erasure in pending {
        advance(store, archive, erasure, now).await?;
    }
    Ok(n)
}

/// A new erasure id.
pub fn random_erasure_id() -> String {
    super::random_id("er")
}
