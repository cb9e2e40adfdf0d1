//! An event as read back from `funnel_events`, and its API form.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::query::cursor::Position;

/// A row of the statements built on `EVENT_COLUMNS` in [`crate::storage::sql`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    pub ts: String,
    pub occurred_at: Option<String>,
    pub event_type: String,
    pub service: String,
    pub source: String,
    pub event_id: String,
    pub trace_id: Option<String>,
    pub tenant_id: Option<String>,
    pub job_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub email_fingerprint: Option<String>,
    pub email_domain: Option<String>,
    pub success: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub payload_json: Option<String>,
    pub sample_rate: f64,
}

/// One event in an API response: `success` as a boolean, properties as an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView {
    pub id: i64,
    pub ts: String,
    pub occurred_at: Option<String>,
    pub event_type: String,
    pub service: String,
    pub source: String,
    pub event_id: String,
    pub trace_id: Option<String>,
    pub tenant_id: Option<String>,
    pub job_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub email_fingerprint: Option<String>,
    pub email_domain: Option<String>,
    pub success: Option<bool>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub properties: Value,
    /// The rate its type was sampled at when it was kept.
    pub sample_rate: f64,
    /// How many events this row stands for (1/sample_rate): summaries add these up.
    pub weight: f64,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position {
            ts: self.ts.clone(),
            id: self.id,
        }
    }

    /// A failure: `success = 0`, or an error code.
    pub fn failed(&self) -> bool {
        self.success == Some(0) || self.error_code.is_some()
    }

    pub fn properties(&self) -> Value {
        self.payload_json
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_else(|| Value::Object(Default::default()))
    }

    pub fn into_view(self) -> EventView {
        let properties = self.properties();
        EventView {
            id: self.id,
            ts: self.ts,
            occurred_at: self.occurred_at,
            event_type: self.event_type,
            service: self.service,
            source: self.source,
            event_id: self.event_id,
            trace_id: self.trace_id,
            tenant_id: self.tenant_id,
            job_id: self.job_id,
            user_id: self.user_id,
            session_id: self.session_id,
            anonymous_id: self.anonymous_id,
            email_fingerprint: self.email_fingerprint,
            email_domain: self.email_domain,
            success: self.success.map(|s| s != 0),
            error_code: self.error_code,
            error_message: self.error_message,
            properties,
            weight: 1.0 / self.sample_rate,
            sample_rate: self.sample_rate,
        }
    }
}

/// A page read with `limit + 1` rows: the page, and where the next one starts.
pub fn split_page<T>(mut rows: Vec<T>, limit: usize, position: impl Fn(&T) -> Position) -> (Vec<T>, Option<Position>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(position);
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn stored(id: i64, ts: &str, event_type: &str) -> StoredEvent {
        StoredEvent {
            id,
            ts: ts.into(),
            occurred_at: None,
            event_type: event_type.into(),
            service: "pregoi".into(),
            source: "zuplo".into(),
            event_id: format!("e{id}"),
            trace_id: None,
            tenant_id: None,
            job_id: None,
            user_id: None,
            session_id: None,
            anonymous_id: None,
            email_fingerprint: None,
            email_domain: None,
            success: None,
            error_code: None,
            error_message: None,
            payload_json: None,
            sample_rate: 1.0,
        }
    }

    #[test]
    fn a_view_has_boolean_success_and_parsed_properties() {
        let mut e = stored(1, "2026-01-01T00:00:00.000Z", "x");
        e.success = Some(0);
        e.payload_json = Some(r#"{"amount": 3}"#.into());
        let v = serde_json::to_value(e.into_view()).unwrap();
        assert_eq!(v["success"], false);
        assert_eq!(v["properties"]["amount"], 3);
        assert!(v.get("payload_json").is_none());
    }

    #[test]
    fn a_page_with_one_extra_row_has_a_next_position_at_its_last_row() {
        let rows: Vec<StoredEvent> = (0..4)
            .map(|i| stored(10 - i, "2026-01-01T00:00:00.000Z", "x"))
            .collect();
        let (page, next) = split_page(rows.clone(), 3, StoredEvent::position);
        assert_eq!(page.len(), 3);
        assert_eq!(next.unwrap().id, 8);
        let (page, next) = split_page(rows, 4, StoredEvent::position);
        assert_eq!((page.len(), next), (4, None));
    }
}
