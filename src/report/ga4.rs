//! GA4 Measurement Protocol payloads for the export (`format=ga4`), within
//! GA4's documented limits: at most 25 events per request, event and
//! parameter names of at most 40 characters, parameter values of at most
//! 100 characters, at most 25 parameters per event.

use serde::Serialize;
use serde_json::{Map, Value};

use super::event::StoredEvent;
use crate::catalog::{self, LabelPart};

pub const MAX_EVENTS_PER_REQUEST: usize = 25;
pub const MAX_NAME_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 100;
pub const MAX_PARAMS_PER_EVENT: usize = 25;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ga4Event {
    pub name: String,
    pub params: Map<String, Value>,
}

/// One Measurement Protocol request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub timestamp_micros: i64,
    pub events: Vec<Ga4Event>,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A property as a GA4 parameter value: strings cut to 100 chars, numbers and booleans kept.
fn param_value(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => Some(Value::String(cut(s, MAX_VALUE_CHARS))),
        Value::Number(_) => Some(v.clone()),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        // Objects and arrays are not GA4 parameter values.
        _ => None,
    }
}

fn name_ok(n: &str) -> bool {
    !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The GA4 event for a stored one: the catalog's mapping when it has one
/// (`event_category`, `event_label`, `value`, custom dimensions), else its properties.
pub fn event(e: &StoredEvent) -> Ga4Event {
    let props = e.properties();
    let get = |name: &str| props.get(name);
    let mut params = Map::new();
    match catalog::find(&e.event_type).and_then(|d| d.ga4) {
        Some(m) => {
            params.insert("event_category".into(), Value::String(m.event_category.into()));
            let label: String = m
                .event_label
                .iter()
                .map(|p| match p {
                    LabelPart::Text(t) => (*t).to_string(),
                    LabelPart::Param(n) => match get(n) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    },
                })
                .collect();
            params.insert("event_label".into(), Value::String(cut(&label, MAX_VALUE_CHARS)));
            if let Some(v) = m.value.and_then(get).filter(|v| v.is_number()) {
                params.insert("value".into(), v.clone());
            }
            for (ga4_name, prop) in m.dimensions {
                if let Some(v) = get(prop).and_then(param_value) {
                    params.insert((*ga4_name).into(), v);
                }
            }
        }
        None => {
            if let Some(obj) = props.as_object() {
                for (k, v) in obj {
                    if let (true, Some(v)) = (name_ok(k), param_value(v)) {
                        params.insert(k.clone(), v);
                    }
                }
            }
        }
    }
    if let Some(t) = &e.trace_id {
        params.insert("trace_id".into(), Value::String(cut(t, MAX_VALUE_CHARS)));
    }
    // Keep the first 25 (mapping parameters come first).
    let params = params.into_iter().take(MAX_PARAMS_PER_EVENT).collect();
    Ga4Event {
        name: cut(&e.event_type, MAX_NAME_CHARS),
        params,
    }
}

fn client_id(e: &StoredEvent) -> String {
    e.anonymous_id
        .clone()
        .or_else(|| e.session_id.clone())
        .or_else(|| e.user_id.clone())
        .unwrap_or_else(|| format!("funnel.{}", e.id))
}

/// Groups consecutive events of one client into requests of at most 25 events.
pub fn payloads(events: &[StoredEvent]) -> Vec<Payload> {
    let mut out: Vec<Payload> = Vec::new();
    for e in events {
        let client = client_id(e);
        let micros = crate::time::parse_rfc3339(&e.ts).map_or(0, |t| t.timestamp_micros());
        match out.last_mut() {
            Some(p) if p.client_id == client && p.user_id == e.user_id && p.events.len() < MAX_EVENTS_PER_REQUEST => {
                p.events.push(event(e))
            }
            _ => out.push(Payload {
                client_id: client,
                user_id: e.user_id.clone(),
                timestamp_micros: micros,
                events: vec![event(e)],
            }),
        }
    }
    out
}

/// One payload per line (NDJSON).
pub fn ndjson(events: &[StoredEvent]) -> String {
    let mut out = String::new();
    for p in payloads(events) {
        out.push_str(&serde_json::to_string(&p).expect("payloads always serialize"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::tests::stored;

    fn compile(id: i64, payload: &str) -> StoredEvent {
        let mut e = stored(id, "2026-03-01T00:00:00.000Z", "compile_prompt");
        e.user_id = Some("u1".into());
        e.payload_json = Some(payload.into());
        e
    }

    #[test]
    fn the_catalog_mapping_becomes_category_label_value_and_dimensions() {
        let e = compile(
            1,
            r#"{"prompt_id":"p","model_type":"gpt-4","prompt_length":250,"success":true}"#,
        );
        let g = event(&e);
        assert_eq!(g.name, "compile_prompt");
        assert_eq!(g.params["event_category"], "prompt_tools");
        assert_eq!(g.params["event_label"], "gpt-4");
        assert_eq!(g.params["value"], 250);
        assert_eq!(g.params["custom_model_type"], "gpt-4");
        assert_eq!(g.params["custom_success"], "true");
        let mut step = stored(2, "2026-03-01T00:00:00.000Z", "complete_step");
        step.payload_json = Some(r#"{"workflow_id":"w","step_number":3,"step_type":"outline","time_spent":45}"#.into());
        assert_eq!(event(&step).params["event_label"], "outline_step_3");
    }

    #[test]
    fn every_payload_respects_ga4_limits() {
        let long = "가".repeat(300);
        let mut events: Vec<StoredEvent> = (0..60)
            .map(|i| {
                compile(
                    i,
                    &format!(r#"{{"prompt_id":"{long}","model_type":"{long}","template_id":"x"}}"#),
                )
            })
            .collect();
        let mut other = stored(99, "2026-03-01T00:00:00.000Z", "purchase_completed");
        let many: Map<String, Value> = (0..40)
            .map(|i| (format!("p{i}"), Value::String(long.clone())))
            .collect();
        other.payload_json = Some(Value::Object(many).to_string());
        events.push(other);
        let payloads = payloads(&events);
        assert_eq!(
            payloads.len(),
            4,
            "60 events of one client → 25 + 25 + 10, then another client"
        );
        for p in &payloads {
            assert!(p.events.len() <= MAX_EVENTS_PER_REQUEST);
            for e in &p.events {
                assert!(e.name.chars().count() <= MAX_NAME_CHARS);
                assert!(e.params.len() <= MAX_PARAMS_PER_EVENT);
                for (k, v) in &e.params {
                    assert!(k.chars().count() <= MAX_NAME_CHARS, "{k}");
                    if let Value::String(s) = v {
                        assert!(s.chars().count() <= MAX_VALUE_CHARS, "{k}: {}", s.chars().count());
                    }
                }
            }
        }
        let line_count = ndjson(&events).lines().count();
        assert_eq!(line_count, 4);
    }
}
