//! `POST /collect?key=pk_…` (and its `OPTIONS` preflight): events from web
//! pages, with a publishable key ([`crate::security::publishable`]).
//!
//! Order of checks: size (by the dispatcher) → the key and the page's
//! `Origin` → the rate limit (per IP, then per site) → content type (JSON, or
//! `text/plain` as `navigator.sendBeacon` sends a string) → then exactly what
//! signed ingest does ([`super::ingest::accept`]): validation, scrubbing,
//! sampling, storage, per-event answers. Each event must be of a
//! browser-safe type and not metered, or it is rejected with
//! `not_browser_safe` (the others are stored).
//!
//! CORS: every answer on `/collect` leaves through
//! [`crate::api::dispatch::respond`] (the shell's early refusals too: 413,
//! 405), which echoes `Access-Control-Allow-Origin` only for an origin the
//! key lists; any other origin (`null` included: an opaque origin names no
//! site) gets a 403 and no CORS header, so its page cannot read anything.

use chrono::{DateTime, Utc};

use super::ingest::{self, IngestAnswer, IngestRequest, Sender, Sink};
use crate::config::Config;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ingest::body;
use crate::ratelimit::{RateLimiter, Scope};
use crate::security::publishable::{self, PublishableKey};
use crate::spool::Spool;
use crate::store::EventStore;

/// The largest body: what `navigator.sendBeacon` may queue at once (64 KiB).
pub const COLLECT_MAX_BODY: usize = 65_536;

/// How long a browser may cache a preflight's answer, in seconds.
pub const PREFLIGHT_MAX_AGE_SECONDS: u32 = 600;

/// What collect reads of a request.
#[derive(Debug, Clone, Copy)]
pub struct CollectRequest<'a> {
    /// The `key` query parameter.
    pub key: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// `CF-Connecting-IP`: the rate limit's per-address bucket.
    pub client_ip: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The site whose key was presented, if the page's origin is one it lists:
/// 401 `bad_publishable_key` without a configured key, 403
/// `origin_not_allowed` for any other origin (or none: a page always sends one).
pub fn admit<'a>(config: &'a Config, key: Option<&str>, origin: Option<&str>) -> AppResult<&'a PublishableKey> {
    let site = key
        .and_then(|k| publishable::identify(k, &config.publishable_keys))
        .ok_or(AppError::Unauthorized(AuthFailure::BadPublishableKey))?;
    match origin {
        Some(origin) if site.allows_origin(origin) => Ok(site),
        _ => Err(AppError::OriginNotAllowed),
    }
}

/// JSON, or the `text/plain` that `sendBeacon` gives a string body (read as JSON).
pub fn is_beacon_content_type(value: Option<&str>) -> bool {
    body::is_json_content_type(value) || body::has_media_type(value, "text/plain")
}

/// The rate-limit buckets of a request: its address, then its site.
pub fn buckets(client_ip: Option<&str>, site: &PublishableKey) -> [(Scope, String); 2] {
    [
        (
            Scope::Ip,
            format!("{}:{}", Scope::Ip.prefix(), client_ip.unwrap_or("unknown")),
        ),
        (Scope::Site, format!("{}:{}", Scope::Site.prefix(), site.site)),
    ]
}

/// 429 `rate_limited` when either bucket is full. A limiter that cannot
/// answer lets the request through (logged): collection stays up, and the
/// batch caps still bound what one request can do.
async fn check_rate(limiter: Option<&dyn RateLimiter>, buckets: &[(Scope, String)]) -> AppResult<()> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    for (scope, bucket) in buckets {
        match limiter.allow(*scope, bucket).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::RateLimited),
            Err(e) => log::warn!("collect: rate limiter unavailable ({e}); let through"),
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn collect<S: EventStore>(
    store: &S,
    spool: Option<&dyn Spool>,
    limiter: Option<&dyn RateLimiter>,
    config: &Config,
    req: CollectRequest<'_>,
    received_at: DateTime<Utc>,
    new_event_id: &mut dyn FnMut() -> String,
) -> AppResult<IngestAnswer> {
    let site = admit(config, req.key, req.origin)?;
    check_rate(limiter, &buckets(req.client_ip, site)).await?;
    if !is_beacon_content_type(req.content_type) {
        return Err(AppError::NotABeaconBody);
    }
    let sender = Sender {
        default_source: &site.site,
        browser: true,
    };
    let input = IngestRequest {
        signature: None,
        authorization: None,
        content_type: req.content_type,
        // A beacon cannot set headers; a page's trace ids travel in the events.
        trace_header: None,
        body: req.body,
    };
    ingest::accept(
        store,
        spool,
        config,
        sender,
        input,
        received_at,
        Sink::Store,
        new_event_id,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let vars = [
            ("INTERNAL_API_KEY", "ik"),
            ("INGEST_HMAC_SECRET", "hs"),
            ("EMAIL_FINGERPRINT_KEY", "fk"),
            (
                "PUBLISHABLE_KEYS",
                "pk_docs0123456789abcdef:docs:https://docs.example.com",
            ),
        ];
        Config::from_lookup(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())).unwrap()
    }

    #[test]
    fn only_a_configured_key_from_a_listed_origin_is_admitted() {
        let config = config();
        let key = Some("pk_docs0123456789abcdef");
        assert_eq!(
            admit(&config, key, Some("https://docs.example.com")).unwrap().site,
            "docs"
        );
        assert_eq!(
            admit(&config, key, Some("https://evil.example.com")).unwrap_err(),
            AppError::OriginNotAllowed
        );
        assert_eq!(admit(&config, key, None).unwrap_err(), AppError::OriginNotAllowed);
        for bad in [None, Some("pk_other0123456789abcdef"), Some("ik")] {
            assert_eq!(
                admit(&config, bad, Some("https://docs.example.com")).unwrap_err(),
                AppError::Unauthorized(AuthFailure::BadPublishableKey)
            );
        }
    }

    #[test]
    fn a_beacon_string_body_is_text_plain_and_read_as_json() {
        assert!(is_beacon_content_type(Some("text/plain;charset=UTF-8")));
        assert!(is_beacon_content_type(Some("application/json")));
        assert!(!is_beacon_content_type(Some("application/x-www-form-urlencoded")));
        assert!(!is_beacon_content_type(Some("multipart/form-data; boundary=x")));
        assert!(!is_beacon_content_type(None));
    }
}
