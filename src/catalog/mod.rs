//! The event catalog: every event type the service accepts, declared as data.
//!
//! Declared in Rust (not parsed from a file at runtime) so that a malformed
//! entry fails the build, and so the worker pays no parse cost per isolate.
//! The invariants the compiler cannot see (unique names, known services,
//! sane limits) are checked by the tests below.

pub mod alerts;
pub mod docs;
mod events;
pub mod funnels;
pub mod kpis;
pub mod quotas;
pub mod validate;

use serde::Serialize;

pub use events::EVENTS;

/// A text shown to operators: Korean, the console's first language, and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Text {
    pub ko: &'static str,
    pub en: &'static str,
}

/// Top-level identifiers an event type can require (the auth/commerce funnel's required
/// identifiers, docs/product.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Email,
    TraceId,
    UserId,
    SessionId,
    AnonymousId,
    TenantId,
    JobId,
    Success,
    ErrorCode,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::TraceId => "trace_id",
            Field::UserId => "user_id",
            Field::SessionId => "session_id",
            Field::AnonymousId => "anonymous_id",
            Field::TenantId => "tenant_id",
            Field::JobId => "job_id",
            Field::Success => "success",
            Field::ErrorCode => "error_code",
        }
    }
}

/// At least one of `any_of` must be present (one entry = simply required).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Requirement {
    pub any_of: &'static [Field],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    String,
    Number,
    Boolean,
    Object,
}

/// The values a numeric parameter accepts: finite, within `[min, max]`,
/// whole when `integer`. Every numeric parameter declares one, so no stored
/// value can overflow a sum or turn it non-finite (15 million events at the
/// largest bound sum to about 1.5e19, far inside an f64).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NumberRange {
    pub min: f64,
    pub max: f64,
    pub integer: bool,
    /// What the number measures, for people reading the catalog.
    pub unit: &'static str,
}

impl NumberRange {
    /// Money in the currency's own unit (won, dollars...).
    pub const MONEY: NumberRange = NumberRange {
        min: 0.0,
        max: 1e12,
        integer: false,
        unit: "amount in the currency's unit",
    };
    /// Counts and lengths.
    pub const COUNT: NumberRange = NumberRange {
        min: 0.0,
        max: 1e9,
        integer: true,
        unit: "count",
    };
    /// Durations: 30 days in milliseconds (or far longer in seconds).
    pub const DURATION: NumberRange = NumberRange {
        min: 0.0,
        max: 2_592_000_000.0,
        integer: false,
        unit: "duration (ms or s, as the parameter's name says)",
    };
    pub const PERCENT: NumberRange = NumberRange {
        min: 0.0,
        max: 100.0,
        integer: false,
        unit: "percent",
    };

    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max && (!self.integer || v.fract() == 0.0)
    }
}

/// One declared property of an event type (`properties.<name>`).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
    /// Allowed values of a string parameter; empty means any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub allowed: &'static [&'static str],
    /// Longest string accepted, in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<usize>,
    /// Other spellings senders use for this property (e.g. the ops console's `planId`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub aliases: &'static [&'static str],
    /// The accepted values of a numeric parameter (every one declares it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<NumberRange>,
    /// An identifier or classification (the dictionary's `_id` and `_type`
    /// parameters): letters, digits and `_` only ([`is_identifier_text`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub identifier: bool,
}

/// The event dictionary's string rule for identifiers: ASCII letters, digits and `_` only.
pub fn is_identifier_text(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parameters the dictionary's tracker adds to every event (자동 추가 매개변수),
/// accepted on every type, at the top level or among the properties, and
/// stored among the properties. Limits fit what they hold: a URL or a user
/// agent is longer than the dictionary's 100-character strings.
pub const AUTO_PARAMS: &[Param] = &[
    Param {
        name: "page_url",
        kind: ParamKind::String,
        required: false,
        allowed: &[],
        max_chars: Some(2048),
        aliases: &[],
        range: None,
        identifier: false,
    },
    Param {
        name: "page_title",
        kind: ParamKind::String,
        required: false,
        allowed: &[],
        max_chars: Some(300),
        aliases: &[],
        range: None,
        identifier: false,
    },
    Param {
        name: "user_agent",
        kind: ParamKind::String,
        required: false,
        allowed: &[],
        max_chars: Some(512),
        aliases: &[],
        range: None,
        identifier: false,
    },
];

/// One part of a GA4 `event_label`: a property's value or literal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelPart {
    Param(&'static str),
    Text(&'static str),
}

/// How an event maps onto GA4 (the standard event dictionary's mapping, docs/product.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ga4Mapping {
    pub event_category: &'static str,
    /// Concatenated; a missing property contributes nothing.
    pub event_label: &'static [LabelPart],
    /// The numeric property sent as `value`.
    pub value: Option<&'static str>,
    /// Extra GA4 parameters: `(ga4 name, property)`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub dimensions: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct EventDef {
    pub name: &'static str,
    pub service: &'static str,
    pub description: Text,
    pub requires: &'static [Requirement],
    pub params: &'static [Param],
    /// Share of events kept (0 < rate ≤ 1); the rest are `sampled_out`.
    pub sample_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ga4: Option<Ga4Mapping>,
    /// A web page may send it with a publishable key (`POST /collect`): views,
    /// engagement and search, never a metered or money event. A type metered
    /// only under a condition (a tool's `use`) is refused per event when it meets it.
    pub browser_safe: bool,
}

impl EventDef {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Dictionary-wide limits (the standard event dictionary's data type limits, docs/product.md).
pub mod limits {
    /// A string property value, in characters, unless its `Param` says otherwise.
    pub const STRING_MAX_CHARS: usize = 100;
    /// An object (or array) property value, serialized, in bytes.
    pub const OBJECT_MAX_BYTES: usize = 1024;
    /// Numbers carry at most this many decimal places.
    pub const NUMBER_MAX_DECIMALS: u32 = 2;
    /// Any number, declared or not, is at most this large in magnitude
    /// (2^53: beyond it JavaScript readers lose precision). Declared numeric
    /// parameters have narrower ranges ([`super::NumberRange`]).
    pub const NUMBER_MAX_ABS: f64 = 9_007_199_254_740_992.0;
    /// The whole `properties` object, serialized, in bytes.
    pub const PROPERTIES_MAX_BYTES: usize = 8 * 1024;
    /// Properties per event.
    pub const PROPERTIES_MAX_COUNT: usize = 50;
    /// Property names: `[A-Za-z0-9_]`, at most this many characters (GA4's limit).
    pub const PROPERTY_NAME_MAX_CHARS: usize = 40;
}

/// Services that send events; `service` on an event must be its type's service.
pub const SERVICES: &[&str] = &["pregoi", "presstuner", "pluid", "easypick"];

/// A type whose name says it is a failure (`m_auth_login_fail`, `ai_organize_failed`).
pub fn is_failure_type(event_type: &str) -> bool {
    event_type.ends_with("_fail") || event_type.ends_with("_failed")
}

/// The catalog's types named as failures ([`is_failure_type`]).
pub fn failure_types() -> Vec<&'static str> {
    EVENTS.iter().map(|e| e.name).filter(|n| is_failure_type(n)).collect()
}

pub fn find(event_type: &str) -> Option<&'static EventDef> {
    EVENTS.iter().find(|e| e.name == event_type)
}

/// The catalog's lowest sampling rate among `events` (all types when empty):
/// below 1, sampled rows may take part in a distinct count, which is then a
/// lower bound. Reading `sample_rate` per row would cost the covering index
/// its table-free read.
pub fn lowest_sample_rate(events: &[&str]) -> f64 {
    let rates: Vec<f64> = if events.is_empty() {
        EVENTS.iter().map(|e| e.sample_rate).collect()
    } else {
        events.iter().filter_map(|e| find(e)).map(|e| e.sample_rate).collect()
    };
    rates.into_iter().fold(1.0, f64::min)
}

/// `snake_case`: lowercase ASCII words of letters and digits joined by single underscores.
#[cfg(test)]
pub(crate) fn is_snake_case(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('_')
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_metered_or_money_event_type_is_browser_safe() {
        let browser: Vec<&str> = EVENTS.iter().filter(|e| e.browser_safe).map(|e| e.name).collect();
        assert_eq!(
            browser,
            ["m_page_view", "tool_interaction", "search", "page_view", "engagement"]
        );
        for e in EVENTS.iter().filter(|e| e.browser_safe) {
            // Money: an amount parameter, or a type about paying.
            assert!(
                !e.params.iter().any(|p| p.range == Some(NumberRange::MONEY)),
                "{}: carries money",
                e.name
            );
            for word in [
                "purchase",
                "revenue",
                "subscription",
                "checkout",
                "conversion",
                "stripe",
            ] {
                assert!(!e.name.contains(word), "{}: a money event", e.name);
            }
            // Metered: only under a condition, which the collect route refuses per event.
            for a in quotas::ACTIONS.iter().filter(|a| a.events.contains(&e.name)) {
                assert!(a.only_when.is_some(), "{} is always metered ({})", e.name, a.name);
            }
        }
    }

    #[test]
    fn a_type_declaring_an_automatic_parameter_declares_it_as_every_type_accepts_it() {
        for e in EVENTS {
            for auto in AUTO_PARAMS {
                if let Some(own) = e.param(auto.name) {
                    assert_eq!(
                        (own.kind, own.max_chars),
                        (auto.kind, auto.max_chars),
                        "{}.{}",
                        e.name,
                        auto.name
                    );
                }
            }
        }
        for auto in AUTO_PARAMS {
            assert!(
                auto.max_chars.unwrap_or(0) > limits::STRING_MAX_CHARS,
                "{} fits a longer value",
                auto.name
            );
        }
    }

    #[test]
    fn identifier_properties_are_the_dictionarys_id_and_free_type_strings() {
        for e in EVENTS {
            for p in e.params {
                let named = p.name.ends_with("_id") || p.name.ends_with("_type");
                let expected = e.service == "easypick" && named && p.allowed.is_empty() && p.kind == ParamKind::String;
                assert_eq!(p.identifier, expected, "{}.{}", e.name, p.name);
            }
        }
        assert!(is_identifier_text("blog_post_template_001"));
        assert!(!is_identifier_text("blog-post") && !is_identifier_text("a b") && !is_identifier_text("템플릿"));
    }

    #[test]
    fn event_names_are_unique_snake_case_and_ga4_sized() {
        let mut seen = HashSet::new();
        for e in EVENTS {
            assert!(seen.insert(e.name), "duplicate event {}", e.name);
            assert!(e.name.len() <= 40, "{} longer than GA4's 40", e.name);
            assert!(is_snake_case(e.name), "{} is not snake_case", e.name);
        }
    }

    #[test]
    fn every_event_belongs_to_a_known_service_and_is_described() {
        for e in EVENTS {
            assert!(
                SERVICES.contains(&e.service),
                "{} has unknown service {}",
                e.name,
                e.service
            );
            assert!(
                !e.description.ko.is_empty() && !e.description.en.is_empty(),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn params_are_unique_well_named_and_enums_are_strings() {
        for e in EVENTS {
            let mut names = HashSet::new();
            for p in e.params {
                for n in std::iter::once(&p.name).chain(p.aliases) {
                    assert!(names.insert(*n), "{}: duplicate param {}", e.name, n);
                    assert!(n.len() <= limits::PROPERTY_NAME_MAX_CHARS);
                    assert!(
                        n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                        "{}.{}",
                        e.name,
                        n
                    );
                }
                assert!(
                    p.allowed.is_empty() || p.kind == ParamKind::String,
                    "{}.{}",
                    e.name,
                    p.name
                );
            }
            for r in e.requires {
                assert!(!r.any_of.is_empty(), "{}: empty requirement", e.name);
            }
        }
    }

    #[test]
    fn sample_rates_are_the_seeds_and_in_range() {
        for e in EVENTS {
            assert!(e.sample_rate > 0.0 && e.sample_rate <= 1.0, "{}", e.name);
        }
        let rate = |n| find(n).unwrap().sample_rate;
        assert_eq!(
            [
                rate("page_view"),
                rate("engagement"),
                rate("search"),
                rate("tool_interaction")
            ],
            [0.1, 0.05, 0.2, 0.5]
        );
        for business in [
            "select_template",
            "compile_prompt",
            "start_workflow",
            "complete_step",
            "subscription",
            "conversion",
            "error",
        ] {
            assert_eq!(rate(business), 1.0, "{business}");
        }
    }

    #[test]
    fn every_standard_event_has_a_ga4_mapping_over_declared_properties() {
        for e in EVENTS.iter().filter(|e| e.service == "easypick") {
            let m = e.ga4.unwrap_or_else(|| panic!("{} has no GA4 mapping", e.name));
            let props = m
                .event_label
                .iter()
                .filter_map(|p| match p {
                    LabelPart::Param(n) => Some(*n),
                    LabelPart::Text(_) => None,
                })
                .chain(m.value)
                .chain(m.dimensions.iter().map(|d| d.1));
            for prop in props {
                assert!(e.param(prop).is_some(), "{}: {prop} is not declared", e.name);
            }
            if let Some(v) = m.value {
                assert_eq!(e.param(v).unwrap().kind, ParamKind::Number, "{}: value {v}", e.name);
            }
            for (name, _) in m.dimensions {
                assert!(
                    name.len() <= 40 && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn covers_all_three_seeds() {
        for name in [
            "m_auth_login_fail",
            "m_checkout_click",
            "m_provision_failed",
            "m_auth_get_user",
            "m_onboarding_subdomain_check",
            "purchase_completed",
            "command_executed",
            "weekly_report_generated",
            "ai_organize_failed",
            "app_open",
            "compile_prompt",
            "tool_interaction",
            "subscription",
            "error",
        ] {
            assert!(find(name).is_some(), "{name} missing");
        }
        assert_eq!(EVENTS.iter().filter(|e| e.service == "easypick").count(), 11);
    }
}
