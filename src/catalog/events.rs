//! The catalog's data: one entry per event type of the three products in
//! docs/product.md (listed with their parameters in docs/events.md).
//! - `pregoi`: the auth/commerce funnel dictionary and the control plane's events.
//! - `presstuner`, `pluid`: the ops console's event catalog.
//! - `easypick`: the standard event dictionary.

use super::{EventDef, Field, Ga4Mapping, LabelPart, NumberRange, Param, ParamKind, Requirement, Text};

const fn t(ko: &'static str, en: &'static str) -> Text {
    Text { ko, en }
}
const fn param(name: &'static str, kind: ParamKind, required: bool) -> Param {
    Param {
        name,
        kind,
        required,
        allowed: &[],
        max_chars: None,
        aliases: &[],
        range: None,
        identifier: false,
    }
}
/// Required string.
const fn rs(name: &'static str) -> Param {
    param(name, ParamKind::String, true)
}
/// Optional string.
const fn os(name: &'static str) -> Param {
    param(name, ParamKind::String, false)
}
/// A number within `range`: every numeric parameter says which values it takes.
const fn number(name: &'static str, required: bool, range: NumberRange) -> Param {
    Param {
        range: Some(range),
        ..param(name, ParamKind::Number, required)
    }
}
const fn money(name: &'static str, required: bool) -> Param {
    number(name, required, NumberRange::MONEY)
}
const fn count(name: &'static str, required: bool) -> Param {
    number(name, required, NumberRange::COUNT)
}
const fn duration(name: &'static str) -> Param {
    number(name, false, NumberRange::DURATION)
}
const fn ob(name: &'static str) -> Param {
    param(name, ParamKind::Boolean, false)
}
const fn oo(name: &'static str) -> Param {
    param(name, ParamKind::Object, false)
}
/// String restricted to `allowed`.
const fn enum_of(name: &'static str, required: bool, allowed: &'static [&'static str]) -> Param {
    Param {
        name,
        kind: ParamKind::String,
        required,
        allowed,
        max_chars: None,
        aliases: &[],
        range: None,
        identifier: false,
    }
}
const fn long_string(name: &'static str, required: bool, max_chars: usize) -> Param {
    Param {
        name,
        kind: ParamKind::String,
        required,
        allowed: &[],
        max_chars: Some(max_chars),
        aliases: &[],
        range: None,
        identifier: false,
    }
}
/// An identifier string (the dictionary's `_id` and `_type` parameters): letters, digits and `_` only.
const fn ident(p: Param) -> Param {
    Param { identifier: true, ..p }
}
const fn with_aliases(p: Param, aliases: &'static [&'static str]) -> Param {
    Param { aliases, ..p }
}
const fn needs(any_of: &'static [Field]) -> Requirement {
    Requirement { any_of }
}

const EMAIL: Requirement = needs(&[Field::Email]);
const TRACE: Requirement = needs(&[Field::TraceId]);
const EMAIL_OR_SUB: Requirement = needs(&[Field::Email, Field::UserId]);
const JOB: Requirement = needs(&[Field::JobId]);
const USER: Requirement = needs(&[Field::UserId]);

const fn event(
    name: &'static str,
    service: &'static str,
    description: Text,
    requires: &'static [Requirement],
    params: &'static [Param],
) -> EventDef {
    EventDef {
        name,
        service,
        description,
        requires,
        params,
        sample_rate: 1.0,
        ga4: None,
        browser_safe: false,
    }
}

/// A web page may send it with a publishable key (see [`EventDef::browser_safe`]).
const fn browser(e: EventDef) -> EventDef {
    EventDef {
        browser_safe: true,
        ..e
    }
}

/// Keeps `rate` of the events of this type (the standard event dictionary's sampling).
const fn sampled(e: EventDef, rate: f64) -> EventDef {
    EventDef { sample_rate: rate, ..e }
}

const fn ga4(
    e: EventDef,
    event_category: &'static str,
    event_label: &'static [LabelPart],
    value: Option<&'static str>,
    dimensions: &'static [(&'static str, &'static str)],
) -> EventDef {
    EventDef {
        ga4: Some(Ga4Mapping {
            event_category,
            event_label,
            value,
            dimensions,
        }),
        ..e
    }
}

use LabelPart::{Param as P, Text as L};

const CURRENCY: Param = enum_of("currency", false, &["KRW", "USD", "EUR", "JPY"]);

#[rustfmt::skip]
pub static EVENTS: &[EventDef] = &[
    // ── Auth/commerce funnel (service `pregoi`) ───────────────────────────────
    browser(event("m_page_view", "pregoi", t("랜딩/스텝 페이지 뷰", "Landing or step page view"),
        &[needs(&[Field::AnonymousId, Field::SessionId])], &[os("page_path"), os("step")])),
    event("m_auth_login_start", "pregoi", t("OAuth/OTP 로그인 시작", "OAuth/OTP login started"),
        &[EMAIL_OR_SUB], &[enum_of("method", false, &["oauth", "otp"])]),
    event("m_auth_login_success", "pregoi", t("로그인 성공, 세션 확립", "Login succeeded, session established"),
        &[EMAIL], &[enum_of("method", false, &["oauth", "otp"])]),
    event("m_auth_login_fail", "pregoi", t("로그인 실패 응답", "Login failed"),
        &[EMAIL, needs(&[Field::ErrorCode])], &[enum_of("method", false, &["oauth", "otp"])]),
    event("m_auth_get_user", "pregoi", t("CP get-user 성공 (trace 전달 시)", "CP get-user succeeded (trace forwarded)"),
        &[TRACE, USER], &[]),
    event("m_auth_user_upserted", "pregoi", t("CP 사용자 생성/갱신", "CP user created or updated"),
        &[EMAIL_OR_SUB], &[]),
    event("m_auth_session_created", "pregoi", t("CP 세션 생성", "CP session created"),
        &[EMAIL_OR_SUB], &[]),
    event("m_auth_user_tenant_linked", "pregoi", t("CP 사용자-테넌트 연결", "CP user linked to tenant"),
        &[USER, needs(&[Field::TenantId])], &[]),
    event("m_otp_send", "pregoi", t("OTP 요청", "OTP requested"), &[], &[]),
    event("m_otp_send_result", "pregoi", t("메일 게이트웨이 OTP 발송 결과", "Mail gateway OTP send result"),
        &[EMAIL, needs(&[Field::Success])], &[os("provider")]),
    event("m_checkout_click", "pregoi", t("Pay 클릭", "Pay clicked"),
        &[TRACE], &[rs("plan_tier")]),
    event("m_checkout_session_created", "pregoi", t("CP가 Stripe 세션 URL 반환", "CP returned a Stripe session URL"),
        &[TRACE], &[rs("stripe_session_id"), os("plan_tier")]),
    event("m_stripe_webhook_checkout_complete", "pregoi", t("Stripe 웹훅 결제 완료 처리", "Stripe checkout webhook processed"),
        &[TRACE], &[rs("stripe_event_id"), money("amount", false), CURRENCY]),
    event("m_onboarding_subdomain_check", "pregoi", t("서브도메인 확인 응답", "Subdomain check answered"),
        &[TRACE, needs(&[Field::Success])], &[rs("slug")]),
    event("m_provision_job_created", "pregoi", t("프로비전 작업 생성", "Provisioning job created"),
        &[JOB, TRACE], &[]),
    event("m_provision_failed", "pregoi", t("프로비전 실패 콜백", "Provisioning failed"),
        &[JOB], &[rs("failure_stage")]),
    // ── Ops console (services `presstuner`, `pluid`) ──────────────────────────
    event("signup_completed", "presstuner", t("가입 전환", "Signup completed"), &[], &[os("plan_id"), os("channel")]),
    event("purchase_completed", "presstuner", t("결제 완료", "Purchase completed"), &[],
        &[money("amount", true), CURRENCY, with_aliases(os("plan_id"), &["planId"]), os("channel")]),
    event("article_generated", "presstuner", t("기사 생성 완료", "Article generated"), &[],
        &[os("article_id"), count("word_count", false)]),
    event("workspace_registered", "presstuner", t("신규 워크스페이스 등록", "Workspace registered"), &[],
        &[os("workspace_id")]),
    event("command_executed", "presstuner", t("명령 실행 집계", "Command executed"), &[],
        &[rs("scope"), rs("action")]),
    event("app_open", "pluid", t("앱 실행", "App opened"), &[], &[os("platform")]),
    event("note_upserted", "pluid", t("노트 작성/수정", "Note written or edited"), &[],
        &[os("note_id"), count("length", false)]),
    event("weekly_report_generated", "pluid", t("주간 리포트 생성", "Weekly report generated"), &[],
        &[os("report_id"), count("note_count", false)]),
    event("ai_organize_completed", "pluid", t("AI 정리 실행 성공", "AI organize succeeded"), &[],
        &[duration("duration_ms")]),
    event("ai_organize_failed", "pluid", t("AI 정리 실행 실패", "AI organize failed"), &[],
        &[duration("duration_ms"), os("reason")]),
    // ── Standard event dictionary (service `easypick`) ────────────────────────
    // Metered events (see quotas.rs) need user_id: quotas are per user.
    // Sampling rates and GA4 mappings are the dictionary's (docs/product.md); it gives no GA4
    // mapping for page_view, engagement and conversion, so those follow GA4's own parameter names.
    ga4(event("select_template", "easypick", t("프롬프트 템플릿 선택", "Prompt template selected"), &[], &[
        ident(rs("template_id")),
        enum_of("template_type", true, &["prompt", "workflow", "ai_tool"]),
        os("category"),
        os("template_name"),
        enum_of("source", false, &["browse", "search", "recommendation", "bookmark"]),
    ]), "prompt_tools", &[P("template_type"), L("_"), P("category")], None, &[("item_id", "template_id"), ("content_type", "template_type")]),
    ga4(event("compile_prompt", "easypick", t("프롬프트 컴파일/생성 요청", "Prompt compiled"), &[USER], &[
        ident(rs("prompt_id")),
        enum_of("model_type", true, &["gpt-4", "gpt-3.5", "claude", "custom"]),
        count("prompt_length", false),
        ident(os("template_id")),
        ob("success"),
        os("error_code"),
        duration("processing_time"),
    ]), "prompt_tools", &[P("model_type")], Some("prompt_length"), &[("custom_model_type", "model_type"), ("custom_success", "success")]),
    ga4(event("start_workflow", "easypick", t("워크플로우 실행 시작", "Workflow started"), &[USER], &[
        ident(rs("workflow_id")),
        ident(rs("workflow_type")),
        count("step_count", false),
        os("workflow_name"),
        duration("estimated_duration"),
        ident(os("run_id")),
    ]), "workflows", &[P("workflow_type")], Some("step_count"), &[("custom_workflow_id", "workflow_id")]),
    ga4(event("complete_step", "easypick", t("워크플로우 단계 완료", "Workflow step completed"), &[USER], &[
        ident(rs("workflow_id")),
        count("step_number", true),
        ident(os("step_type")),
        os("step_name"),
        duration("time_spent"),
        ident(os("run_id")),
        ob("success"),
        oo("output_data"),
    ]), "workflows", &[P("step_type"), L("_step_"), P("step_number")], Some("time_spent"), &[]),
    // No user needed: a logged-out view is accepted; a metered `use` still needs one (normalize checks).
    browser(sampled(ga4(event("tool_interaction", "easypick", t("AI 도구 상호작용", "AI tool interaction"), &[], &[
        ident(rs("tool_id")),
        enum_of("action_type", true, &["view", "click", "use", "bookmark", "share"]),
        os("tool_name"),
        os("category"),
        long_string("tool_url", false, 1024),
        duration("interaction_duration"),
        os("feature_used"),
    ]), "ai_tools", &[P("action_type"), L("_"), P("tool_name")], None, &[("custom_tool_category", "category")]), 0.5)),
    browser(sampled(ga4(event("search", "easypick", t("검색 사용", "Search used"), &[], &[
        rs("search_term"),
        count("result_count", false),
        oo("filters"),
        enum_of("search_type", false, &["tools", "templates", "workflows", "global"]),
        ob("result_clicked"),
        duration("search_duration"),
    ]), "search", &[P("search_term")], Some("result_count"), &[("search_term", "search_term")]), 0.2)),
    browser(sampled(ga4(event("page_view", "easypick", t("페이지 뷰 (SPA 내비게이션)", "Page view (SPA navigation)"), &[], &[
        rs("page_name"),
        long_string("page_title", false, 300),
        long_string("page_path", false, 1024),
        long_string("referrer", false, 1024),
        duration("load_time"),
    ]), "navigation", &[P("page_name")], Some("load_time"), &[("page_title", "page_title"), ("page_location", "page_path")]), 0.1)),
    browser(sampled(ga4(event("engagement", "easypick", t("사용자 참여도", "User engagement"), &[], &[
        enum_of("engagement_type", true, &["scroll", "click", "hover", "focus", "dwell"]),
        duration("engagement_time"),
        os("element"),
        number("scroll_depth", false, NumberRange::PERCENT),
        os("page_section"),
    ]), "engagement", &[P("engagement_type")], Some("engagement_time"), &[("custom_page_section", "page_section")]), 0.05)),
    ga4(event("subscription", "easypick", t("구독/결제", "Subscription or payment"), &[], &[
        enum_of("action", true, &["start", "complete", "cancel", "upgrade", "downgrade"]),
        enum_of("plan_type", true, &["free", "pro", "team"]),
        money("amount", false),
        CURRENCY,
        os("payment_method"),
        ident(os("subscription_id")),
        os("previous_plan"),
    ]), "subscription", &[P("action"), L("_"), P("plan_type")], Some("amount"), &[("currency", "currency"), ("transaction_id", "subscription_id")]),
    ga4(event("conversion", "easypick", t("주요 전환", "Key conversion"), &[], &[
        rs("conversion_name"),
        money("value", true),
        CURRENCY,
        os("conversion_stage"),
        ident(os("campaign_id")),
    ]), "conversion", &[P("conversion_name")], Some("value"), &[("currency", "currency"), ("campaign_id", "campaign_id")]),
    ga4(event("error", "easypick", t("에러 및 예외", "Error or exception"), &[], &[
        ident(rs("error_type")),
        long_string("error_message", true, 512),
        os("error_context"),
        os("error_code"),
        long_string("stack_trace", false, 1000),
        os("user_action"),
    ]), "errors", &[P("error_type")], None, &[("custom_error_code", "error_code")]),
];
