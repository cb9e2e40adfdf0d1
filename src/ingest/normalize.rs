//! One raw event → a row for `funnel_events`, or a rejection with a PII-free
//! copy for the quarantine. Field aliases senders use (docs/api.md) are resolved here.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{MAX_ERROR_CODE_CHARS, MAX_ERROR_MESSAGE_CHARS, MAX_ID_CHARS};
use crate::catalog::{self, validate, validate::Issue, Field};
use crate::privacy::{scrub_numbers, scrub_text, scrub_value, PiiKind};
use crate::security::fingerprint::{EmailFingerprint, Fingerprinter};
use crate::time::{is_storable, parse_rfc3339, to_stored};
use crate::trace::accept_trace_id;

/// What the request contributes to each of its events.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub received_at: DateTime<Utc>,
    /// `received_at − sent_at`: added to each `occurred_at` to undo the sender's clock error.
    pub clock_skew: Duration,
    pub default_source: &'a str,
    /// The request's `x-trace-id`, already accepted by the trace rule.
    pub header_trace_id: Option<&'a str>,
    /// The address fingerprint's HMAC, keyed once for the request.
    pub fingerprints: Fingerprinter,
    /// Re-validating a quarantined event: its address was already replaced by
    /// `email_fingerprint` + `email_domain`, which then stand for `email`.
    pub replay: bool,
    /// Sent from a web page with a publishable key (`POST /collect`): only
    /// browser-safe types, never a metered one, and the site is the source.
    pub browser: bool,
}

/// The code of an event a web page may not send.
pub const NOT_BROWSER_SAFE: &str = "not_browser_safe";

pub use crate::record::EventRow;

/// A rejected event as kept in `event_quarantine`: the raw address replaced by
/// its fingerprint and domain, so it can be replayed but never leaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub received_at: String,
    pub source: String,
    pub event_type: Option<String>,
    pub event_id: String,
    pub header_trace_id: Option<String>,
    pub clock_skew_ms: i64,
    pub errors_json: String,
    pub event_json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Normalized {
    Valid {
        row: EventRow,
        warnings: Vec<Issue>,
    },
    Rejected {
        event_id: String,
        source: String,
        errors: Vec<Issue>,
        warnings: Vec<Issue>,
        quarantine: QuarantineRow,
    },
}

/// Top-level fields and the other spellings the products use for them.
/// `event_name` is the event dictionary's automatic parameter naming the event.
pub(crate) const EVENT_TYPE: &[&str] = &["event_type", "event", "name", "event_name"];
/// `sub` is how the gateway's identity provider names a user (the funnel's `m_auth_*` events send it).
pub(crate) const USER_ID: &[&str] = &["user_id", "userId", "sub"];
pub(crate) const SESSION_ID: &[&str] = &["session_id", "sessionId"];
pub(crate) const OCCURRED_AT: &[&str] = &["occurred_at", "occurredAt", "timestamp"];
pub(crate) const PROPERTIES: &[&str] = &["properties", "params"];
const KNOWN_FIELDS: &[&str] = &[
    "event_type",
    "event",
    "name",
    "event_name",
    "event_id",
    "occurred_at",
    "occurredAt",
    "timestamp",
    "trace_id",
    "service",
    "source",
    "tenant_id",
    "job_id",
    "user_id",
    "userId",
    "sub",
    "session_id",
    "sessionId",
    "anonymous_id",
    "email",
    "success",
    "error_code",
    "error_message",
    "properties",
    "params",
];

pub fn normalize(raw: &Value, ctx: &RequestContext, new_event_id: &mut dyn FnMut() -> String) -> Normalized {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let Value::Object(map) = raw else {
        errors.push(Issue::new("invalid_event", "", "each event must be a JSON object"));
        let event_id = new_event_id();
        let quarantine = quarantine_row(ctx, ctx.default_source, None, &event_id, &Map::new(), &errors);
        return Normalized::Rejected {
            event_id,
            source: ctx.default_source.into(),
            errors,
            warnings,
            quarantine,
        };
    };
    // Identifiers sent among the properties become the top-level fields they are.
    let arranged = super::arrange::arrange(map, &mut errors, &mut warnings);
    let map = arranged.as_ref().unwrap_or(map);
    let mut f = Fields {
        map,
        errors: &mut errors,
    };

    let event_type = f.string(EVENT_TYPE, usize::MAX);
    let def = match &event_type {
        None => {
            f.errors.push(Issue::new(
                "missing_required_field",
                "event_type",
                "event_type is required",
            ));
            None
        }
        Some(name) => {
            let def = catalog::find(name);
            if def.is_none() {
                f.errors.push(Issue::new(
                    "unknown_event_type",
                    "event_type",
                    "event_type is not in the event catalog",
                ));
            }
            def
        }
    };
    let given_event_id = f.string(&["event_id"], MAX_ID_CHARS);
    let source = f.string(&["source"], usize::MAX);
    let source = match source {
        Some(s) if is_source_token(&s) => s,
        Some(_) => {
            f.errors.push(Issue::new(
                "invalid_source",
                "source",
                "source must match [a-z0-9_-]{1,32}",
            ));
            ctx.default_source.to_string()
        }
        None => ctx.default_source.to_string(),
    };
    // A page cannot speak for another sender: its events are its site's.
    if ctx.browser && source != ctx.default_source {
        f.errors.push(Issue::new(
            "invalid_source",
            "source",
            "an event sent from a browser has its site as source",
        ));
    }
    let service = f.string(&["service"], usize::MAX);
    if let (Some(service), Some(def)) = (&service, def) {
        if service != def.service {
            f.errors.push(Issue::new(
                "service_mismatch",
                "service",
                format!("{} belongs to service {}", def.name, def.service),
            ));
        }
    }
    let occurred_at = f.timestamp(OCCURRED_AT, ctx.clock_skew, ctx.received_at);
    let tenant_id = f.string(&["tenant_id"], MAX_ID_CHARS);
    let job_id = f.string(&["job_id"], MAX_ID_CHARS);
    let user_id = f.string(USER_ID, MAX_ID_CHARS);
    let session_id = f.string(SESSION_ID, MAX_ID_CHARS);
    let anonymous_id = f.string(&["anonymous_id"], MAX_ID_CHARS);
    let error_code = f.string(&["error_code"], MAX_ERROR_CODE_CHARS);
    let success = f.success();
    // Free text is scrubbed before it is cut: a cut must not hide half an address from the scrubber.
    let error_message = f.string(&["error_message"], usize::MAX).map(|m| {
        let (scrubbed, kinds) = scrub_text(&m);
        let m = if kinds.is_empty() {
            m
        } else {
            warnings.push(pii_redacted("error_message", &kinds));
            scrubbed.into_owned()
        };
        if m.chars().count() > MAX_ERROR_MESSAGE_CHARS {
            warnings.push(Issue::new(
                "truncated",
                "error_message",
                format!("error_message was cut to {MAX_ERROR_MESSAGE_CHARS} characters"),
            ));
            m.chars().take(MAX_ERROR_MESSAGE_CHARS).collect()
        } else {
            m
        }
    });
    let email = match f.map.get("email") {
        // The address itself is gone from a quarantined copy, so a refused one can never pass.
        None | Some(Value::Null) if ctx.replay && f.map.get(EMAIL_REFUSED) == Some(&Value::Bool(true)) => {
            f.errors.push(invalid_email());
            None
        }
        None | Some(Value::Null) if ctx.replay => stored_fingerprint(f.map),
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match ctx.fingerprints.email(s) {
            Ok(fp) => Some(fp),
            Err(_) => {
                f.errors.push(invalid_email());
                None
            }
        },
        Some(_) => {
            f.errors
                .push(Issue::new("invalid_field_type", "email", "email must be a string"));
            None
        }
    };
    let trace_id = match f.map.get("trace_id") {
        None | Some(Value::Null) => ctx.header_trace_id.map(str::to_string),
        Some(Value::String(s)) => match accept_trace_id(s) {
            Some(t) => Some(t.to_string()),
            None => {
                warnings.push(Issue::new(
                    "invalid_trace_id",
                    "trace_id",
                    "trace_id is not a trace id (trace_ prefix, ≤ 128 visible ASCII); stored as null",
                ));
                None
            }
        },
        Some(_) => {
            warnings.push(Issue::new(
                "invalid_trace_id",
                "trace_id",
                "trace_id must be a string; stored as null",
            ));
            None
        }
    };
    let properties = match f.one_of(PROPERTIES) {
        None => None,
        Some(Value::Object(p)) => Some(p.clone()),
        Some(_) => {
            f.errors.push(Issue::new(
                "invalid_field_type",
                "properties",
                "properties must be an object",
            ));
            None
        }
    };
    let known = |k: &str| KNOWN_FIELDS.contains(&k) || (ctx.replay && REPLAY_FIELDS.contains(&k));
    for key in map.keys().filter(|k| !known(k)) {
        warnings.push(Issue::new(
            "unknown_field",
            key.clone(),
            "unknown top-level field; ignored",
        ));
    }

    let payload = def.map(|def| {
        let present = |field: Field| match field {
            Field::Email => email.is_some(),
            Field::TraceId => trace_id.is_some(),
            Field::UserId => user_id.is_some(),
            Field::SessionId => session_id.is_some(),
            Field::AnonymousId => anonymous_id.is_some(),
            Field::TenantId => tenant_id.is_some(),
            Field::JobId => job_id.is_some(),
            Field::Success => success.is_some(),
            Field::ErrorCode => error_code.is_some(),
        };
        validate::check_requirements(def, present, &mut errors);
        let checked = validate::check_properties(def, properties, &mut errors, &mut warnings);
        if ctx.browser
            && (!def.browser_safe
                || catalog::quotas::action_for(def.name, Some(&Value::Object(checked.clone()))).is_some())
        {
            errors.push(Issue::new(
                NOT_BROWSER_SAFE,
                "event_type",
                format!(
                    "{} cannot be sent from a browser: only page views, engagement, search and tool views",
                    def.name
                ),
            ));
        }
        // Quotas are per user: an event that uses one needs a user, even where its type does not
        // (a logged-out tool_interaction view is fine; a `use` is metered).
        let metered = (user_id.is_none() && catalog::quotas::is_metered_type(def.name))
            .then(|| catalog::quotas::action_for(def.name, Some(&Value::Object(checked.clone()))))
            .flatten();
        if let Some(action) = metered.filter(|_| !errors.iter().any(|e| e.field == "user_id")) {
            errors.push(Issue::new(
                "missing_required_field",
                "user_id",
                format!(
                    "user_id is required for {}: it uses the {} quota",
                    def.name, action.name
                ),
            ));
        }
        checked
    });

    // Identifiers keep their identity but never hold PII: one that does is
    // replaced by a keyed fingerprint of itself.
    let mut id = |field: &'static str, v: Option<String>| scrub_identifier(field, v, &ctx.fingerprints, &mut warnings);
    let (tenant_id, job_id, user_id) = (id("tenant_id", tenant_id), id("job_id", job_id), id("user_id", user_id));
    let (session_id, anonymous_id) = (id("session_id", session_id), id("anonymous_id", anonymous_id));
    let given_event_id = id("event_id", given_event_id);
    let trace_id = id("trace_id", trace_id);
    // Every string of the properties, at any depth; a secret-named property's value whatever it is.
    let payload = payload.map(|p| {
        let mut value = Value::Object(p);
        let mut found = scrub_value(&mut value, "properties");
        found.extend(scrub_numbers(&mut value, "properties"));
        for r in found {
            warnings.push(pii_redacted(&r.path, &[r.kind]));
        }
        match value {
            Value::Object(p) => p,
            _ => Map::new(),
        }
    });

    let event_id = given_event_id.unwrap_or_else(new_event_id);
    match (def, payload) {
        (Some(def), Some(payload)) if errors.is_empty() => Normalized::Valid {
            row: EventRow {
                ts: to_stored(ctx.received_at),
                occurred_at,
                event_type: def.name.to_string(),
                service: def.service.to_string(),
                source,
                event_id,
                trace_id,
                tenant_id,
                job_id,
                user_id,
                session_id,
                anonymous_id,
                email_fingerprint: email.as_ref().map(|e| e.fingerprint.clone()),
                email_domain: email.map(|e| e.domain),
                success: success.map(u8::from),
                error_code,
                error_message,
                payload_json: (!payload.is_empty()).then(|| Value::Object(payload).to_string()),
                sample_rate: def.sample_rate,
            },
            warnings,
        },
        _ => {
            let mut sanitized = map.clone();
            let address_refused = email.is_none() && map.get("email").is_some_and(|v| !v.is_null());
            strip_pii(
                &mut sanitized,
                email.as_ref().map(|e| (e.fingerprint.as_str(), e.domain.as_str())),
                address_refused,
            );
            sanitized.insert("event_id".into(), Value::String(event_id.clone()));
            // The quarantine's copy keeps no PII either: every string in it is scrubbed.
            let mut copy = Value::Object(sanitized);
            let mut found = scrub_value(&mut copy, "");
            found.extend(scrub_numbers(&mut copy, ""));
            for r in found {
                warnings.push(pii_redacted(&r.path, &[r.kind]));
            }
            let sanitized = match copy {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let quarantine = quarantine_row(ctx, &source, event_type.as_deref(), &event_id, &sanitized, &errors);
            Normalized::Rejected {
                event_id,
                source,
                errors,
                warnings,
                quarantine,
            }
        }
    }
}

/// Fields a quarantined copy holds in place of `email`.
const REPLAY_FIELDS: &[&str] = &["email_fingerprint", "email_domain", EMAIL_REFUSED];

/// Marks a quarantined copy whose address was refused: the address is not
/// kept, so without the mark a replay would see no address and pass.
const EMAIL_REFUSED: &str = "email_refused";

/// Never echoes the value: it may be an address with a typo.
fn invalid_email() -> Issue {
    Issue::new("invalid_email", "email", "email is not a valid address")
}

/// The fingerprint and domain a quarantined copy kept in place of its address.
fn stored_fingerprint(map: &Map<String, Value>) -> Option<EmailFingerprint> {
    let fingerprint = map.get("email_fingerprint")?.as_str()?;
    let domain = map.get("email_domain")?.as_str()?;
    let is_hex64 = fingerprint.len() == 64 && fingerprint.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (is_hex64 && !domain.is_empty() && domain.len() <= 253).then(|| EmailFingerprint {
        fingerprint: fingerprint.to_string(),
        domain: domain.to_string(),
    })
}

/// Removes every raw address: the `email` field and any `email` property.
/// A valid address leaves its fingerprint and domain, a refused one the
/// [`EMAIL_REFUSED`] mark.
fn strip_pii(event: &mut Map<String, Value>, fingerprint: Option<(&str, &str)>, address_refused: bool) {
    event.remove("email");
    if let Some((fp, domain)) = fingerprint {
        event.insert("email_fingerprint".into(), Value::String(fp.into()));
        event.insert("email_domain".into(), Value::String(domain.into()));
    }
    if address_refused {
        event.insert(EMAIL_REFUSED.into(), Value::Bool(true));
    }
    for key in PROPERTIES {
        if let Some(Value::Object(props)) = event.get_mut(*key) {
            props.retain(|k, _| !k.eq_ignore_ascii_case("email"));
        }
    }
}

fn quarantine_row(
    ctx: &RequestContext,
    source: &str,
    event_type: Option<&str>,
    event_id: &str,
    sanitized: &Map<String, Value>,
    errors: &[Issue],
) -> QuarantineRow {
    QuarantineRow {
        received_at: to_stored(ctx.received_at),
        source: source.to_string(),
        event_type: event_type.map(|t| t.chars().take(MAX_ID_CHARS).collect()),
        event_id: event_id.to_string(),
        header_trace_id: ctx.header_trace_id.map(str::to_string),
        clock_skew_ms: ctx.clock_skew.num_milliseconds(),
        errors_json: serde_json::to_string(errors).unwrap_or_else(|_| "[]".into()),
        event_json: Value::Object(sanitized.clone()).to_string(),
    }
}

/// The `pii_redacted` warning: the field's path and the kinds found, never the value.
fn pii_redacted(path: &str, kinds: &[PiiKind]) -> Issue {
    let mut names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.dedup();
    Issue::new(
        "pii_redacted",
        path,
        format!(
            "{path} held personal data ({}); it was replaced by a placeholder",
            names.join(", ")
        ),
    )
}

/// An identifier that holds PII (an address as `user_id`, say) becomes
/// `pii_` + 32 hex of its keyed fingerprint: the same value always maps to the
/// same identifier (quotas, funnels and traces keep working), and the raw
/// value is stored nowhere.
fn scrub_identifier(
    field: &'static str,
    value: Option<String>,
    fingerprints: &Fingerprinter,
    warnings: &mut Vec<Issue>,
) -> Option<String> {
    let value = value?;
    let (_, kinds) = scrub_text(&value);
    if kinds.is_empty() {
        return Some(value);
    }
    warnings.push(pii_redacted(field, &kinds));
    let fingerprint = fingerprints.normalized(&value);
    let replaced = format!("pii_{}", &fingerprint[..32]);
    Some(if field == "trace_id" {
        format!("trace_{replaced}")
    } else {
        replaced
    })
}

pub(crate) fn is_source_token(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Reads top-level fields, recording type and length problems as it goes.
struct Fields<'m, 'e> {
    map: &'m Map<String, Value>,
    errors: &'e mut Vec<Issue>,
}

impl<'m> Fields<'m, '_> {
    /// The value under the canonical name or one alias; two different values is an error.
    fn one_of(&mut self, names: &[&str]) -> Option<&'m Value> {
        let mut found: Option<&'m Value> = None;
        for name in names {
            match (self.map.get(*name), found) {
                (Some(Value::Null) | None, _) => {}
                (Some(v), None) => found = Some(v),
                (Some(v), Some(prev)) if v != prev => {
                    self.errors.push(Issue::new(
                        "conflicting_fields",
                        names[0],
                        format!("{} is given under several names with different values", names[0]),
                    ));
                }
                _ => {}
            }
        }
        found
    }

    /// An optional string field; empty or blank counts as absent.
    fn string(&mut self, names: &[&str], max_chars: usize) -> Option<String> {
        match self.one_of(names)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => {
                if s.chars().count() > max_chars {
                    self.errors.push(Issue::new(
                        "field_too_long",
                        names[0],
                        format!("{} is longer than {max_chars} characters", names[0]),
                    ));
                    return None;
                }
                Some(s.clone())
            }
            _ => {
                self.errors.push(Issue::new(
                    "invalid_field_type",
                    names[0],
                    format!("{} must be a string", names[0]),
                ));
                None
            }
        }
    }

    /// An RFC 3339 time, corrected by the clock skew, within the accepted
    /// window around `received_at` ([`super::OCCURRED_AT_MAX_PAST_DAYS`] before,
    /// [`super::OCCURRED_AT_MAX_FUTURE_HOURS`] after).
    fn timestamp(&mut self, names: &[&str], skew: Duration, received_at: DateTime<Utc>) -> Option<String> {
        let raw = self.one_of(names)?;
        let Some(parsed) = raw.as_str().and_then(parse_rfc3339) else {
            self.errors.push(Issue::new(
                "invalid_timestamp",
                names[0],
                format!("{} must be an RFC 3339 timestamp", names[0]),
            ));
            return None;
        };
        let earliest = received_at - Duration::days(super::OCCURRED_AT_MAX_PAST_DAYS);
        let latest = received_at + Duration::hours(super::OCCURRED_AT_MAX_FUTURE_HOURS);
        match parsed.checked_add_signed(skew) {
            Some(t) if is_storable(t) && t >= earliest && t <= latest => Some(to_stored(t)),
            _ => {
                self.errors.push(Issue::new(
                    "timestamp_out_of_range",
                    names[0],
                    format!(
                        "{} must lie within {} days before and {} hours after the time the event was received \
                         (after correcting the sender's clock by sent_at)",
                        names[0],
                        super::OCCURRED_AT_MAX_PAST_DAYS,
                        super::OCCURRED_AT_MAX_FUTURE_HOURS
                    ),
                ));
                None
            }
        }
    }

    /// `success` as a boolean, or 0/1.
    fn success(&mut self) -> Option<bool> {
        match self.one_of(&["success"])? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            _ => {
                self.errors.push(Issue::new(
                    "invalid_field_type",
                    "success",
                    "success must be true, false, 0 or 1",
                ));
                None
            }
        }
    }
}
