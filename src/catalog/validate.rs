//! Checks one event's identifiers and properties against its catalog entry.
//!
//! Reports every problem, each with a stable code and the field path, so a
//! sender can fix a whole event in one round trip.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{is_identifier_text, limits, EventDef, Field, Param, ParamKind, AUTO_PARAMS};

/// One finding about one event: an error (the event is rejected) or a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Issue {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Issue {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks the type's required top-level identifiers; `present` says which are set.
pub fn check_requirements(def: &EventDef, present: impl Fn(Field) -> bool, errors: &mut Vec<Issue>) {
    for req in def.requires {
        if !req.any_of.iter().any(|f| present(*f)) {
            let names: Vec<_> = req.any_of.iter().map(|f| f.name()).collect();
            let message = if names.len() == 1 {
                format!("{} is required for {}", names[0], def.name)
            } else {
                format!("one of {} is required for {}", names.join(", "), def.name)
            };
            errors.push(Issue::new("missing_required_field", names.join("|"), message));
        }
    }
}

/// Validates `properties` and returns them with aliases renamed to the declared names.
pub fn check_properties(
    def: &EventDef,
    properties: Option<Map<String, Value>>,
    errors: &mut Vec<Issue>,
    warnings: &mut Vec<Issue>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let props = properties.unwrap_or_default();
    if props.len() > limits::PROPERTIES_MAX_COUNT {
        errors.push(Issue::new(
            "too_many_properties",
            "properties",
            format!(
                "at most {} properties per event, got {}",
                limits::PROPERTIES_MAX_COUNT,
                props.len()
            ),
        ));
    }
    for (key, value) in props {
        let path = format!("properties.{key}");
        if !is_valid_property_name(&key) {
            errors.push(Issue::new(
                "invalid_property_name",
                path,
                format!(
                    "property names use letters, digits and _ only, at most {} characters",
                    limits::PROPERTY_NAME_MAX_CHARS
                ),
            ));
            continue;
        }
        if key.eq_ignore_ascii_case("email") {
            errors.push(Issue::new(
                "pii_in_properties",
                path,
                "send the address as the top-level email field, which is fingerprinted; properties are stored as sent",
            ));
            continue;
        }
        // The type's own declaration first, then the parameters every event may carry.
        let declared = def
            .params
            .iter()
            .chain(AUTO_PARAMS)
            .find(|p| p.name == key || p.aliases.contains(&key.as_str()));
        let name = declared.map_or(key.clone(), |p| p.name.to_string());
        let path = format!("properties.{name}");
        if out.contains_key(&name) {
            errors.push(Issue::new(
                "conflicting_fields",
                path,
                format!("{name} is given under two names"),
            ));
            continue;
        }
        match declared {
            Some(param) => check_declared(param, &value, &path, errors),
            None => {
                check_generic(&value, &path, errors);
                warnings.push(Issue::new(
                    "unknown_property",
                    path.clone(),
                    format!("{name} is not declared for {}; stored unchecked", def.name),
                ));
            }
        }
        out.insert(name, value);
    }
    for param in def.params.iter().filter(|p| p.required) {
        if out.get(param.name).is_none_or(Value::is_null) {
            errors.push(Issue::new(
                "missing_required_property",
                format!("properties.{}", param.name),
                format!("properties.{} is required for {}", param.name, def.name),
            ));
        }
    }
    let size = serde_json::to_string(&out).map_or(0, |s| s.len());
    if size > limits::PROPERTIES_MAX_BYTES {
        errors.push(Issue::new(
            "properties_too_large",
            "properties",
            format!(
                "properties serialize to {size} bytes; the limit is {}",
                limits::PROPERTIES_MAX_BYTES
            ),
        ));
    }
    out
}

fn is_valid_property_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= limits::PROPERTY_NAME_MAX_CHARS
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_declared(param: &Param, value: &Value, path: &str, errors: &mut Vec<Issue>) {
    if value.is_null() {
        return; // treated as absent; `required` is checked afterwards
    }
    let type_ok = matches!(
        (param.kind, value),
        (ParamKind::String, Value::String(_))
            | (ParamKind::Number, Value::Number(_))
            | (ParamKind::Boolean, Value::Bool(_))
            | (ParamKind::Object, Value::Object(_))
    );
    if !type_ok {
        let kind = match param.kind {
            ParamKind::String => "a string",
            ParamKind::Number => "a number",
            ParamKind::Boolean => "a boolean",
            ParamKind::Object => "an object",
        };
        errors.push(Issue::new(
            "invalid_property_type",
            path,
            format!("{path} must be {kind}"),
        ));
        return;
    }
    if let Value::String(s) = value {
        let max = param.max_chars.unwrap_or(limits::STRING_MAX_CHARS);
        check_string_len(s, max, path, errors);
        if param.identifier && !is_identifier_text(s) {
            errors.push(Issue::new(
                "invalid_identifier",
                path,
                format!("{path} is an identifier: letters, digits and _ only"),
            ));
        }
        if !param.allowed.is_empty() && !param.allowed.contains(&s.as_str()) {
            errors.push(Issue::new(
                "invalid_enum_value",
                path,
                format!("{path} must be one of: {}", param.allowed.join(", ")),
            ));
        }
        return;
    }
    if let (Some(range), Value::Number(n)) = (param.range, value) {
        let v = n.as_f64().unwrap_or(f64::NAN);
        if !range.contains(v) {
            let whole = if range.integer { "a whole number " } else { "" };
            errors.push(Issue::new(
                "value_out_of_range",
                path,
                format!(
                    "{path} must be {whole}from {} to {} ({}); got {v}",
                    range.min, range.max, range.unit
                ),
            ));
            return;
        }
    }
    check_generic(value, path, errors);
}

/// The dictionary's limits that hold for every property, declared or not.
fn check_generic(value: &Value, path: &str, errors: &mut Vec<Issue>) {
    match value {
        Value::String(s) => check_string_len(s, limits::STRING_MAX_CHARS, path, errors),
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if !(v.is_finite() && v.abs() <= limits::NUMBER_MAX_ABS) {
                errors.push(Issue::new(
                    "value_out_of_range",
                    path,
                    format!(
                        "{path} must be at most {} in magnitude; got {v}",
                        limits::NUMBER_MAX_ABS
                    ),
                ));
            } else if !has_at_most_two_decimals(n) {
                errors.push(Issue::new(
                    "invalid_number_precision",
                    path,
                    format!("{path} has more than {} decimal places", limits::NUMBER_MAX_DECIMALS),
                ));
            }
        }
        Value::Object(_) | Value::Array(_) => {
            let size = serde_json::to_string(value).map_or(usize::MAX, |s| s.len());
            if size > limits::OBJECT_MAX_BYTES {
                errors.push(Issue::new(
                    "property_too_large",
                    path,
                    format!(
                        "{path} is {size} bytes serialized; the limit is {}",
                        limits::OBJECT_MAX_BYTES
                    ),
                ));
            } else if let Some(v) = unbounded_number(value) {
                errors.push(Issue::new(
                    "value_out_of_range",
                    path,
                    format!(
                        "{path} holds a number beyond {} in magnitude: {v}",
                        limits::NUMBER_MAX_ABS
                    ),
                ));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// The first number at any depth that is not finite or beyond 2^53.
fn unbounded_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            (!(v.is_finite() && v.abs() <= limits::NUMBER_MAX_ABS)).then_some(v)
        }
        Value::Array(items) => items.iter().find_map(unbounded_number),
        Value::Object(map) => map.values().find_map(unbounded_number),
        _ => None,
    }
}

fn check_string_len(s: &str, max: usize, path: &str, errors: &mut Vec<Issue>) {
    let chars = s.chars().count();
    if chars > max {
        errors.push(Issue::new(
            "property_too_long",
            path,
            format!("{path} is {chars} characters; the limit is {max}"),
        ));
    }
}

/// Integers always pass; a float passes when it has at most two decimals as written.
fn has_at_most_two_decimals(n: &serde_json::Number) -> bool {
    if n.is_i64() || n.is_u64() {
        return true;
    }
    // The shortest round-trip text of the f64 is what the sender wrote (modulo
    // exponent form), so count its fractional digits.
    let Some(f) = n.as_f64() else { return false };
    let text = format!("{f}");
    if text.contains(['e', 'E']) {
        return (f * 100.0).fract() == 0.0;
    }
    text.split_once('.')
        .is_none_or(|(_, frac)| frac.len() <= limits::NUMBER_MAX_DECIMALS as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use serde_json::json;

    fn props(v: Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    fn check(event: &str, v: Value) -> (Vec<Issue>, Vec<Issue>, Map<String, Value>) {
        let (mut e, mut w) = (vec![], vec![]);
        let out = check_properties(find(event).unwrap(), props(v), &mut e, &mut w);
        (e, w, out)
    }

    fn codes(issues: &[Issue]) -> Vec<(&'static str, &str)> {
        issues.iter().map(|i| (i.code, i.field.as_str())).collect()
    }

    #[test]
    fn reports_every_problem_not_just_the_first() {
        let (errors, _, _) = check("select_template", json!({"template_type": "nope", "category": 5}));
        assert_eq!(
            codes(&errors),
            vec![
                ("invalid_property_type", "properties.category"),
                ("invalid_enum_value", "properties.template_type"),
                ("missing_required_property", "properties.template_id"),
            ]
        );
    }

    #[test]
    fn a_valid_standard_event_passes_clean() {
        let (errors, warnings, _) = check(
            "compile_prompt",
            json!({"prompt_id": "p1", "model_type": "gpt-4", "prompt_length": 150, "success": true, "processing_time": 1200.5}),
        );
        assert!(errors.is_empty() && warnings.is_empty(), "{errors:?} {warnings:?}");
    }

    #[test]
    fn string_limit_is_100_chars_inclusive_counting_characters_not_bytes() {
        let at = "가".repeat(100);
        let (errors, _, _) = check("search", json!({"search_term": at}));
        assert!(errors.is_empty());
        let (errors, _, _) = check("search", json!({"search_term": "가".repeat(101)}));
        assert_eq!(codes(&errors), vec![("property_too_long", "properties.search_term")]);
    }

    #[test]
    fn a_param_can_raise_its_own_string_limit() {
        let (errors, _, _) = check("error", json!({"error_type": "x", "error_message": "m".repeat(512)}));
        assert!(errors.is_empty());
        let (errors, _, _) = check("error", json!({"error_type": "x", "error_message": "m".repeat(513)}));
        assert_eq!(codes(&errors), vec![("property_too_long", "properties.error_message")]);
    }

    #[test]
    fn object_limit_is_1kb_serialized() {
        // {"k":"…"} is 8 bytes of framing.
        let fits = json!({"k": "x".repeat(limits::OBJECT_MAX_BYTES - 8)});
        let (errors, _, _) = check("search", json!({"search_term": "a", "filters": fits}));
        assert!(errors.is_empty(), "{errors:?}");
        let over = json!({"k": "x".repeat(limits::OBJECT_MAX_BYTES - 7)});
        let (errors, _, _) = check("search", json!({"search_term": "a", "filters": over}));
        assert_eq!(codes(&errors), vec![("property_too_large", "properties.filters")]);
    }

    #[test]
    fn numbers_carry_at_most_two_decimals() {
        // An undeclared number: only the generic rules apply.
        for ok in [json!(1), json!(-3), json!(12.5), json!(0.25), json!(1e3)] {
            let (errors, _, _) = check("search", json!({"search_term": "a", "custom_score": ok}));
            assert!(errors.is_empty(), "{ok}");
        }
        for bad in [json!(0.125), json!(1.001)] {
            let (errors, _, _) = check("search", json!({"search_term": "a", "custom_score": bad}));
            assert_eq!(
                codes(&errors),
                vec![("invalid_number_precision", "properties.custom_score")],
                "{bad}"
            );
        }
    }

    #[test]
    fn a_declared_number_is_checked_against_its_range_on_both_sides() {
        let ok = |event: &str, props: serde_json::Value| check(event, props).0.is_empty();
        let out = |event: &str, props: serde_json::Value, path: &str| {
            codes(&check(event, props).0) == vec![("value_out_of_range", path)]
        };
        // Money: 0 ..= 1e12.
        let purchase = |amount: serde_json::Value| json!({"amount": amount, "currency": "KRW"});
        for v in [json!(0), json!(-0.0), json!(1e12), json!(1999.99)] {
            assert!(ok("purchase_completed", purchase(v.clone())), "{v}");
        }
        for v in [json!(1e12 + 1.0), json!(-1), json!(1e308), json!(-1e308), json!(-0.01)] {
            assert!(
                out("purchase_completed", purchase(v.clone()), "properties.amount"),
                "{v}"
            );
        }
        // Counts: whole numbers 0 ..= 1e9.
        let search = |n: serde_json::Value| json!({"search_term": "a", "result_count": n});
        for v in [json!(0), json!(1_000_000_000)] {
            assert!(ok("search", search(v.clone())), "{v}");
        }
        for v in [json!(1_000_000_001), json!(-1), json!(2.5)] {
            assert!(out("search", search(v.clone()), "properties.result_count"), "{v}");
        }
        // Percent: 0 ..= 100.
        let scroll = |n: serde_json::Value| json!({"engagement_type": "scroll", "scroll_depth": n});
        assert!(ok("engagement", scroll(json!(100))));
        assert!(out("engagement", scroll(json!(100.01)), "properties.scroll_depth"));
    }

    #[test]
    fn an_undeclared_number_beyond_two_to_the_53_is_out_of_range() {
        let props = |v: serde_json::Value| json!({"search_term": "a", "custom_score": v});
        assert!(check("search", props(json!(9_007_199_254_740_992u64))).0.is_empty());
        for v in [json!(1e16), json!(-1e308), json!(1e308)] {
            assert_eq!(
                codes(&check("search", props(v.clone())).0),
                vec![("value_out_of_range", "properties.custom_score")],
                "{v}"
            );
        }
    }

    #[test]
    fn a_number_nested_in_an_object_or_array_is_bounded_too() {
        let props = |v: serde_json::Value| json!({"search_term": "a", "filters": v});
        assert!(check("search", props(json!({"page": [1, 2.5]}))).0.is_empty());
        for v in [json!({"x": 1e308}), json!({"a": [[-1e17]]})] {
            assert_eq!(
                codes(&check("search", props(v.clone())).0),
                vec![("value_out_of_range", "properties.filters")],
                "{v}"
            );
        }
    }

    #[test]
    fn every_numeric_parameter_of_the_catalog_declares_its_range() {
        for e in crate::catalog::EVENTS {
            for p in e.params {
                assert_eq!(p.range.is_some(), p.kind == ParamKind::Number, "{}.{}", e.name, p.name);
            }
        }
    }

    #[test]
    fn unknown_properties_are_kept_with_a_warning_but_still_size_checked() {
        let (errors, warnings, out) = check("app_open", json!({"theme": "dark"}));
        assert!(errors.is_empty());
        assert_eq!(codes(&warnings), vec![("unknown_property", "properties.theme")]);
        assert_eq!(out["theme"], "dark");
        let (errors, _, _) = check("app_open", json!({"theme": "d".repeat(101)}));
        assert_eq!(codes(&errors), vec![("property_too_long", "properties.theme")]);
    }

    #[test]
    fn aliases_are_renamed_and_a_clash_is_an_error() {
        let (errors, _, out) = check("purchase_completed", json!({"amount": 29000, "planId": "starter"}));
        assert!(errors.is_empty());
        assert_eq!(out["plan_id"], "starter");
        let (errors, _, _) = check(
            "purchase_completed",
            json!({"amount": 1, "planId": "a", "plan_id": "b"}),
        );
        assert_eq!(codes(&errors), vec![("conflicting_fields", "properties.plan_id")]);
    }

    #[test]
    fn bad_property_names_and_raw_emails_are_refused() {
        let (errors, _, out) = check("app_open", json!({"bad-name": 1, "Email": "a@b.c"}));
        assert_eq!(
            codes(&errors),
            vec![
                ("pii_in_properties", "properties.Email"),
                ("invalid_property_name", "properties.bad-name")
            ]
        );
        assert!(out.is_empty(), "refused properties are never kept");
    }

    #[test]
    fn null_counts_as_absent_for_required_properties() {
        let (errors, _, _) = check("m_checkout_click", json!({"plan_tier": null}));
        assert_eq!(
            codes(&errors),
            vec![("missing_required_property", "properties.plan_tier")]
        );
    }

    #[test]
    fn requirements_accept_any_of_their_fields() {
        let def = find("m_auth_login_start").unwrap();
        let mut errors = vec![];
        check_requirements(def, |f| f == Field::UserId, &mut errors);
        assert!(errors.is_empty());
        check_requirements(def, |_| false, &mut errors);
        assert_eq!(codes(&errors), vec![("missing_required_field", "email|user_id")]);
    }
}
