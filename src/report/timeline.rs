//! One trace's chain: its events oldest first, what it touched, where it failed.

use serde::Serialize;

use super::links::LinkBases;

use super::event::{EventView, StoredEvent};
use crate::time::parse_rfc3339;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Step {
    #[serde(flatten)]
    pub event: EventView,
    /// Milliseconds since the previous event of the trace (0 for the first).
    pub elapsed_ms: i64,
    /// Milliseconds since the trace's first event.
    pub since_start_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Failure {
    pub id: i64,
    pub ts: String,
    pub event_type: String,
    pub service: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub trace_id: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_ms: i64,
    /// In order of first appearance.
    pub services: Vec<String>,
    pub sources: Vec<String>,
    pub failures: Vec<Failure>,
    pub events: Vec<Step>,
    /// True when the trace has more events than one timeline returns.
    pub truncated: bool,
}

fn millis(ts: &str) -> Option<i64> {
    parse_rfc3339(ts).map(|t| t.timestamp_millis())
}

/// Builds the timeline from rows already in `(ts, id)` order, at most `max` of them.
pub fn build(trace_id: &str, mut rows: Vec<StoredEvent>, max: usize, links: &LinkBases) -> Timeline {
    let truncated = rows.len() > max;
    rows.truncate(max);
    let mut services: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let start = rows.first().and_then(|r| millis(&r.ts));
    let mut previous = start;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        if !services.contains(&row.service) {
            services.push(row.service.clone());
        }
        if !sources.contains(&row.source) {
            sources.push(row.source.clone());
        }
        if row.failed() {
            failures.push(Failure {
                id: row.id,
                ts: row.ts.clone(),
                event_type: row.event_type.clone(),
                service: row.service.clone(),
                error_code: row.error_code.clone(),
                error_message: row.error_message.clone(),
            });
        }
        let at = millis(&row.ts);
        let since = |earlier: Option<i64>| at.zip(earlier).map_or(0, |(a, e)| a - e);
        events.push(Step {
            elapsed_ms: since(previous),
            since_start_ms: since(start),
            event: row.into_view(links),
        });
        previous = at;
    }
    let started_at = events.first().map(|s| s.event.ts.clone());
    let ended_at = events.last().map(|s| s.event.ts.clone());
    Timeline {
        trace_id: trace_id.to_string(),
        duration_ms: events.last().map_or(0, |s| s.since_start_ms),
        started_at,
        ended_at,
        services,
        sources,
        failures,
        events,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::tests::stored;

    #[test]
    fn steps_carry_elapsed_time_and_the_trace_its_services_sources_and_failures() {
        let mut a = stored(1, "2026-03-01T00:00:00.000Z", "m_auth_login_start");
        a.source = "zuplo".into();
        let mut b = stored(2, "2026-03-01T00:00:01.500Z", "m_auth_login_fail");
        b.success = Some(0);
        b.error_code = Some("otp_expired".into());
        let mut c = stored(3, "2026-03-01T00:00:04.000Z", "purchase_completed");
        c.service = "presstuner".into();
        c.source = "cp".into();
        let t = build("trace_x", vec![a, b, c], 1000, &LinkBases::default());
        let elapsed: Vec<i64> = t.events.iter().map(|s| s.elapsed_ms).collect();
        assert_eq!(elapsed, [0, 1500, 2500]);
        assert_eq!(t.duration_ms, 4000);
        assert_eq!(t.services, ["pregoi", "presstuner"]);
        assert_eq!(t.sources, ["zuplo", "cp"]);
        assert_eq!(t.failures.len(), 1);
        assert_eq!(t.failures[0].error_code.as_deref(), Some("otp_expired"));
        assert!(!t.truncated);
    }

    #[test]
    fn a_trace_longer_than_the_cap_is_cut_and_says_so() {
        let rows = (0..5).map(|i| stored(i, "2026-03-01T00:00:00.000Z", "x")).collect();
        let t = build("trace_x", rows, 4, &LinkBases::default());
        assert_eq!(t.events.len(), 4);
        assert!(t.truncated);
        let empty = build("trace_y", vec![], 4, &LinkBases::default());
        assert!(empty.events.is_empty() && empty.started_at.is_none());
    }
}
