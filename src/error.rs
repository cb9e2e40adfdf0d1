//! The one error type of the service and its RFC 9457 problem+json form.
//!
//! Every 4xx/5xx leaves through [`AppError::to_problem`]. `detail` is written
//! for the caller; internal causes (D1 messages, missing secret names) are
//! logged by the edge layer and never put into a problem body.

use serde::Serialize;

/// Why authentication failed. Each maps to one stable `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    MissingCredentials,
    MalformedSignature,
    BadSignature,
    StaleSignature,
    BadKey,
    /// `POST /collect` without a configured publishable key in `?key=`.
    BadPublishableKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    Unauthorized(AuthFailure),
    /// A valid key whose role may not call this route.
    InsufficientScope {
        have: &'static str,
        need: &'static str,
    },
    /// Body larger than the byte cap.
    PayloadTooLarge {
        limit_bytes: usize,
    },
    /// More events in one request than the batch cap.
    TooManyEvents {
        limit: usize,
        got: usize,
    },
    UnsupportedMediaType,
    /// `POST /collect` with a body that is not JSON text: a form
    /// (`URLSearchParams`, `FormData`) or a Blob of another type.
    NotABeaconBody,
    InvalidJson(String),
    /// The JSON parsed but is not the documented request shape.
    InvalidBody(String),
    /// A query or header parameter failed validation; names the parameter.
    InvalidParameter {
        code: &'static str,
        param: String,
        detail: String,
    },
    NotFound,
    MethodNotAllowed,
    /// A browser request from an origin its publishable key does not list (or with none).
    OriginNotAllowed,
    /// Over the per-IP or per-site rate limit of browser collection.
    RateLimited,
    /// D1 could not be reached or refused a write; nothing of the request was stored; the caller may retry.
    StorageUnavailable,
    /// D1 could not be reached or refused a read; the caller may retry.
    StorageUnavailableForRead,
    /// The deployment lacks a required secret or has an invalid variable.
    Misconfigured,
    /// The archive bucket (R2) is not bound, unreachable, or holds an object
    /// that differs from its manifest; the caller may retry.
    ArchiveUnavailable,
    /// The request cannot run in the data's present state (names why in `code`).
    Conflict {
        code: &'static str,
        detail: String,
    },
    Internal,
}

/// RFC 9457 problem details with a stable `code` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    /// The query parameter (or path segment) at fault, for 400s about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

impl Problem {
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: format!("https://funnel.dev/problems/{}", code.replace('_', "-")),
            title,
            status,
            detail: detail.into(),
            code,
            param: None,
        }
    }
}

/// Content type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl AppError {
    pub fn status(&self) -> u16 {
        self.to_problem().status
    }

    pub fn to_problem(&self) -> Problem {
        use AppError::*;
        match self {
            Unauthorized(failure) => {
                let (code, detail) = match failure {
                    AuthFailure::MissingCredentials => (
                        "missing_credentials",
                        "Send X-Funnel-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256>) or Authorization: Bearer <key>.",
                    ),
                    AuthFailure::MalformedSignature => (
                        "malformed_signature",
                        "X-Funnel-Signature must look like t=<unix seconds>,v1=<64 lowercase hex chars>.",
                    ),
                    AuthFailure::BadSignature => (
                        "bad_signature",
                        "No v1 signature matches HMAC-SHA256 over \"<t>.<raw body>\" with a configured key.",
                    ),
                    AuthFailure::StaleSignature => (
                        "stale_signature",
                        "The signature timestamp is outside the accepted window; check the sender's clock.",
                    ),
                    AuthFailure::BadKey => ("bad_key", "The bearer key is not valid."),
                    AuthFailure::BadPublishableKey => (
                        "bad_publishable_key",
                        "The key query parameter (/collect?key=pk_…) is missing or not a configured \
                         publishable key; a key in the body or a header is not read.",
                    ),
                };
                Problem::new(401, code, "Unauthorized", detail)
            }
            InsufficientScope { have, need } => Problem::new(
                403,
                "insufficient_scope",
                "Forbidden",
                format!("This key's role ({have}) may not call this route; it needs a key with the {need} role."),
            ),
            PayloadTooLarge { limit_bytes } => Problem::new(
                413,
                "payload_too_large",
                "Payload Too Large",
                format!("The request body exceeds {limit_bytes} bytes."),
            ),
            TooManyEvents { limit, got } => Problem::new(
                413,
                "too_many_events",
                "Payload Too Large",
                format!("A batch holds at most {limit} events; this one has {got}. Split it."),
            ),
            UnsupportedMediaType => Problem::new(
                415,
                "unsupported_media_type",
                "Unsupported Media Type",
                "Send the body as Content-Type: application/json.",
            ),
            NotABeaconBody => Problem::new(
                415,
                "unsupported_media_type",
                "Unsupported Media Type",
                "Send the events as JSON text: navigator.sendBeacon(url, JSON.stringify(body)) (text/plain) \
                 or fetch with Content-Type: application/json. A form body (URLSearchParams, FormData) \
                 or a Blob of another type is not read.",
            ),
            InvalidJson(detail) => Problem::new(400, "invalid_json", "Invalid JSON", detail.clone()),
            InvalidBody(detail) => Problem::new(400, "invalid_body", "Invalid request body", detail.clone()),
            InvalidParameter { code, param, detail } => Problem {
                param: Some(param.clone()),
                ..Problem::new(400, code, "Invalid parameter", detail.clone())
            },
            NotFound => Problem::new(404, "not_found", "Not Found", "No route matches this path."),
            OriginNotAllowed => Problem::new(
                403,
                "origin_not_allowed",
                "Forbidden",
                "This page's origin is not listed for the publishable key.",
            ),
            RateLimited => Problem::new(
                429,
                "rate_limited",
                "Too Many Requests",
                "Too many events from this address or site; retry after the Retry-After seconds.",
            ),
            MethodNotAllowed => Problem::new(
                405,
                "method_not_allowed",
                "Method Not Allowed",
                "This path does not accept this method.",
            ),
            StorageUnavailable => Problem::new(
                503,
                "storage_unavailable",
                "Service Unavailable",
                "The database is unavailable; nothing from this request was stored. Retry later.",
            ),
            StorageUnavailableForRead => Problem::new(
                503,
                "storage_unavailable",
                "Service Unavailable",
                "The database is unavailable. Retry later.",
            ),
            Misconfigured => Problem::new(
                500,
                "misconfigured",
                "Internal Server Error",
                "The service is not configured correctly; the operator has been told in the logs.",
            ),
            ArchiveUnavailable => Problem::new(
                503,
                "archive_unavailable",
                "Service Unavailable",
                "Part of the range is archived and the archive cannot be read right now. Retry later, or narrow the range to recent events.",
            ),
            Conflict { code, detail } => Problem::new(409, code, "Conflict", detail.clone()),
            Internal => Problem::new(500, "internal_error", "Internal Server Error", "Unexpected error."),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Why a backend call failed. Both are logged where they happen; neither
/// message ever reaches a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The database could not be reached, or refused the statements
    /// (locked, overloaded, a constraint): the caller may retry.
    Unavailable(String),
    /// A row came back in a shape its statement's type does not accept: a
    /// bug or poisoned data, never worth a retry.
    Decode(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Unavailable(m) => write!(f, "storage unavailable: {m}"),
            StorageError::Decode(m) => write!(f, "row decode failed: {m}"),
        }
    }
}

/// A storage failure as the caller sees it: an unreachable or refusing
/// database is a retryable 503; a row that does not decode is our bug (or
/// poisoned data), a 500. The cause is logged here, never sent.
impl From<StorageError> for AppError {
    fn from(e: StorageError) -> AppError {
        log::error!("{e}");
        match e {
            StorageError::Unavailable(_) => AppError::StorageUnavailable,
            StorageError::Decode(_) => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_auth_failure_is_a_401_with_its_own_code() {
        let codes: Vec<_> = [
            AuthFailure::MissingCredentials,
            AuthFailure::MalformedSignature,
            AuthFailure::BadSignature,
            AuthFailure::StaleSignature,
            AuthFailure::BadKey,
            AuthFailure::BadPublishableKey,
        ]
        .into_iter()
        .map(|f| {
            let p = AppError::Unauthorized(f).to_problem();
            assert_eq!(p.status, 401);
            p.code
        })
        .collect();
        assert_eq!(
            codes,
            [
                "missing_credentials",
                "malformed_signature",
                "bad_signature",
                "stale_signature",
                "bad_key",
                "bad_publishable_key"
            ]
        );
    }

    #[test]
    fn problem_serializes_with_rfc9457_members_and_code() {
        let p = AppError::UnsupportedMediaType.to_problem();
        let v = serde_json::to_value(&p).unwrap();
        for member in ["type", "title", "status", "detail", "code"] {
            assert!(v.get(member).is_some(), "missing {member}");
        }
        assert_eq!(v["status"], 415);
        assert_eq!(v["type"], "https://funnel.dev/problems/unsupported-media-type");
    }

    #[test]
    fn a_parameter_problem_names_its_parameter() {
        let err = AppError::InvalidParameter {
            code: "invalid_limit",
            param: "limit".into(),
            detail: "`limit` must be a whole number from 1 to 500.".into(),
        };
        let v = serde_json::to_value(err.to_problem()).unwrap();
        assert_eq!(
            (v["status"].as_u64(), v["code"].as_str(), v["param"].as_str()),
            (Some(400), Some("invalid_limit"), Some("limit"))
        );
        assert!(serde_json::to_value(AppError::NotFound.to_problem())
            .unwrap()
            .get("param")
            .is_none());
    }

    #[test]
    fn storage_failures_are_retryable_503s() {
        assert_eq!(AppError::StorageUnavailable.status(), 503);
    }

    #[test]
    fn an_outage_is_a_503_but_an_undecodable_row_is_a_500() {
        assert_eq!(AppError::from(StorageError::Unavailable("locked".into())).status(), 503);
        assert_eq!(
            AppError::from(StorageError::Decode("null for f64".into())).status(),
            500
        );
    }
}
