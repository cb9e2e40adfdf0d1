//! KPIs, declared next to the events they measure.
//!
//! A KPI is a [`Measure`] (count, sum of a numeric property, distinct count,
//! most frequent value of a property) or a [`Formula::Ratio`] of two other
//! KPIs. Handlers never hard-code a KPI: the summary API evaluates this list.

use serde::Serialize;

use super::Text;

/// Which events of the listed types a count keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Any,
    /// `success = 1`.
    Success,
    /// `success = 0`.
    Failure,
}

/// A stored identifier column a distinct count can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    UserId,
    SessionId,
    AnonymousId,
    EmailFingerprint,
    TraceId,
    TenantId,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::UserId => "user_id",
            Column::SessionId => "session_id",
            Column::AnonymousId => "anonymous_id",
            Column::EmailFingerprint => "email_fingerprint",
            Column::TraceId => "trace_id",
            Column::TenantId => "tenant_id",
        }
    }
}

/// One number (or, for `Top`, one value) computed from the stored rows of a range.
/// `events` lists event types; an empty list means every event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    Count {
        events: &'static [&'static str],
        outcome: Outcome,
    },
    /// Sum of the numeric property `properties.<property>`.
    Sum {
        events: &'static [&'static str],
        property: &'static str,
    },
    Distinct {
        events: &'static [&'static str],
        column: Column,
    },
    /// The most frequent value of the string property `properties.<property>`.
    Top {
        events: &'static [&'static str],
        property: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Formula {
    Measure(Measure),
    /// `numerator / denominator`, both ids of KPIs that are measures; null when the denominator is 0.
    Ratio {
        numerator: &'static str,
        denominator: &'static str,
    },
}

/// How a KPI's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    /// Korean won, a whole number.
    Krw,
    /// A fraction in 0..=1, shown as a percentage.
    Ratio,
    /// A property value (for `Top`).
    Text,
}

/// The console screen a KPI belongs to (the seeds' lenses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lens {
    /// The auth/commerce funnel seed's KPI cards.
    Funnel,
    Revenue,
    Engagement,
    Workspace,
    Content,
    /// The event dictionary seed's monthly usage per action.
    Usage,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Kpi {
    /// Stable snake_case key of the summary's `kpis` object.
    pub id: &'static str,
    pub lens: Lens,
    /// The service the KPI describes; `None` for cross-service KPIs.
    pub service: Option<&'static str>,
    pub label: Text,
    pub unit: Unit,
    pub formula: Formula,
}

pub fn find(id: &str) -> Option<&'static Kpi> {
    KPIS.iter().find(|k| k.id == id)
}

const fn t(ko: &'static str, en: &'static str) -> Text {
    Text { ko, en }
}
const fn count(
    id: &'static str,
    lens: Lens,
    service: &'static str,
    label: Text,
    events: &'static [&'static str],
    outcome: Outcome,
) -> Kpi {
    Kpi {
        id,
        lens,
        service: Some(service),
        label,
        unit: Unit::Count,
        formula: Formula::Measure(Measure::Count { events, outcome }),
    }
}
const fn ratio(
    id: &'static str,
    lens: Lens,
    service: &'static str,
    label: Text,
    numerator: &'static str,
    denominator: &'static str,
) -> Kpi {
    Kpi {
        id,
        lens,
        service: Some(service),
        label,
        unit: Unit::Ratio,
        formula: Formula::Ratio { numerator, denominator },
    }
}
const fn top(
    id: &'static str,
    lens: Lens,
    service: &'static str,
    label: Text,
    event: &'static [&'static str],
    property: &'static str,
) -> Kpi {
    Kpi {
        id,
        lens,
        service: Some(service),
        label,
        unit: Unit::Text,
        formula: Formula::Measure(Measure::Top {
            events: event,
            property,
        }),
    }
}

use Lens::{Content, Engagement, Funnel, Revenue, Usage, Workspace};
use Outcome::{Any, Failure, Success};

/// Every KPI of the three seeds: the funnel seed's KPI cards (001), the ops
/// console's lenses (000), and the event dictionary's monthly usage per action (002).
pub static KPIS: &[Kpi] = &[
    // 001: 세션·로그인 시도/성공·OTP 발송/실패·checkout 시작/완료·프로비전 실패, and their rates.
    count(
        "pregoi_sessions",
        Funnel,
        "pregoi",
        t("세션", "Sessions"),
        &["m_auth_session_created"],
        Any,
    ),
    count(
        "pregoi_login_attempts",
        Funnel,
        "pregoi",
        t("로그인 시도", "Login attempts"),
        &["m_auth_login_start"],
        Any,
    ),
    count(
        "pregoi_login_success",
        Funnel,
        "pregoi",
        t("로그인 성공", "Login successes"),
        &["m_auth_login_success"],
        Any,
    ),
    count(
        "pregoi_login_failures",
        Funnel,
        "pregoi",
        t("로그인 실패", "Login failures"),
        &["m_auth_login_fail"],
        Any,
    ),
    ratio(
        "pregoi_login_success_rate",
        Funnel,
        "pregoi",
        t("로그인 성공률", "Login success rate"),
        "pregoi_login_success",
        "pregoi_login_attempts",
    ),
    count(
        "pregoi_otp_requested",
        Funnel,
        "pregoi",
        t("OTP 요청", "OTP requested"),
        &["m_otp_send"],
        Any,
    ),
    count(
        "pregoi_otp_send_results",
        Funnel,
        "pregoi",
        t("OTP 발송 결과", "OTP send results"),
        &["m_otp_send_result"],
        Any,
    ),
    count(
        "pregoi_otp_sent",
        Funnel,
        "pregoi",
        t("OTP 발송", "OTP sent"),
        &["m_otp_send_result"],
        Success,
    ),
    count(
        "pregoi_otp_failed",
        Funnel,
        "pregoi",
        t("OTP 발송 실패", "OTP send failures"),
        &["m_otp_send_result"],
        Failure,
    ),
    ratio(
        "pregoi_otp_failure_rate",
        Funnel,
        "pregoi",
        t("OTP 발송 실패율", "OTP failure rate"),
        "pregoi_otp_failed",
        "pregoi_otp_send_results",
    ),
    count(
        "pregoi_checkout_started",
        Funnel,
        "pregoi",
        t("결제 시작", "Checkouts started"),
        &["m_checkout_click"],
        Any,
    ),
    count(
        "pregoi_checkout_completed",
        Funnel,
        "pregoi",
        t("결제 완료", "Checkouts completed"),
        &["m_stripe_webhook_checkout_complete"],
        Any,
    ),
    ratio(
        "pregoi_checkout_completion_rate",
        Funnel,
        "pregoi",
        t("결제 시작 대비 완료율", "Checkout completion rate"),
        "pregoi_checkout_completed",
        "pregoi_checkout_started",
    ),
    count(
        "pregoi_provision_jobs",
        Funnel,
        "pregoi",
        t("프로비전 작업", "Provisioning jobs"),
        &["m_provision_job_created"],
        Any,
    ),
    count(
        "pregoi_provision_failures",
        Funnel,
        "pregoi",
        t("프로비전 실패", "Provisioning failures"),
        &["m_provision_failed"],
        Any,
    ),
    ratio(
        "pregoi_provision_failure_rate",
        Funnel,
        "pregoi",
        t("프로비전 실패율", "Provisioning failure rate"),
        "pregoi_provision_failures",
        "pregoi_provision_jobs",
    ),
    // 000, PressTuner: Revenue lens (가입, 결제, 핵심 생성 사용량) and Workspace lens.
    count(
        "presstuner_signups",
        Revenue,
        "presstuner",
        t("가입", "Signups"),
        &["signup_completed"],
        Any,
    ),
    count(
        "presstuner_purchases",
        Revenue,
        "presstuner",
        t("결제", "Purchases"),
        &["purchase_completed"],
        Any,
    ),
    ratio(
        "presstuner_conversion",
        Revenue,
        "presstuner",
        t("가입 대비 결제 전환", "Conversion"),
        "presstuner_purchases",
        "presstuner_signups",
    ),
    Kpi {
        id: "presstuner_revenue_krw",
        lens: Revenue,
        service: Some("presstuner"),
        label: t("매출", "Revenue"),
        unit: Unit::Krw,
        formula: Formula::Measure(Measure::Sum {
            events: &["purchase_completed"],
            property: "amount",
        }),
    },
    count(
        "presstuner_articles",
        Content,
        "presstuner",
        t("기사 생성", "Articles"),
        &["article_generated"],
        Any,
    ),
    count(
        "presstuner_new_workspaces",
        Workspace,
        "presstuner",
        t("신규 워크스페이스", "New workspaces"),
        &["workspace_registered"],
        Any,
    ),
    count(
        "presstuner_commands",
        Workspace,
        "presstuner",
        t("명령 실행", "Commands"),
        &["command_executed"],
        Any,
    ),
    top(
        "presstuner_top_scope",
        Workspace,
        "presstuner",
        t("가장 자주 실행된 명령 범주", "Top scope"),
        &["command_executed"],
        "scope",
    ),
    top(
        "presstuner_top_action",
        Workspace,
        "presstuner",
        t("가장 많이 선택된 액션", "Top action"),
        &["command_executed"],
        "action",
    ),
    // 000, Pluid: Engagement lens (writing and report loop).
    count(
        "pluid_notes",
        Engagement,
        "pluid",
        t("노트", "Notes"),
        &["note_upserted"],
        Any,
    ),
    count(
        "pluid_reports",
        Engagement,
        "pluid",
        t("주간 리포트", "Reports"),
        &["weekly_report_generated"],
        Any,
    ),
    Kpi {
        id: "pluid_active_users",
        lens: Engagement,
        service: Some("pluid"),
        label: t("활동 사용자", "Active users"),
        unit: Unit::Count,
        formula: Formula::Measure(Measure::Distinct {
            events: &[
                "app_open",
                "note_upserted",
                "weekly_report_generated",
                "ai_organize_completed",
                "ai_organize_failed",
            ],
            column: Column::UserId,
        }),
    },
    ratio(
        "pluid_report_rate",
        Engagement,
        "pluid",
        t("노트 대비 리포트 생성 비율", "Report rate"),
        "pluid_reports",
        "pluid_notes",
    ),
    count(
        "pluid_ai_organize_success",
        Engagement,
        "pluid",
        t("AI 정리 성공", "AI organize successes"),
        &["ai_organize_completed"],
        Any,
    ),
    count(
        "pluid_ai_organize_runs",
        Engagement,
        "pluid",
        t("AI 정리 실행", "AI organize runs"),
        &["ai_organize_completed", "ai_organize_failed"],
        Any,
    ),
    ratio(
        "pluid_ai_success_rate",
        Engagement,
        "pluid",
        t("AI 정리 성공률", "AI success rate"),
        "pluid_ai_organize_success",
        "pluid_ai_organize_runs",
    ),
    // 002: monthly usage per action (a month is the range the caller asks for).
    count(
        "easypick_usage_compile",
        Usage,
        "easypick",
        t("프롬프트 컴파일", "compile"),
        &["compile_prompt"],
        Any,
    ),
    count(
        "easypick_usage_workflow_run",
        Usage,
        "easypick",
        t("워크플로우 실행", "workflow_run"),
        &["start_workflow", "complete_step"],
        Any,
    ),
    count(
        "easypick_usage_ai_tool_access",
        Usage,
        "easypick",
        t("AI 도구 사용", "ai_tool_access"),
        &["tool_interaction"],
        Any,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, ParamKind};
    use std::collections::HashSet;

    fn events_of(m: &Measure) -> &'static [&'static str] {
        match *m {
            Measure::Count { events, .. }
            | Measure::Sum { events, .. }
            | Measure::Distinct { events, .. }
            | Measure::Top { events, .. } => events,
        }
    }

    #[test]
    fn ids_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for k in KPIS {
            assert!(seen.insert(k.id), "duplicate {}", k.id);
            assert!(
                k.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                k.id
            );
        }
    }

    #[test]
    fn measures_name_catalog_events_of_their_service_and_declared_properties() {
        for k in KPIS {
            let Formula::Measure(m) = &k.formula else { continue };
            for name in events_of(m) {
                let def = catalog::find(name).unwrap_or_else(|| panic!("{}: unknown event {name}", k.id));
                if let Some(service) = k.service {
                    assert_eq!(def.service, service, "{}: {name}", k.id);
                }
                match m {
                    Measure::Sum { property, .. } => {
                        assert_eq!(def.param(property).map(|p| p.kind), Some(ParamKind::Number), "{}", k.id)
                    }
                    Measure::Top { property, .. } => {
                        assert_eq!(def.param(property).map(|p| p.kind), Some(ParamKind::String), "{}", k.id)
                    }
                    _ => {}
                }
            }
            assert!(!events_of(m).is_empty(), "{}: a service KPI names its events", k.id);
            let expected_unit = match m {
                Measure::Top { .. } => Unit::Text,
                Measure::Sum { .. } => Unit::Krw,
                _ => Unit::Count,
            };
            assert_eq!(k.unit, expected_unit, "{}", k.id);
        }
    }

    #[test]
    fn ratios_divide_two_declared_numeric_measures() {
        for k in KPIS {
            let Formula::Ratio { numerator, denominator } = k.formula else {
                continue;
            };
            assert_eq!(k.unit, Unit::Ratio, "{}", k.id);
            for part in [numerator, denominator] {
                let p = find(part).unwrap_or_else(|| panic!("{}: unknown KPI {part}", k.id));
                assert!(
                    matches!(
                        p.formula,
                        Formula::Measure(Measure::Count { .. } | Measure::Sum { .. } | Measure::Distinct { .. })
                    ),
                    "{}: {part} is not a numeric measure",
                    k.id
                );
            }
        }
    }

    #[test]
    fn every_kpi_the_seeds_ask_for_is_declared() {
        for id in [
            "pregoi_sessions",
            "pregoi_login_attempts",
            "pregoi_login_success",
            "pregoi_login_success_rate",
            "pregoi_otp_sent",
            "pregoi_otp_failed",
            "pregoi_otp_failure_rate",
            "pregoi_checkout_started",
            "pregoi_checkout_completed",
            "pregoi_checkout_completion_rate",
            "pregoi_provision_failures",
            "presstuner_signups",
            "presstuner_purchases",
            "presstuner_conversion",
            "presstuner_revenue_krw",
            "presstuner_articles",
            "presstuner_new_workspaces",
            "presstuner_commands",
            "presstuner_top_scope",
            "presstuner_top_action",
            "pluid_notes",
            "pluid_reports",
            "pluid_active_users",
            "pluid_report_rate",
            "pluid_ai_success_rate",
            "easypick_usage_compile",
            "easypick_usage_workflow_run",
            "easypick_usage_ai_tool_access",
        ] {
            assert!(find(id).is_some(), "{id} missing");
        }
    }
}
