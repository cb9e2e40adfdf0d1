//! The event list's filters (`GET /internal/funnel-events` and its CSV export).

use chrono::{DateTime, Utc};

use super::{bad, params::Params, range::TimeRange};
use crate::catalog;
use crate::error::AppResult;
use crate::ingest::normalize::is_source_token;
use crate::record::StoredEvent;
use crate::security::fingerprint::{email_filter, EmailFilter};
use crate::trace::accept_trace_id;

/// Parameters of the list (and export) endpoint.
pub const LIST_PARAMS: &[&str] = &[
    "from",
    "to",
    "tz",
    "type",
    "q_email",
    "email_fingerprint",
    "trace_id",
    "tenant_id",
    "user_id",
    "job_id",
    "session_id",
    "source",
    "success",
    "error_code",
    "limit",
    "cursor",
];

/// Most event types one `type` list may name.
pub const MAX_TYPES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub range: TimeRange,
    /// Empty: every type.
    pub types: Vec<String>,
    pub email: Option<EmailFilter>,
    pub trace_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub job_id: Option<String>,
    pub session_id: Option<String>,
    pub source: Option<String>,
    pub success: Option<bool>,
    pub error_code: Option<String>,
}

impl EventFilter {
    /// Every event of the range.
    pub fn everything(range: TimeRange) -> EventFilter {
        EventFilter {
            range,
            types: Vec::new(),
            email: None,
            trace_id: None,
            tenant_id: None,
            user_id: None,
            job_id: None,
            session_id: None,
            source: None,
            success: None,
            error_code: None,
        }
    }

    /// Whether `event` passes the filter: the rule `storage::sql::list_events`
    /// states in SQL, for events read from elsewhere (the archive's objects).
    pub fn matches(&self, event: &StoredEvent) -> bool {
        let same = |wanted: &Option<String>, value: &Option<String>| wanted.is_none() || wanted == value;
        let catalog_failure = || catalog::failure_types().contains(&event.event_type.as_str());
        event.ts >= self.range.from_stored()
            && event.ts < self.range.to_stored()
            && (self.types.is_empty() || self.types.contains(&event.event_type))
            && match &self.email {
                Some(EmailFilter::Fingerprint(fp)) => event.email_fingerprint.as_ref() == Some(fp),
                Some(EmailFilter::Domain(domain)) => event.email_domain.as_ref() == Some(domain),
                None => true,
            }
            && same(&self.trace_id, &event.trace_id)
            && same(&self.tenant_id, &event.tenant_id)
            && same(&self.user_id, &event.user_id)
            && same(&self.job_id, &event.job_id)
            && same(&self.session_id, &event.session_id)
            && self.source.as_ref().is_none_or(|s| *s == event.source)
            && same(&self.error_code, &event.error_code)
            && match self.success {
                Some(true) => event.success == Some(1) && !catalog_failure(),
                Some(false) => event.success == Some(0) || catalog_failure(),
                None => true,
            }
    }

    pub fn parse(params: &Params, now: DateTime<Utc>, fingerprint_key: &[u8]) -> AppResult<EventFilter> {
        Ok(EventFilter {
            range: TimeRange::parse(params, now)?,
            types: parse_types(params.get("type"))?,
            email: parse_email(params, fingerprint_key)?,
            trace_id: params
                .get("trace_id")
                .map(|raw| {
                    accept_trace_id(raw).map(str::to_string).ok_or_else(|| {
                        bad(
                            "trace_id",
                            "invalid_trace_id",
                            "`trace_id` must start with trace_, be at most 128 characters and hold visible ASCII only.",
                        )
                    })
                })
                .transpose()?,
            tenant_id: bounded(params, "tenant_id", 128)?,
            user_id: bounded(params, "user_id", 128)?,
            job_id: bounded(params, "job_id", 128)?,
            session_id: bounded(params, "session_id", 128)?,
            source: params
                .get("source")
                .map(|s| {
                    is_source_token(s)
                        .then(|| s.to_string())
                        .ok_or_else(|| bad("source", "invalid_source", "`source` must match [a-z0-9_-]{1,32}."))
                })
                .transpose()?,
            success: params
                .get("success")
                .map(|s| match s {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(bad(
                        "success",
                        "invalid_success",
                        "`success` must be true, false, 1 or 0.",
                    )),
                })
                .transpose()?,
            error_code: bounded(params, "error_code", 64)?,
        })
    }
}

fn parse_types(raw: Option<&str>) -> AppResult<Vec<String>> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let mut types: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if catalog::find(name).is_none() {
            let shown: String = name.chars().take(64).collect();
            return Err(bad(
                "type",
                "unknown_event_type",
                format!("`{shown}` is not in the event catalog (GET /internal/catalog lists them)."),
            ));
        }
        if !types.iter().any(|t| t == name) {
            types.push(name.to_string());
        }
    }
    if types.len() > MAX_TYPES {
        return Err(bad(
            "type",
            "too_many_types",
            format!("`type` lists at most {MAX_TYPES} event types."),
        ));
    }
    Ok(types)
}

pub fn parse_email(params: &Params, key: &[u8]) -> AppResult<Option<EmailFilter>> {
    match (params.get("q_email"), params.get("email_fingerprint")) {
        (Some(_), Some(_)) => Err(bad(
            "email_fingerprint",
            "conflicting_parameters",
            "Send either `q_email` or `email_fingerprint`, not both.",
        )),
        // The address is never echoed back, not even in the error.
        (Some(raw), None) => email_filter(key, raw).map(Some).map_err(|_| {
            bad(
                "q_email",
                "invalid_email",
                "`q_email` must be an email address or @domain.",
            )
        }),
        (None, Some(fp)) => {
            if fp.len() == 64 && fp.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                Ok(Some(EmailFilter::Fingerprint(fp.to_string())))
            } else {
                Err(bad(
                    "email_fingerprint",
                    "invalid_fingerprint",
                    "`email_fingerprint` must be 64 lowercase hex characters.",
                ))
            }
        }
        (None, None) => Ok(None),
    }
}

fn bounded(params: &Params, name: &str, max_chars: usize) -> AppResult<Option<String>> {
    match params.get(name) {
        Some(v) if v.chars().count() > max_chars => Err(bad(
            name,
            "parameter_too_long",
            format!("`{name}` is longer than {max_chars} characters."),
        )),
        other => Ok(other.map(str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use crate::security::fingerprint::fingerprint_email;

    const KEY: &[u8] = b"pepper";

    fn parse(pairs: &[(&str, &str)]) -> AppResult<EventFilter> {
        let params = Params::parse(pairs.iter().copied(), LIST_PARAMS)?;
        EventFilter::parse(&params, Utc::now(), KEY)
    }

    fn err(pairs: &[(&str, &str)]) -> (&'static str, String) {
        match parse(pairs).unwrap_err() {
            AppError::InvalidParameter { code, param, .. } => (code, param),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_address_becomes_its_fingerprint_and_a_domain_stays_a_domain() {
        let f = parse(&[("q_email", " Alice@Example.com ")]).unwrap();
        let expected = fingerprint_email(KEY, "alice@example.com").unwrap().fingerprint;
        assert_eq!(f.email, Some(EmailFilter::Fingerprint(expected)));
        let f = parse(&[("q_email", "@Example.com")]).unwrap();
        assert_eq!(f.email, Some(EmailFilter::Domain("example.com".into())));
    }

    #[test]
    fn an_invalid_email_filter_is_a_400_that_does_not_echo_it() {
        match parse(&[("q_email", "not an email")]).unwrap_err() {
            AppError::InvalidParameter { code, detail, .. } => {
                assert_eq!(code, "invalid_email");
                assert!(!detail.contains("not an email"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_lists_are_checked_against_the_catalog_and_deduplicated() {
        let f = parse(&[("type", "m_auth_login_fail, m_auth_login_success,m_auth_login_fail")]).unwrap();
        assert_eq!(f.types, ["m_auth_login_fail", "m_auth_login_success"]);
        assert_eq!(
            err(&[("type", "m_auth_login_fial")]),
            ("unknown_event_type", "type".into())
        );
    }

    #[test]
    fn an_invalid_trace_id_filter_is_a_400_never_ignored() {
        assert_eq!(err(&[("trace_id", "abc")]), ("invalid_trace_id", "trace_id".into()));
        assert_eq!(
            parse(&[("trace_id", " trace_x ")]).unwrap().trace_id.as_deref(),
            Some("trace_x")
        );
    }

    #[test]
    fn every_other_filter_rejects_bad_values_by_name() {
        assert_eq!(err(&[("source", "Zuplo!")]), ("invalid_source", "source".into()));
        assert_eq!(err(&[("success", "yes")]), ("invalid_success", "success".into()));
        assert_eq!(
            err(&[("error_code", &"e".repeat(65))]),
            ("parameter_too_long", "error_code".into())
        );
        assert!(parse(&[("error_code", &"e".repeat(64))]).is_ok());
        assert_eq!(
            err(&[("tenant_id", &"t".repeat(129))]),
            ("parameter_too_long", "tenant_id".into())
        );
        assert_eq!(
            err(&[("email_fingerprint", "ABC")]),
            ("invalid_fingerprint", "email_fingerprint".into())
        );
        assert_eq!(
            err(&[("q_email", "a@b.c"), ("email_fingerprint", &"a".repeat(64))]),
            ("conflicting_parameters", "email_fingerprint".into())
        );
        assert_eq!(parse(&[("success", "0")]).unwrap().success, Some(false));
    }
}
