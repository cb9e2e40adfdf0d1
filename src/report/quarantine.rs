//! The quarantine: rejected events as listed to operators, and the replay
//! that re-validates them against today's catalog.

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::validate::Issue;
use crate::ingest::normalize::{normalize, EventRow, Normalized, RequestContext, NOT_BROWSER_SAFE};
use crate::query::cursor::Position;
use crate::security::fingerprint::Fingerprinter;
use crate::time::parse_rfc3339;

/// Most quarantined events one replay call re-validates.
pub const MAX_REPLAY: usize = 500;

/// A row of the quarantine statements in [`crate::storage::sql`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QuarantinedEvent {
    pub id: i64,
    pub received_at: String,
    pub source: String,
    pub event_type: Option<String>,
    pub event_id: String,
    pub header_trace_id: Option<String>,
    pub clock_skew_ms: i64,
    pub errors_json: String,
    pub event_json: String,
    pub replayed_at: Option<String>,
    /// The latest replay that re-validated it and found it still failing.
    pub checked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuarantineView {
    pub id: i64,
    pub received_at: String,
    pub source: String,
    pub event_type: Option<String>,
    pub event_id: String,
    pub status: &'static str,
    pub replayed_at: Option<String>,
    /// When a replay last re-validated it (null: never); `errors` are from then.
    pub checked_at: Option<String>,
    /// Why it was rejected: `[{code, field, message}]`.
    #[schema(value_type = Vec<crate::catalog::validate::Issue>)]
    pub errors: Value,
    /// The event as sent, with any address replaced by its fingerprint and domain.
    pub event: Value,
}

impl QuarantinedEvent {
    pub fn position(&self) -> Position {
        Position {
            ts: self.received_at.clone(),
            id: self.id,
        }
    }

    pub fn into_view(self) -> QuarantineView {
        let parse = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
        QuarantineView {
            id: self.id,
            status: if self.replayed_at.is_some() {
                "replayed"
            } else {
                "pending"
            },
            errors: parse(&self.errors_json),
            event: parse(&self.event_json),
            received_at: self.received_at,
            source: self.source,
            event_type: self.event_type,
            event_id: self.event_id,
            replayed_at: self.replayed_at,
            checked_at: self.checked_at,
        }
    }
}

/// What a replay stores: rows that now pass, the quarantine ids they came
/// from, and the latest errors of those that still fail.
#[derive(Debug, Default, PartialEq)]
pub struct ReplayPlan {
    pub rows: Vec<EventRow>,
    pub passed_ids: Vec<i64>,
    /// `[id, errors_json]` pairs.
    pub still_failing: Vec<(i64, String)>,
}

pub fn plan_replay(items: &[QuarantinedEvent], fingerprint_key: &[u8]) -> ReplayPlan {
    let mut plan = ReplayPlan::default();
    let fingerprints = Fingerprinter::new(fingerprint_key);
    for item in items {
        let event: Value = serde_json::from_str(&item.event_json).unwrap_or(Value::Null);
        let ctx = RequestContext {
            // The event keeps the time it first arrived, so it lands in the right day.
            received_at: parse_rfc3339(&item.received_at).unwrap_or_else(Utc::now),
            clock_skew: Duration::milliseconds(item.clock_skew_ms),
            default_source: &item.source,
            header_trace_id: item.header_trace_id.as_deref(),
            fingerprints: fingerprints.clone(),
            replay: true,
            // A page's event refused as not browser-safe stays refused: a
            // replay must not store what a public key could not.
            browser: item.errors_json.contains(NOT_BROWSER_SAFE),
        };
        match normalize(&event, &ctx, &mut || item.event_id.clone()) {
            Normalized::Valid { mut row, .. } => {
                // Every replayed event is stored (none is sampled out), so each weighs 1.
                row.sample_rate = 1.0;
                plan.rows.push(row);
                plan.passed_ids.push(item.id);
            }
            Normalized::Rejected { errors, .. } => {
                plan.still_failing.push((item.id, errors_json(&errors)));
            }
        }
    }
    plan
}

fn errors_json(errors: &[Issue]) -> String {
    serde_json::to_string(errors).unwrap_or_else(|_| "[]".into())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReplayOutcome {
    /// Quarantined events re-validated by this call.
    pub examined: usize,
    /// Now valid and newly stored.
    pub replayed: usize,
    /// Now valid but already stored (an earlier replay or a resend); not stored twice.
    pub already_stored: usize,
    pub still_failing: usize,
    /// Events still waiting in the quarantine after this call.
    pub pending: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::fingerprint::fingerprint_email;

    const KEY: &[u8] = b"pepper";

    fn item(id: i64, event: Value) -> QuarantinedEvent {
        QuarantinedEvent {
            id,
            received_at: "2026-03-01T10:00:00.000Z".into(),
            source: "zuplo".into(),
            event_type: event["event_type"].as_str().map(Into::into),
            event_id: event["event_id"].as_str().unwrap_or("srv").into(),
            header_trace_id: Some("trace_hdr".into()),
            clock_skew_ms: 0,
            errors_json: "[]".into(),
            event_json: event.to_string(),
            replayed_at: None,
            checked_at: None,
        }
    }

    #[test]
    fn a_fixed_event_passes_with_its_original_time_source_fingerprint_and_trace() {
        let fp = fingerprint_email(KEY, "a@example.com").unwrap();
        let ok = item(
            7,
            serde_json::json!({"event_type": "m_auth_login_fail", "event_id": "q1", "email_fingerprint": fp.fingerprint,
                               "email_domain": "example.com", "error_code": "otp_expired", "success": false}),
        );
        let plan = plan_replay(&[ok], KEY);
        assert_eq!(plan.passed_ids, [7]);
        let row = &plan.rows[0];
        assert_eq!(row.ts, "2026-03-01T10:00:00.000Z");
        assert_eq!((row.source.as_str(), row.event_id.as_str()), ("zuplo", "q1"));
        assert_eq!(row.email_fingerprint.as_deref(), Some(fp.fingerprint.as_str()));
        assert_eq!(row.trace_id.as_deref(), Some("trace_hdr"));
    }

    #[test]
    fn an_event_that_still_fails_keeps_its_latest_errors() {
        let bad = item(9, serde_json::json!({"event_type": "no_such_event", "event_id": "q2"}));
        let plan = plan_replay(&[bad], KEY);
        assert!(plan.rows.is_empty());
        assert_eq!(plan.still_failing[0].0, 9);
        assert!(plan.still_failing[0].1.contains("event_type"));
    }

    /// What ingest quarantines for `event`: its stored copy, as a replay reads it.
    fn quarantined_copy(id: i64, event: Value) -> QuarantinedEvent {
        let ctx = RequestContext {
            received_at: Utc::now(),
            clock_skew: Duration::zero(),
            default_source: "zuplo",
            header_trace_id: None,
            fingerprints: Fingerprinter::new(KEY),
            replay: false,
            browser: false,
        };
        let plan = crate::ingest::batch::plan(&[event], &ctx, vec![], &mut || "srv".to_string());
        let row = &plan.quarantine[0];
        assert!(
            !row.event_json.contains("address") && !row.event_json.contains('@'),
            "the copy holds no address: {}",
            row.event_json
        );
        QuarantinedEvent {
            errors_json: row.errors_json.clone(),
            ..item(id, serde_json::from_str(&row.event_json).unwrap())
        }
    }

    #[test]
    fn an_event_refused_only_for_its_address_still_fails_on_replay() {
        for email in [serde_json::json!("not-an-address"), serde_json::json!(42)] {
            let copy = quarantined_copy(
                3,
                serde_json::json!({"event_type": "app_open", "event_id": "q3", "user_id": "u1", "email": email}),
            );
            let plan = plan_replay(&[copy], KEY);
            assert!(plan.rows.is_empty(), "stored though nothing was fixed");
            assert_eq!(plan.still_failing[0].0, 3);
            assert!(
                plan.still_failing[0].1.contains("invalid_email"),
                "{}",
                plan.still_failing[0].1
            );
        }
    }

    #[test]
    fn an_event_refused_for_something_else_keeps_its_valid_address_through_replay() {
        let copy = quarantined_copy(
            4,
            serde_json::json!({"event_type": "no_such_event", "event_id": "q4", "email": "Kim@Example.com"}),
        );
        assert!(!copy.event_json.contains("email_refused"));
        let plan = plan_replay(&[copy], KEY);
        assert!(plan.still_failing[0].1.contains("event_type"));
        assert!(
            !plan.still_failing[0].1.contains("email"),
            "{}",
            plan.still_failing[0].1
        );
    }

    #[test]
    fn a_view_parses_errors_and_event_and_says_pending_or_replayed() {
        let mut q = item(1, serde_json::json!({"event_type": "x"}));
        q.errors_json = r#"[{"code":"unknown_event_type","field":"event_type"}]"#.into();
        let v = q.clone().into_view();
        assert_eq!(v.status, "pending");
        assert_eq!(v.errors[0]["code"], "unknown_event_type");
        q.replayed_at = Some("2026-03-02T00:00:00.000Z".into());
        assert_eq!(q.into_view().status, "replayed");
    }
}
