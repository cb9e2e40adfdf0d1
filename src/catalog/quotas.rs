//! Monthly quotas of the event dictionary (권한 체크, docs/product.md): protected events
//! map to actions, actions have limits per plan, and a user's or tenant's
//! override (stored in D1, set through the internal API) replaces the plan's.
//!
//! A user's plan is their latest `subscription` event's `plan_type` (`free`
//! after a `cancel`, and `free` when there is none); a `start` (payment not
//! completed) grants nothing. Months follow
//! [`MONTH_TIME_ZONE`].

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::Text;

/// Quota months start at midnight on the 1st in Seoul, where the dictionary's users are.
pub const MONTH_TIME_ZONE: Tz = Tz::Asia__Seoul;

/// Where a user's plan comes from: their latest event of `event_type`; its
/// `properties.<plan_property>` names the plan (`pro`, `team`; anything else
/// is `free`), and `properties.<cancel_property> = <cancel_value>` means they
/// are back on `free`. An event whose `properties.<cancel_property>` is
/// `<pending_value>` (a checkout only started, not paid) grants nothing and is
/// skipped. Without such an event they are on `free`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanSource {
    pub event_type: &'static str,
    pub plan_property: &'static str,
    pub cancel_property: &'static str,
    pub cancel_value: &'static str,
    pub pending_value: &'static str,
}

pub const PLAN_SOURCE: PlanSource = PlanSource {
    event_type: "subscription",
    plan_property: "plan_type",
    cancel_property: "action",
    cancel_value: "cancel",
    // The dictionary's `start`: payment has not completed yet.
    pending_value: "start",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanLimits {
    pub free: i64,
    pub pro: i64,
    pub team: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuotaAction {
    /// The action's name, as in the dictionary's `Quota exceeded for compile`.
    pub name: &'static str,
    pub label: Text,
    /// Event types that use one unit of this action.
    pub events: &'static [&'static str],
    /// Only events whose `properties.<0>` equals `<1>` count (the dictionary's 조건부 check).
    #[schema(value_type = Option<Vec<String>>)]
    pub only_when: Option<(&'static str, &'static str)>,
    pub limits: PlanLimits,
}

pub static ACTIONS: &[QuotaAction] = &[
    QuotaAction {
        name: "compile",
        label: Text {
            ko: "프롬프트 컴파일",
            en: "Prompt compile",
        },
        events: &["compile_prompt"],
        only_when: None,
        // The dictionary: 월 20회 제한 (the free plan).
        limits: PlanLimits {
            free: 20,
            pro: 500,
            team: 2000,
        },
    },
    QuotaAction {
        name: "workflow_run",
        label: Text {
            ko: "워크플로우 실행",
            en: "Workflow run",
        },
        events: &["start_workflow", "complete_step"],
        only_when: None,
        limits: PlanLimits {
            free: 50,
            pro: 1000,
            team: 5000,
        },
    },
    QuotaAction {
        name: "ai_tool_access",
        label: Text {
            ko: "AI 도구 사용 (Pro 기능)",
            en: "AI tool use (Pro feature)",
        },
        events: &["tool_interaction"],
        // Viewing or bookmarking a tool is free; using it is the Pro feature.
        only_when: Some(("action_type", "use")),
        limits: PlanLimits {
            free: 10,
            pro: 1000,
            team: 5000,
        },
    },
];

pub fn action(name: &str) -> Option<&'static QuotaAction> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// True when some action meters this event type (whatever its properties).
pub fn is_metered_type(event_type: &str) -> bool {
    ACTIONS.iter().any(|a| a.events.contains(&event_type))
}

/// The action an event uses, if its type is protected and it meets the condition.
pub fn action_for(event_type: &str, properties: Option<&serde_json::Value>) -> Option<&'static QuotaAction> {
    ACTIONS.iter().find(|a| {
        a.events.contains(&event_type)
            && a.only_when.is_none_or(|(prop, value)| {
                properties.and_then(|p| p.get(prop)).and_then(|v| v.as_str()) == Some(value)
            })
    })
}

/// `[start, end)` of the quota month containing `t`.
pub fn month_of(t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = t.with_timezone(&MONTH_TIME_ZONE).date_naive();
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).expect("day 1 exists");
    month_bounds(first)
}

/// `[start, end)` of the month that begins on `first` (a 1st), in [`MONTH_TIME_ZONE`].
pub fn month_bounds(first: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = first + Months::new(1);
    (
        crate::query::range::start_of_day(MONTH_TIME_ZONE, first),
        crate::query::range::start_of_day(MONTH_TIME_ZONE, next),
    )
}

/// Parses `YYYY-MM` into the month's first day.
pub fn parse_month(raw: &str) -> Option<NaiveDate> {
    let (y, m) = raw.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// The dictionary's 402 message.
pub fn exceeded_message(action: &str, used: i64, limit: i64) -> String {
    format!("Quota exceeded for {action}. Current: {used}/{limit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    #[test]
    fn protected_events_exist_are_never_sampled_and_map_to_one_action() {
        let mut seen = std::collections::HashSet::new();
        for a in ACTIONS {
            for e in a.events {
                let def = catalog::find(e).unwrap_or_else(|| panic!("{e} unknown"));
                assert!(seen.insert(*e), "{e} in two actions");
                if a.only_when.is_none() {
                    assert_eq!(def.sample_rate, 1.0, "{e}: a metered event must not be sampled away");
                }
                if let Some((prop, _)) = a.only_when {
                    assert!(def.param(prop).is_some(), "{e}.{prop}");
                }
            }
            assert!(
                a.limits.free <= a.limits.pro && a.limits.pro <= a.limits.team,
                "{}",
                a.name
            );
        }
        assert_eq!(action("compile").unwrap().limits.free, 20, "the dictionary's 월 20회");
    }

    #[test]
    fn a_conditional_action_counts_only_matching_events() {
        let use_it = serde_json::json!({"action_type": "use"});
        let view_it = serde_json::json!({"action_type": "view"});
        assert_eq!(
            action_for("tool_interaction", Some(&use_it)).map(|a| a.name),
            Some("ai_tool_access")
        );
        assert_eq!(action_for("tool_interaction", Some(&view_it)), None);
        assert_eq!(action_for("compile_prompt", None).map(|a| a.name), Some("compile"));
        assert_eq!(action_for("search", None), None);
    }

    #[test]
    fn months_start_at_midnight_in_seoul() {
        let t = crate::time::parse_rfc3339("2026-02-28T15:30:00Z").unwrap(); // 2026-03-01 00:30 KST
        let (start, end) = month_of(t);
        assert_eq!(crate::time::to_stored(start), "2026-02-28T15:00:00.000Z");
        assert_eq!(crate::time::to_stored(end), "2026-03-31T15:00:00.000Z");
        assert_eq!(parse_month("2026-12"), NaiveDate::from_ymd_opt(2026, 12, 1));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
        assert_eq!(
            exceeded_message("compile", 20, 20),
            "Quota exceeded for compile. Current: 20/20"
        );
    }
}
