//! Where a field arrives is not always where it belongs. The control plane
//! sends `m_auth_get_user`'s user id in the payload (`properties.user_id`),
//! and the event dictionary's tracker adds its automatic parameters
//! (자동 추가 매개변수) to every event, among the parameters or beside them.
//! Before an event is normalized:
//! - identifiers found among its properties (`user_id`, `session_id`) move
//!   to the top level, where they are columns (indexed, filtered, erased);
//! - `timestamp` among the properties stands for `occurred_at` when the top
//!   level has none;
//! - `event_name` among the properties must name the event's own type (it
//!   is an alias of `event_type`) and is then dropped;
//! - `processed_at` is the server's to set: a sent one is dropped with a
//!   warning (the stored `ts` is the server's processing time);
//! - the page parameters (`page_url`, `page_title`, `user_agent`,
//!   [`crate::catalog::AUTO_PARAMS`]) sent at the top level move among the
//!   properties, where they are stored and checked.
//!
//! A field given in both places with different values is a
//! `conflicting_fields` error.

use serde_json::{Map, Value};

use super::normalize::{EVENT_TYPE, OCCURRED_AT, PROPERTIES, SESSION_ID, USER_ID};
use crate::catalog::validate::Issue;
use crate::catalog::AUTO_PARAMS;

/// Identifiers that may arrive inside `properties`: `(property, top-level names)`.
pub const IDENTIFIERS_IN_PROPERTIES: &[(&str, &[&str])] = &[("user_id", USER_ID), ("session_id", SESSION_ID)];

/// The field the server sets itself; a sender's value is ignored.
pub const SERVER_FIELD: &str = "processed_at";

fn present<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

fn conflict(errors: &mut Vec<Issue>, name: &str) {
    errors.push(Issue::new(
        "conflicting_fields",
        format!("properties.{name}"),
        format!("{name} is given at the top level and in properties with different values"),
    ));
}

/// The event with its fields in their places, when any moved (None: use the event as sent).
pub fn arrange(
    map: &Map<String, Value>,
    errors: &mut Vec<Issue>,
    warnings: &mut Vec<Issue>,
) -> Option<Map<String, Value>> {
    let found = PROPERTIES.iter().find_map(|k| map.get(*k).map(|v| (*k, v)));
    let (props_key, props) = match found {
        Some((k, Value::Object(p))) => (k, p.clone()),
        // Not an object: normalize reports it; nothing is rearranged.
        Some((_, v)) if !v.is_null() => return None,
        _ => (PROPERTIES[0], Map::new()),
    };
    let moves_in = |k: &str| {
        IDENTIFIERS_IN_PROPERTIES.iter().any(|(n, _)| *n == k) || ["timestamp", "event_name", SERVER_FIELD].contains(&k)
    };
    let moves_out = |k: &str| AUTO_PARAMS.iter().any(|p| p.name == k) || k == SERVER_FIELD;
    if !props.keys().any(|k| moves_in(k)) && !map.keys().any(|k| moves_out(k)) {
        return None;
    }
    let mut out = map.clone();
    let mut props = props;
    for (name, top_names) in IDENTIFIERS_IN_PROPERTIES {
        let Some(value) = props.remove(*name).filter(|v| !v.is_null()) else {
            continue;
        };
        match top_names.iter().find_map(|t| present(map, t)) {
            None => {
                out.insert(top_names[0].to_string(), value);
            }
            Some(top) if *top == value => {}
            Some(_) => conflict(errors, name),
        }
    }
    if let Some(value) = props.remove("timestamp").filter(|v| !v.is_null()) {
        match OCCURRED_AT.iter().find_map(|t| present(map, t)) {
            None => {
                out.insert("timestamp".into(), value);
            }
            Some(top) if *top == value => {}
            Some(_) => conflict(errors, "timestamp"),
        }
    }
    if let Some(value) = props.remove("event_name").filter(|v| !v.is_null()) {
        match EVENT_TYPE.iter().find_map(|t| present(map, t)) {
            None => {
                out.insert("event_name".into(), value);
            }
            Some(top) if *top == value => {}
            Some(_) => conflict(errors, "event_name"),
        }
    }
    let sent_processed_at = props.remove(SERVER_FIELD).is_some() | out.remove(SERVER_FIELD).is_some();
    if sent_processed_at {
        warnings.push(Issue::new(
            "server_field_ignored",
            SERVER_FIELD,
            "processed_at is set by the server (the stored ts); the sent value is ignored",
        ));
    }
    for p in AUTO_PARAMS {
        let Some(value) = out.remove(p.name).filter(|v| !v.is_null()) else {
            continue;
        };
        match present(&props, p.name) {
            None => {
                props.insert(p.name.to_string(), value);
            }
            Some(inner) if *inner == value => {}
            Some(_) => conflict(errors, p.name),
        }
    }
    out.insert(props_key.to_string(), Value::Object(props));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(event: Value) -> (Option<Value>, Vec<&'static str>) {
        let mut errors = Vec::new();
        let out = arrange(event.as_object().unwrap(), &mut errors, &mut Vec::new()).map(Value::Object);
        (out, errors.iter().map(|e| e.code).collect())
    }

    #[test]
    fn an_identifier_in_the_properties_moves_to_the_top_level() {
        let (out, errors) = run(json!({"event_type": "m_auth_get_user", "properties": {"user_id": "u1", "x": 1}}));
        assert!(errors.is_empty());
        assert_eq!(
            out.unwrap(),
            json!({"event_type": "m_auth_get_user", "user_id": "u1", "properties": {"x": 1}})
        );
        let (out, _) = run(json!({"event_type": "t", "params": {"session_id": "s1"}}));
        assert_eq!(
            out.unwrap(),
            json!({"event_type": "t", "session_id": "s1", "params": {}})
        );
    }

    #[test]
    fn the_same_identifier_in_both_places_is_kept_once_and_two_different_ones_are_an_error() {
        let (out, errors) = run(json!({"event_type": "t", "sub": "u1", "properties": {"user_id": "u1"}}));
        assert!(errors.is_empty());
        assert_eq!(out.unwrap(), json!({"event_type": "t", "sub": "u1", "properties": {}}));
        let (_, errors) = run(json!({"event_type": "t", "userId": "u1", "properties": {"user_id": "u2"}}));
        assert_eq!(errors, ["conflicting_fields"]);
    }

    #[test]
    fn an_event_without_identifiers_in_its_properties_is_left_as_sent() {
        assert_eq!(run(json!({"event_type": "t", "properties": {"a": 1}})).0, None);
        assert_eq!(run(json!({"event_type": "t"})).0, None);
    }

    #[test]
    fn auto_parameters_sent_beside_the_properties_move_among_them() {
        let (out, errors) = run(
            json!({"event_type": "search", "page_url": "https://x.example/a", "user_agent": "UA",
                                       "properties": {"search_term": "q", "page_title": "T"}}),
        );
        assert!(errors.is_empty());
        assert_eq!(
            out.unwrap(),
            json!({"event_type": "search", "properties": {"search_term": "q", "page_title": "T",
                                                          "page_url": "https://x.example/a", "user_agent": "UA"}})
        );
        let (_, errors) = run(json!({"event_type": "t", "page_title": "A", "properties": {"page_title": "B"}}));
        assert_eq!(errors, ["conflicting_fields"]);
    }

    #[test]
    fn event_name_must_name_the_type_timestamp_stands_for_occurred_at_and_processed_at_is_the_servers() {
        let (out, errors) = run(json!({"event_type": "search", "params": {"event_name": "search",
            "timestamp": "2026-03-10T00:00:00Z", "processed_at": "2020-01-01T00:00:00Z"}}));
        assert!(errors.is_empty());
        assert_eq!(
            out.unwrap(),
            json!({"event_type": "search", "timestamp": "2026-03-10T00:00:00Z", "params": {}})
        );
        let (_, errors) = run(json!({"event_type": "search", "properties": {"event_name": "page_view"}}));
        assert_eq!(errors, ["conflicting_fields"]);
        let mut warnings = Vec::new();
        let out = arrange(
            json!({"event_type": "t", "processed_at": "x"}).as_object().unwrap(),
            &mut Vec::new(),
            &mut warnings,
        );
        assert_eq!(out.unwrap().get("processed_at"), None);
        assert_eq!(warnings[0].code, "server_field_ignored");
    }
}
