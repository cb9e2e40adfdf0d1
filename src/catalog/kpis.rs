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

impl Outcome {
    /// The stored `success` value this outcome keeps; `None` keeps every event.
    pub fn success(self) -> Option<i64> {
        match self {
            Outcome::Any => None,
            Outcome::Success => Some(1),
            Outcome::Failure => Some(0),
        }
    }
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
    /// Sums of the money property `properties.<property>`, one per currency
    /// (`properties.currency`, won when not given): amounts in different
    /// currencies are never added together.
    Money {
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

impl Measure {
    /// The event types the measure reads (empty: every type).
    pub fn events(&self) -> &'static [&'static str] {
        match *self {
            Measure::Count { events, .. }
            | Measure::Sum { events, .. }
            | Measure::Money { events, .. }
            | Measure::Distinct { events, .. }
            | Measure::Top { events, .. } => events,
        }
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    /// Money: one sum per currency, `[{"currency": "KRW", "amount": n}, ...]`, won first.
    Money,
    /// A fraction in 0..=1, shown as a percentage.
    Ratio,
    /// A count per user (a ratio whose denominator counts distinct users, e.g.
    /// notes per writer), shown as a number with one decimal; it can exceed 1.
    PerUser,
    /// A property value (for `Top`).
    Text,
}

/// The console screen a KPI belongs to (the lenses of docs/product.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lens {
    /// The auth/commerce funnel's KPI cards.
    Funnel,
    Revenue,
    Engagement,
    Workspace,
    Content,
    /// Pluid's note writing: how much is written and by how many (user density).
    Writing,
    /// Pluid's weekly reports and the AI organize loop behind them.
    Report,
    /// The event dictionary's monthly usage per action.
    Usage,
}

/// Which way a KPI's change is good news: a console colours its change by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    /// Failures and failure rates: a rise is bad news.
    Lower,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Kpi {
    /// Stable snake_case key of the summary's `kpis` object.
    pub id: &'static str,
    pub lens: Lens,
    /// The service the KPI describes; `None` for cross-service KPIs.
    pub service: Option<&'static str>,
    pub label: Text,
    pub unit: Unit,
    /// A measure (count, sum, distinct, top value) or a ratio of two KPIs, as declared.
    #[schema(value_type = Object)]
    pub formula: Formula,
    /// Which way its change is good news.
    pub better: Better,
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
        better: Better::Higher,
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
        better: Better::Higher,
    }
}
/// Marks a KPI whose rise is bad news (failures, failure rates).
const fn lower(mut kpi: Kpi) -> Kpi {
    kpi.better = Better::Lower;
    kpi
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
        better: Better::Higher,
    }
}

use Lens::{Content, Engagement, Funnel, Report, Revenue, Usage, Workspace, Writing};
use Outcome::{Any, Failure, Success};

/// Every KPI of the three products (docs/product.md): the funnel's KPI cards, the ops
/// console's lenses (000), and the event dictionary's monthly usage per action (002).
pub static KPIS: &[Kpi] = &[
    // 001: 세션·로그인 시도/성공·OTP 발송/실패·checkout 시작/완료·프로비전 실패, and their rates.
    // 세션 is the control plane's session record (m_auth_session_created), which the funnel's product document says
    // the CP writes today; the landing visits are the optional m_page_view.
    count(
        "pregoi_sessions",
        Funnel,
        "pregoi",
        t("세션", "Sessions"),
        &["m_auth_session_created"],
        Any,
    ),
    count(
        "pregoi_page_views",
        Funnel,
        "pregoi",
        t("랜딩/스텝 페이지 뷰", "Page views"),
        &["m_page_view"],
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
    lower(count(
        "pregoi_login_failures",
        Funnel,
        "pregoi",
        t("로그인 실패", "Login failures"),
        &["m_auth_login_fail"],
        Any,
    )),
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
    lower(count(
        "pregoi_otp_failed",
        Funnel,
        "pregoi",
        t("OTP 발송 실패", "OTP send failures"),
        &["m_otp_send_result"],
        Failure,
    )),
    lower(ratio(
        "pregoi_otp_failure_rate",
        Funnel,
        "pregoi",
        t("OTP 발송 실패율", "OTP send failure rate"),
        "pregoi_otp_failed",
        "pregoi_otp_send_results",
    )),
    count(
        "pregoi_checkout_started",
        Funnel,
        "pregoi",
        t("checkout 시작", "Checkouts started"),
        &["m_checkout_click"],
        Any,
    ),
    count(
        "pregoi_checkout_completed",
        Funnel,
        "pregoi",
        t("checkout 완료", "Checkouts completed"),
        &["m_stripe_webhook_checkout_complete"],
        Any,
    ),
    ratio(
        "pregoi_checkout_completion_rate",
        Funnel,
        "pregoi",
        t("결제 시작 대비 완료 비율", "Checkout completion rate"),
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
    lower(count(
        "pregoi_provision_failures",
        Funnel,
        "pregoi",
        t("프로비전 실패", "Provisioning failures"),
        &["m_provision_failed"],
        Any,
    )),
    lower(ratio(
        "pregoi_provision_failure_rate",
        Funnel,
        "pregoi",
        t("프로비전 실패율", "Provisioning failure rate"),
        "pregoi_provision_failures",
        "pregoi_provision_jobs",
    )),
    // 000, PressTuner: the Revenue panel (가입, 결제, 전환, 매출), the Content lens
    // (기사 생성; the ops console's Revenue panel also shows it) and the Workspace panel.
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
        id: "presstuner_revenue",
        lens: Revenue,
        service: Some("presstuner"),
        label: t("매출 (통화별)", "Revenue (per currency)"),
        unit: Unit::Money,
        formula: Formula::Measure(Measure::Money {
            events: &["purchase_completed"],
            property: "amount",
        }),
        better: Better::Higher,
    },
    count(
        "presstuner_articles",
        Content,
        "presstuner",
        t("기사 생성 완료", "Articles"),
        &["article_generated"],
        Any,
    ),
    count(
        "presstuner_new_workspaces",
        Workspace,
        "presstuner",
        t("신규 워크스페이스 등록", "New workspaces"),
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
        t("노트 작성/수정", "Notes"),
        &["note_upserted"],
        Any,
    ),
    count(
        "pluid_reports",
        Engagement,
        "pluid",
        t("주간 리포트 생성", "Reports"),
        &["weekly_report_generated"],
        Any,
    ),
    Kpi {
        id: "pluid_active_users",
        lens: Engagement,
        service: Some("pluid"),
        label: t("활동 사용자 수", "Active users"),
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
        better: Better::Higher,
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
        t("AI 정리 실행 성공", "AI organize successes"),
        &["ai_organize_completed"],
        Any,
    ),
    count(
        "pluid_ai_organize_runs",
        Engagement,
        "pluid",
        t("AI 정리 시도", "AI organize attempts"),
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
    // 000, Pluid: the Writing lens (노트 활동량과 사용자 밀도). User density is notes per
    // writer: how many notes each user who wrote in the period wrote on average.
    Kpi {
        id: "pluid_writers",
        lens: Writing,
        service: Some("pluid"),
        label: t("노트 작성 사용자", "Writers"),
        unit: Unit::Count,
        formula: Formula::Measure(Measure::Distinct {
            events: &["note_upserted"],
            column: Column::UserId,
        }),
        better: Better::Higher,
    },
    Kpi {
        id: "pluid_notes_per_writer",
        lens: Writing,
        service: Some("pluid"),
        label: t("작성자당 노트 (사용자 밀도)", "Notes per writer (user density)"),
        unit: Unit::PerUser,
        formula: Formula::Ratio {
            numerator: "pluid_notes",
            denominator: "pluid_writers",
        },
        better: Better::Higher,
    },
    // 000, Pluid: the Report lens (주간 리포트와 AI 정리 루프가 실제로 돌고 있는지).
    Kpi {
        id: "pluid_report_users",
        lens: Report,
        service: Some("pluid"),
        label: t("리포트를 받은 사용자", "Users with a report"),
        unit: Unit::Count,
        formula: Formula::Measure(Measure::Distinct {
            events: &["weekly_report_generated"],
            column: Column::UserId,
        }),
        better: Better::Higher,
    },
    lower(count(
        "pluid_ai_organize_failures",
        Report,
        "pluid",
        t("AI 정리 실행 실패", "AI organize failures"),
        &["ai_organize_failed"],
        Any,
    )),
    // 002: monthly usage per action of the dictionary's protected events (a month is the range the
    // caller asks for). ai_tool_access counts every tool_interaction: a Measure cannot keep only
    // `action_type = use`, which the quota meter (quotas.rs `only_when`) does.
    count(
        "easypick_usage_compile",
        Usage,
        "easypick",
        t("프롬프트 컴파일 (compile)", "Prompt compiles (compile)"),
        &["compile_prompt"],
        Any,
    ),
    count(
        "easypick_usage_workflow_run",
        Usage,
        "easypick",
        t("워크플로우 실행 (workflow_run)", "Workflow runs (workflow_run)"),
        &["start_workflow", "complete_step"],
        Any,
    ),
    count(
        "easypick_usage_ai_tool_access",
        Usage,
        "easypick",
        t(
            "AI 도구 상호작용 (ai_tool_access)",
            "AI tool interactions (ai_tool_access)",
        ),
        &["tool_interaction"],
        Any,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, quotas, Field, ParamKind, SERVICES};
    use std::collections::HashSet;

    fn events_of(m: &Measure) -> &'static [&'static str] {
        m.events()
    }

    fn measure(id: &str) -> Measure {
        match find(id).unwrap_or_else(|| panic!("{id} missing")).formula {
            Formula::Measure(m) => m,
            Formula::Ratio { .. } => panic!("{id} is a ratio"),
        }
    }

    /// Every KPI the products ask for: the funnel's KPI cards, the ops panels, the dictionary's usage per action.
    const REQUIRED: &[&str] = &[
        "pregoi_sessions",
        "pregoi_login_attempts",
        "pregoi_login_success",
        "pregoi_login_failures",
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
        "presstuner_revenue",
        "presstuner_articles",
        "presstuner_new_workspaces",
        "presstuner_commands",
        "presstuner_top_scope",
        "presstuner_top_action",
        "pluid_notes",
        "pluid_reports",
        "pluid_active_users",
        "pluid_report_rate",
        "pluid_ai_organize_runs",
        "pluid_ai_success_rate",
        "pluid_writers",
        "pluid_notes_per_writer",
        "pluid_report_users",
        "pluid_ai_organize_failures",
        "easypick_usage_compile",
        "easypick_usage_workflow_run",
        "easypick_usage_ai_tool_access",
    ];

    #[test]
    fn every_kpi_the_seeds_ask_for_is_declared() {
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|id| find(id).is_none()).collect();
        assert!(missing.is_empty(), "missing KPIs: {missing:?}");
    }

    #[test]
    fn ids_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for k in KPIS {
            assert!(seen.insert(k.id), "duplicate {}", k.id);
            assert!(catalog::is_snake_case(k.id), "{} is not snake_case", k.id);
        }
    }

    #[test]
    fn every_kpi_has_a_korean_and_english_label() {
        for k in KPIS {
            assert!(!k.label.ko.trim().is_empty(), "{}: no Korean label", k.id);
            assert!(!k.label.en.trim().is_empty(), "{}: no English label", k.id);
        }
    }

    #[test]
    fn service_kpis_name_a_known_service_and_sit_in_that_services_lens() {
        for k in KPIS {
            let service = k
                .service
                .unwrap_or_else(|| panic!("{}: every product KPI describes one service", k.id));
            assert!(SERVICES.contains(&service), "{}: unknown service {service}", k.id);
            assert!(
                k.id.starts_with(&format!("{service}_")),
                "{}: id not prefixed by {service}",
                k.id
            );
            let lens_services: &[&str] = match k.lens {
                Lens::Funnel => &["pregoi"],
                Lens::Usage => &["easypick"],
                Lens::Revenue | Lens::Workspace | Lens::Content => &["presstuner"],
                Lens::Engagement | Lens::Writing | Lens::Report => &["pluid"],
            };
            assert!(
                lens_services.contains(&service),
                "{}: {service} in lens {:?}",
                k.id,
                k.lens
            );
        }
    }

    #[test]
    fn measures_name_catalog_events_of_their_service_and_declared_properties() {
        for k in KPIS {
            let Formula::Measure(m) = &k.formula else { continue };
            assert!(!events_of(m).is_empty(), "{}: a service KPI names its events", k.id);
            let mut seen = HashSet::new();
            for name in events_of(m) {
                assert!(seen.insert(*name), "{}: {name} listed twice", k.id);
                let def = catalog::find(name).unwrap_or_else(|| panic!("{}: unknown event {name}", k.id));
                if let Some(service) = k.service {
                    assert_eq!(def.service, service, "{}: {name}", k.id);
                }
                match m {
                    Measure::Sum { property, .. } | Measure::Money { property, .. } => assert_eq!(
                        def.param(property).map(|p| p.kind),
                        Some(ParamKind::Number),
                        "{}: {name}.{property} is not a declared number",
                        k.id
                    ),
                    Measure::Top { property, .. } => assert_eq!(
                        def.param(property).map(|p| p.kind),
                        Some(ParamKind::String),
                        "{}: {name}.{property} is not a declared string",
                        k.id
                    ),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn units_follow_the_formula() {
        for k in KPIS {
            let expected = match k.formula {
                Formula::Ratio { .. } if k.unit == Unit::PerUser => Unit::PerUser,
                Formula::Ratio { .. } => Unit::Ratio,
                Formula::Measure(Measure::Top { .. }) => Unit::Text,
                Formula::Measure(Measure::Money { .. }) => Unit::Money,
                Formula::Measure(Measure::Count { .. } | Measure::Sum { .. } | Measure::Distinct { .. }) => Unit::Count,
            };
            assert_eq!(k.unit, expected, "{}", k.id);
        }
    }

    #[test]
    fn outcome_filters_only_count_events_that_must_carry_success() {
        for k in KPIS {
            let Formula::Measure(Measure::Count { events, outcome }) = k.formula else {
                continue;
            };
            if outcome == Outcome::Any {
                continue;
            }
            for name in events {
                let def = catalog::find(name).unwrap();
                assert!(
                    def.requires.iter().any(|r| r.any_of == [Field::Success]),
                    "{}: {name} does not require `success`, so {outcome:?} would undercount",
                    k.id
                );
            }
        }
    }

    #[test]
    fn ratios_divide_two_declared_numeric_measures_of_the_same_service() {
        for k in KPIS {
            let Formula::Ratio { numerator, denominator } = k.formula else {
                continue;
            };
            assert!(matches!(k.unit, Unit::Ratio | Unit::PerUser), "{}", k.id);
            assert_ne!(numerator, denominator, "{}", k.id);
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
                assert_eq!(p.service, k.service, "{}: {part} is another service's", k.id);
            }
        }
    }

    #[test]
    fn the_seeds_rates_divide_what_the_seeds_say() {
        let ratio_of = |id: &str| match find(id).unwrap_or_else(|| panic!("{id} missing")).formula {
            Formula::Ratio { numerator, denominator } => (numerator, denominator),
            Formula::Measure(_) => panic!("{id} is not a ratio"),
        };
        assert_eq!(
            ratio_of("pregoi_login_success_rate"),
            ("pregoi_login_success", "pregoi_login_attempts")
        );
        assert_eq!(
            ratio_of("pregoi_checkout_completion_rate"),
            ("pregoi_checkout_completed", "pregoi_checkout_started")
        );
        assert_eq!(
            ratio_of("presstuner_conversion"),
            ("presstuner_purchases", "presstuner_signups")
        );
        assert_eq!(ratio_of("pluid_report_rate"), ("pluid_reports", "pluid_notes"));
        assert_eq!(
            ratio_of("pluid_ai_success_rate"),
            ("pluid_ai_organize_success", "pluid_ai_organize_runs")
        );
        // OTP 발송 실패율: failed results over all results of the mail gateway.
        let (failed, all) = ratio_of("pregoi_otp_failure_rate");
        assert_eq!(failed, "pregoi_otp_failed");
        assert_eq!(
            measure(failed),
            Measure::Count {
                events: &["m_otp_send_result"],
                outcome: Outcome::Failure
            }
        );
        assert_eq!(
            measure(all),
            Measure::Count {
                events: &["m_otp_send_result"],
                outcome: Outcome::Any
            }
        );
        // AI 정리 성공률: completed over completed + failed.
        assert_eq!(
            measure("pluid_ai_organize_runs"),
            Measure::Count {
                events: &["ai_organize_completed", "ai_organize_failed"],
                outcome: Outcome::Any
            }
        );
    }

    #[test]
    fn per_user_kpis_divide_by_distinct_users_and_fractions_do_not() {
        for k in KPIS {
            let Formula::Ratio { denominator, .. } = k.formula else {
                continue;
            };
            let by_users = matches!(
                find(denominator).map(|d| d.formula),
                Some(Formula::Measure(Measure::Distinct {
                    column: Column::UserId,
                    ..
                }))
            );
            assert_eq!(k.unit == Unit::PerUser, by_users, "{}", k.id);
        }
        // User density (the Writing lens): notes over the users who wrote them.
        let density = find("pluid_notes_per_writer").unwrap();
        assert_eq!(
            density.formula,
            Formula::Ratio {
                numerator: "pluid_notes",
                denominator: "pluid_writers"
            }
        );
        assert_eq!(
            measure("pluid_writers"),
            Measure::Distinct {
                events: &["note_upserted"],
                column: Column::UserId
            }
        );
    }

    #[test]
    fn every_lens_of_the_ops_console_has_kpis() {
        for lens in [
            Lens::Revenue,
            Lens::Workspace,
            Lens::Content,
            Lens::Engagement,
            Lens::Writing,
            Lens::Report,
        ] {
            assert!(KPIS.iter().any(|k| k.lens == lens), "{lens:?} has no KPI");
        }
    }

    #[test]
    fn revenue_is_the_per_currency_sum_of_purchase_amounts() {
        let k = find("presstuner_revenue").unwrap();
        assert_eq!(k.unit, Unit::Money);
        assert_eq!(k.lens, Lens::Revenue);
        assert_eq!(
            k.formula,
            Formula::Measure(Measure::Money {
                events: &["purchase_completed"],
                property: "amount"
            })
        );
        // The overview's revenue is every money KPI: the ops console shows purchase_completed only.
        let money: Vec<&str> = KPIS.iter().filter(|k| k.unit == Unit::Money).map(|k| k.id).collect();
        assert_eq!(money, ["presstuner_revenue"]);
    }

    #[test]
    fn no_kpi_adds_money_of_different_currencies_into_one_number() {
        for k in KPIS {
            let Formula::Measure(Measure::Sum { events, property }) = k.formula else {
                continue;
            };
            for name in events {
                let p = catalog::find(name).and_then(|d| d.param(property));
                assert_ne!(
                    p.and_then(|p| p.range),
                    Some(crate::catalog::NumberRange::MONEY),
                    "{}: sums money of {name} without its currency (use Measure::Money)",
                    k.id
                );
            }
        }
    }

    #[test]
    fn top_scope_and_action_are_the_commands_properties() {
        for (id, property) in [("presstuner_top_scope", "scope"), ("presstuner_top_action", "action")] {
            assert_eq!(
                measure(id),
                Measure::Top {
                    events: &["command_executed"],
                    property
                },
                "{id}"
            );
        }
    }

    #[test]
    fn active_users_are_distinct_users_over_every_pluid_event() {
        let pluid: HashSet<&str> = catalog::EVENTS
            .iter()
            .filter(|e| e.service == "pluid")
            .map(|e| e.name)
            .collect();
        let Measure::Distinct { events, column } = measure("pluid_active_users") else {
            panic!("pluid_active_users is not a distinct count");
        };
        assert_eq!(column, Column::UserId);
        assert_eq!(events.iter().copied().collect::<HashSet<_>>(), pluid);
    }

    #[test]
    fn monthly_usage_counts_the_events_of_each_quota_action() {
        for action in quotas::ACTIONS {
            let id = format!("easypick_usage_{}", action.name);
            let k = find(&id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(k.lens, Lens::Usage, "{id}");
            assert_eq!(
                k.formula,
                Formula::Measure(Measure::Count {
                    events: action.events,
                    outcome: Outcome::Any
                }),
                "{id}"
            );
        }
        let usage = KPIS.iter().filter(|k| k.lens == Lens::Usage).count();
        assert_eq!(usage, quotas::ACTIONS.len(), "one usage KPI per quota action");
    }

    /// Whether a KPI counts failures: of failed outcomes, of failure-named types, or as a
    /// ratio whose numerator does.
    fn counts_failures(k: &Kpi) -> bool {
        match k.formula {
            Formula::Measure(Measure::Count { events, outcome }) => {
                outcome == Outcome::Failure
                    || (!events.is_empty() && events.iter().all(|e| catalog::is_failure_type(e)))
            }
            Formula::Ratio { numerator, .. } => counts_failures(find(numerator).unwrap()),
            Formula::Measure(_) => false,
        }
    }

    #[test]
    fn exactly_the_kpis_that_count_failures_say_lower_is_better() {
        for k in KPIS {
            let expected = if counts_failures(k) {
                Better::Lower
            } else {
                Better::Higher
            };
            assert_eq!(k.better, expected, "{}", k.id);
        }
        assert!(KPIS.iter().filter(|k| k.better == Better::Lower).count() >= 5);
    }
}
