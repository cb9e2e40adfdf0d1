//! An event as read back from `funnel_events`, and its API form.

use crate::query::cursor::Position;

pub use crate::record::{EventView, StoredEvent};

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
        let v = serde_json::to_value(e.into_view(&crate::report::links::LinkBases::default())).unwrap();
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
