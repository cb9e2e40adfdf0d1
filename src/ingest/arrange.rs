//! Where a field arrives is not always where it belongs. The control plane
//! sends `m_auth_get_user`'s user id in the payload (`properties.user_id`),
//! and the event dictionary's tracker adds `user_id` and `session_id` to
//! every event's parameters. Before an event is normalized, identifiers
//! found among its properties move to the top level, where they are
//! columns (indexed, filtered, erased); a sender that gives both with
//! different values gets a `conflicting_fields` error.

use serde_json::{Map, Value};

use crate::catalog::validate::Issue;

/// Identifiers that may arrive inside `properties`: `(property, top-level names)`.
pub const IDENTIFIERS_IN_PROPERTIES: &[(&str, &[&str])] = &[
    ("user_id", super::normalize::USER_ID),
    ("session_id", super::normalize::SESSION_ID),
];

/// The event with its identifiers moved out of its properties, when any were
/// there (None: nothing moved, use the event as sent).
pub fn arrange(map: &Map<String, Value>, errors: &mut Vec<Issue>) -> Option<Map<String, Value>> {
    let (props_key, props) = super::normalize::PROPERTIES.iter().find_map(|k| match map.get(*k) {
        Some(Value::Object(p)) => Some((*k, p)),
        _ => None,
    })?;
    let mut moved: Option<(Map<String, Value>, Map<String, Value>)> = None;
    for (name, top_names) in IDENTIFIERS_IN_PROPERTIES {
        let Some(value) = props.get(*name).filter(|v| !v.is_null()) else {
            continue;
        };
        let (out, out_props) = moved.get_or_insert_with(|| (map.clone(), props.clone()));
        out_props.remove(*name);
        match top_names.iter().find_map(|t| map.get(*t).filter(|v| !v.is_null())) {
            None => {
                out.insert(top_names[0].to_string(), value.clone());
            }
            Some(top) if top == value => {}
            Some(_) => errors.push(Issue::new(
                "conflicting_fields",
                format!("properties.{name}"),
                format!("{name} is given at the top level and in properties with different values"),
            )),
        }
    }
    let (mut out, out_props) = moved?;
    out.insert(props_key.to_string(), Value::Object(out_props));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(event: Value) -> (Option<Value>, Vec<&'static str>) {
        let mut errors = Vec::new();
        let out = arrange(event.as_object().unwrap(), &mut errors).map(Value::Object);
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
}
