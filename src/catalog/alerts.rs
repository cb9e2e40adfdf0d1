//! Alert rules, declared as data next to the KPIs. The every-minute cron
//! evaluates them from the rollups ([`crate::usecases::alerts`]); an incident
//! opens once per (rule, scope) while the rule fires and resolves when it clears.

use serde::Serialize;

use super::Text;

/// How far a failure rate may go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RateLimit {
    /// Fires above this share of failed events, in percent.
    Above { percent: f64 },
    /// Fires above `factor` times the rate of the `baseline_hours` UTC hours
    /// before the window, once the rate is at least `min_percent` (so a
    /// baseline of 0 % does not make one failure an incident).
    AboveBaseline {
        factor: f64,
        baseline_hours: i64,
        min_percent: f64,
    },
}

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// Every service of the catalog (one scope each) that stored events before
    /// but none for `minutes`. A service that never sent is not silent.
    ServiceSilent { minutes: i64 },
    /// The failed share of `events` (`success = false`, an error code, or a
    /// type named `*_fail`/`*_failed`) over the last `window_hours` UTC hours of
    /// the hourly rollup, the current hour included; only with `min_events`.
    FailureRate {
        #[schema(value_type = Vec<String>)]
        events: &'static [&'static str],
        window_hours: i64,
        min_events: i64,
        limit: RateLimit,
    },
    /// At least `at_least` events rejected into the quarantine in the last `window_minutes`.
    QuarantineGrowth { window_minutes: i64, at_least: i64 },
    /// At least `at_least` users at their monthly limit of each quota action (one scope each).
    UsersAtQuota { at_least: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlertRule {
    pub name: &'static str,
    pub label: Text,
    /// What the rule watches (`kind` names it).
    #[serde(rename = "watch")]
    pub kind: AlertKind,
}

const fn t(ko: &'static str, en: &'static str) -> Text {
    Text { ko, en }
}

pub static ALERT_RULES: &[AlertRule] = &[
    AlertRule {
        name: "service_silent",
        label: t("서비스 무응답 60분", "Service silent for 60 minutes"),
        kind: AlertKind::ServiceSilent { minutes: 60 },
    },
    AlertRule {
        name: "otp_send_failure_rate",
        label: t("OTP 발송 실패율 20% 초과", "OTP send failure rate above 20 %"),
        kind: AlertKind::FailureRate {
            events: &["m_otp_send_result"],
            window_hours: 2,
            min_events: 10,
            limit: RateLimit::Above { percent: 20.0 },
        },
    },
    AlertRule {
        name: "login_failure_spike",
        label: t(
            "로그인 실패율이 지난 7일 기준의 2배 초과",
            "Login failure rate above twice its 7-day baseline",
        ),
        kind: AlertKind::FailureRate {
            events: &["m_auth_login_success", "m_auth_login_fail"],
            window_hours: 2,
            min_events: 20,
            limit: RateLimit::AboveBaseline {
                factor: 2.0,
                baseline_hours: 168,
                min_percent: 10.0,
            },
        },
    },
    AlertRule {
        name: "ai_organize_failure_rate",
        label: t("AI 정리 실패율 30% 초과", "AI organize failure rate above 30 %"),
        kind: AlertKind::FailureRate {
            events: &["ai_organize_completed", "ai_organize_failed"],
            window_hours: 2,
            min_events: 10,
            limit: RateLimit::Above { percent: 30.0 },
        },
    },
    AlertRule {
        name: "quarantine_growth",
        label: t(
            "1시간 동안 격리 100건 이상",
            "100 or more events quarantined in an hour",
        ),
        kind: AlertKind::QuarantineGrowth {
            window_minutes: 60,
            at_least: 100,
        },
    },
    AlertRule {
        name: "users_at_quota",
        label: t("월 한도에 도달한 사용자 5명 이상", "5 or more users at a monthly limit"),
        kind: AlertKind::UsersAtQuota { at_least: 5 },
    },
];

pub fn find(name: &str) -> Option<&'static AlertRule> {
    ALERT_RULES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rules_have_unique_names_known_types_and_sane_limits() {
        let names: HashSet<&str> = ALERT_RULES.iter().map(|r| r.name).collect();
        assert_eq!(names.len(), ALERT_RULES.len());
        for rule in ALERT_RULES {
            match rule.kind {
                AlertKind::ServiceSilent { minutes } => assert!(minutes > 0),
                AlertKind::FailureRate {
                    events,
                    window_hours,
                    min_events,
                    limit,
                } => {
                    assert!(
                        !events.is_empty() && window_hours > 0 && min_events > 0,
                        "{}",
                        rule.name
                    );
                    for e in events {
                        assert!(crate::catalog::find(e).is_some(), "{}: unknown type {e}", rule.name);
                    }
                    if let RateLimit::AboveBaseline {
                        factor, baseline_hours, ..
                    } = limit
                    {
                        assert!(factor > 1.0 && baseline_hours > 0, "{}", rule.name);
                    }
                }
                AlertKind::QuarantineGrowth {
                    window_minutes,
                    at_least,
                } => assert!(window_minutes > 0 && at_least > 0),
                AlertKind::UsersAtQuota { at_least } => assert!(at_least > 0),
            }
        }
    }
}
