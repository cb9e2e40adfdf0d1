//! Funnels: ordered steps, declared next to the events they name.
//!
//! A subject (a trace, or a user for steps sent without a trace) reaches step
//! `k` when it has an event of each step `1..=k` at non-decreasing times.

use serde::Serialize;

use super::Text;

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct FunnelStep {
    /// The event type that marks this step.
    pub event: &'static str,
    pub label: Text,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// The `{name}` of `GET /internal/funnels/{name}`: snake_case.
    pub name: &'static str,
    pub label: Text,
    pub description: Text,
    pub steps: &'static [FunnelStep],
}

pub fn find(name: &str) -> Option<&'static Funnel> {
    FUNNELS.iter().find(|f| f.name == name)
}

const fn t(ko: &'static str, en: &'static str) -> Text {
    Text { ko, en }
}
const fn step(event: &'static str, label: Text) -> FunnelStep {
    FunnelStep { event, label }
}

pub static FUNNELS: &[Funnel] = &[
    Funnel {
        name: "auth_commerce",
        label: t("로그인 → 결제 → 프로비전", "Login → checkout → provisioning"),
        description: t(
            "인증/커머스 퍼널: 로그인 시작부터 프로비전 작업 생성까지 (trace_id 단위)",
            "The auth/commerce funnel, from login start to the provisioning job (per trace_id)",
        ),
        steps: &[
            step("m_auth_login_start", t("로그인 시작", "Login started")),
            step("m_auth_login_success", t("로그인 성공", "Login succeeded")),
            step("m_checkout_click", t("결제 클릭", "Pay clicked")),
            step(
                "m_checkout_session_created",
                t("결제 세션 생성", "Checkout session created"),
            ),
            step(
                "m_stripe_webhook_checkout_complete",
                t("결제 완료 웹훅", "Checkout webhook complete"),
            ),
            step(
                "m_provision_job_created",
                t("프로비전 작업 생성", "Provisioning job created"),
            ),
        ],
    },
    Funnel {
        name: "presstuner_signup_purchase",
        label: t("가입 → 결제", "Signup → purchase"),
        description: t(
            "PressTuner 가입 대비 결제 전환",
            "PressTuner signups that go on to purchase",
        ),
        steps: &[
            step("signup_completed", t("가입", "Signed up")),
            step("purchase_completed", t("결제", "Purchased")),
        ],
    },
    Funnel {
        name: "easypick_workflow",
        label: t("템플릿 선택 → 워크플로우 완료", "Template → workflow"),
        description: t(
            "EasyPick: 템플릿 선택, 컴파일, 워크플로우 시작, 단계 완료",
            "EasyPick: template selected, compiled, workflow started, step completed",
        ),
        steps: &[
            step("select_template", t("템플릿 선택", "Template selected")),
            step("compile_prompt", t("프롬프트 컴파일", "Prompt compiled")),
            step("start_workflow", t("워크플로우 시작", "Workflow started")),
            step("complete_step", t("단계 완료", "Step completed")),
        ],
    },
    Funnel {
        name: "pluid_writing_report",
        label: t("앱 실행 → 노트 → 주간 리포트", "App open → note → weekly report"),
        description: t(
            "Pluid 작성 활동과 리포트 루프: 앱 실행, 노트 작성/수정, 주간 리포트 생성",
            "Pluid's writing and report loop: app opened, note written, weekly report generated",
        ),
        steps: &[
            step("app_open", t("앱 실행", "App opened")),
            step("note_upserted", t("노트 작성/수정", "Note written")),
            step(
                "weekly_report_generated",
                t("주간 리포트 생성", "Weekly report generated"),
            ),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use std::collections::HashSet;

    fn events(name: &str) -> Vec<&'static str> {
        find(name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .steps
            .iter()
            .map(|s| s.event)
            .collect()
    }

    #[test]
    fn funnel_names_are_unique_snake_case() {
        let mut names = HashSet::new();
        for f in FUNNELS {
            assert!(names.insert(f.name), "duplicate {}", f.name);
            assert!(catalog::is_snake_case(f.name), "{} is not snake_case", f.name);
        }
    }

    #[test]
    fn every_funnel_has_two_or_more_distinct_catalog_events_of_one_service() {
        for f in FUNNELS {
            assert!(f.steps.len() >= 2, "{}: fewer than 2 steps", f.name);
            let mut seen = HashSet::new();
            let mut services = HashSet::new();
            for s in f.steps {
                let def = catalog::find(s.event).unwrap_or_else(|| panic!("{}: unknown event {}", f.name, s.event));
                assert!(seen.insert(s.event), "{}: {} twice", f.name, s.event);
                services.insert(def.service);
            }
            assert_eq!(services.len(), 1, "{}: steps span services {services:?}", f.name);
        }
    }

    #[test]
    fn funnels_and_steps_are_labelled_in_korean_and_english() {
        for f in FUNNELS {
            for text in [f.label, f.description].iter().chain(f.steps.iter().map(|s| &s.label)) {
                assert!(
                    !text.ko.trim().is_empty() && !text.en.trim().is_empty(),
                    "{}: a label is missing a language",
                    f.name
                );
            }
        }
    }

    #[test]
    fn auth_commerce_follows_the_funnel_seeds_order() {
        assert_eq!(
            events("auth_commerce"),
            [
                "m_auth_login_start",
                "m_auth_login_success",
                "m_checkout_click",
                "m_checkout_session_created",
                "m_stripe_webhook_checkout_complete",
                "m_provision_job_created",
            ]
        );
    }

    #[test]
    fn ops_and_dictionary_funnels_are_declared_in_the_seeds_order() {
        assert_eq!(
            events("presstuner_signup_purchase"),
            ["signup_completed", "purchase_completed"]
        );
        assert_eq!(
            events("easypick_workflow"),
            ["select_template", "compile_prompt", "start_workflow", "complete_step"]
        );
        assert_eq!(
            events("pluid_writing_report"),
            ["app_open", "note_upserted", "weekly_report_generated"]
        );
    }
}
