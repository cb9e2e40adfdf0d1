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

use crate::error::{AppError, AppResult};
use crate::ingest::body;
use crate::query::bad;
use crate::security::fingerprint::fingerprint_email;
use crate::store::{Erasure, EventStore, StoreResult};
use crate::time::to_stored;

/// Rows per delete statement (each table), and statements per call: a call
/// stays far inside the platform's per-request query budget.
pub const ERASE_CHUNK: i64 = 1_000;
pub const ERASE_STEPS_PER_CALL: usize = 10;
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

/// Runs up to [`ERASE_STEPS_PER_CALL`] chunks of one erasure; the updated erasure.
async fn advance<S: EventStore>(store: &S, mut erasure: Erasure, now: DateTime<Utc>) -> StoreResult<Erasure> {
    for _ in 0..ERASE_STEPS_PER_CALL {
        let rows = store.erase_step(&erasure, ERASE_CHUNK, &to_stored(now)).await?;
        erasure.events_deleted += rows.events as i64;
        erasure.quarantine_deleted += rows.quarantine as i64;
        if (rows.events as i64) < ERASE_CHUNK && (rows.quarantine as i64) < ERASE_CHUNK {
            erasure.finished_at = Some(to_stored(now));
            break;
        }
    }
    Ok(erasure)
}

pub async fn request<S: EventStore>(
    store: &S,
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
        finished_at: None,
    };
    store.create_erasure(&erasure).await?;
    Ok(receipt(advance(store, erasure, now).await?))
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
pub async fn continue_unfinished<S: EventStore>(store: &S, now: DateTime<Utc>) -> StoreResult<usize> {
    let pending = store.unfinished_erasures(5).await?;
    let n = pending.len();
    for erasure in pending {
        advance(store, erasure, now).await?;
    }
    Ok(n)
}

/// A new erasure id.
pub fn random_erasure_id() -> String {
    super::random_id("er")
}
