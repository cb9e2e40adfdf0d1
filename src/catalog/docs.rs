//! `docs/events.md`, rendered from the catalog: every event type with its
//! service, required identifiers, properties, sampling rate, quota action and
//! GA4 mapping; the quota actions; the KPIs; the funnels.
//!
//! Pure and deterministic (static slices, in declaration order), so
//! `tests/docs_current.rs` compares it byte for byte with the committed file
//! and rewrites the file when asked to ([`REGENERATE`]).

use serde_json::Value;

use super::funnels::FUNNELS;
use super::kpis::KPIS;
use super::quotas::{self, QuotaAction, ACTIONS};
use super::{limits, EventDef, LabelPart, Param, ParamKind, Requirement, Text, AUTO_PARAMS, EVENTS, SERVICES};

/// The command that rewrites `docs/events.md` from this module.
pub const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --test docs_current";

/// `docs/catalog.json`: every event type's declaration as the catalog route
/// serializes it (name, service, required identifiers, parameters, sampling),
/// for senders' tools that generate types from it (clients/js).
pub fn catalog_json() -> String {
    let doc = serde_json::json!({
        "generated_by": "src/catalog/docs.rs; regenerate with: UPDATE_DOCS=1 cargo test --test docs_current",
        "events": EVENTS,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("the catalog serializes");
    text.push('\n');
    text
}

/// The whole of `docs/events.md`.
pub fn events_markdown() -> String {
    let mut doc = Doc::default();
    header(&mut doc);
    contents(&mut doc);
    property_rules(&mut doc);
    doc.line("## Event types");
    doc.blank();
    for service in SERVICES {
        service_section(&mut doc, service);
    }
    quota_section(&mut doc);
    kpi_section(&mut doc);
    funnel_section(&mut doc);
    alert_section(&mut doc);
    doc.finish()
}

/// Lines of Markdown, one blank line between blocks, one newline at the end.
#[derive(Default)]
struct Doc(String);

impl Doc {
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }

    fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        self.line(format!("| {} |", head.join(" | ")));
        self.line(format!("|{}", "---|".repeat(head.len())));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            self.line(format!("| {} |", cells.join(" | ")));
        }
        self.blank();
    }

    fn finish(mut self) -> String {
        while self.0.ends_with("\n\n") {
            self.0.pop();
        }
        self.0
    }
}

/// A table cell: a `|` would end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn code(text: &str) -> String {
    format!("`{text}`")
}

fn code_list(items: &[&str]) -> String {
    items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ")
}

/// English, then the Korean the console shows.
fn both(text: &Text) -> String {
    format!("{} / {}", text.en, text.ko)
}

/// `0.05` → `5`, `1.0` → `100`: a percentage without float noise.
fn percent(rate: f64) -> String {
    let pct = (rate * 10_000.0).round() / 100.0;
    format!("{pct} %")
}

fn header(doc: &mut Doc) {
    doc.line("# Event catalog");
    doc.blank();
    doc.line(format!(
        "<!-- Generated from src/catalog/ by src/catalog/docs.rs. Do not edit by hand: \
         change the catalog, then run `{REGENERATE}`. -->"
    ));
    doc.blank();
    doc.line(
        "Every event type the service accepts, as declared in `src/catalog/`. An event whose `event_type` is not \
         listed here is rejected (`unknown_event_type`) and kept in the quarantine. The request envelope, the \
         top-level fields every event shares and the answers are described in [api.md](api.md); what the \
         services ask of this catalog is in [product.md](product.md).",
    );
    doc.blank();
    doc.line(
        "`GET /internal/catalog` serves the same declarations as JSON, with live counts, first and last \
         seen times and rejection rates.",
    );
    doc.blank();
}

fn contents(doc: &mut Doc) {
    doc.line("## Services");
    doc.blank();
    let rows: Vec<Vec<String>> = SERVICES
        .iter()
        .map(|service| {
            let events: Vec<String> = EVENTS
                .iter()
                .filter(|e| e.service == *service)
                .map(|e| format!("[{0}](#{0})", e.name))
                .collect();
            vec![code(service), events.len().to_string(), events.join(", ")]
        })
        .collect();
    doc.table(&["Service", "Types", "Event types"], &rows);
    doc.line(
        "An event may name its `service`; when it does, it must be the service its type belongs to \
         (`service_mismatch` otherwise). Every type has a fixed sampling rate: events left out by sampling are \
         answered `sampled_out` and not stored, and the read APIs weigh each kept event by 1 / rate.",
    );
    doc.blank();
}

fn property_rules(doc: &mut Doc) {
    doc.line("## Rules for every property");
    doc.blank();
    doc.line(
        "`properties` is an object. Declared properties are checked against their type, allowed values and \
         length below; undeclared ones are stored as sent with an `unknown_property` warning. Both obey these \
         rules; a broken rule rejects the event with the code shown.",
    );
    doc.blank();
    let rows = [
        [
            "Property name".to_string(),
            format!("`[A-Za-z0-9_]`, 1 to {} characters", limits::PROPERTY_NAME_MAX_CHARS),
            code("invalid_property_name"),
        ],
        [
            "Properties per event".into(),
            format!("at most {}", limits::PROPERTIES_MAX_COUNT),
            code("too_many_properties"),
        ],
        [
            "The whole `properties` object".into(),
            format!("at most {} bytes serialized", limits::PROPERTIES_MAX_BYTES),
            code("properties_too_large"),
        ],
        [
            "String value".into(),
            format!(
                "at most {} characters, unless its table below says otherwise",
                limits::STRING_MAX_CHARS
            ),
            code("property_too_long"),
        ],
        [
            "Number value".into(),
            format!("at most {} decimal places", limits::NUMBER_MAX_DECIMALS),
            code("invalid_number_precision"),
        ],
        [
            "Number value, in range".into(),
            format!(
                "a declared number within its range below; any other number at most {} in magnitude (2^53)",
                limits::NUMBER_MAX_ABS
            ),
            code("value_out_of_range"),
        ],
        [
            "Object or array value".into(),
            format!("at most {} bytes serialized", limits::OBJECT_MAX_BYTES),
            code("property_too_large"),
        ],
        [
            "A property named `email` (any case)".into(),
            "refused: send the address as the top-level `email` field, which is fingerprinted".into(),
            code("pii_in_properties"),
        ],
        [
            "Declared property of the wrong JSON type".into(),
            "string, number, boolean or object as its table says".into(),
            code("invalid_property_type"),
        ],
        [
            "Declared string with a list of values".into(),
            "one of the listed values".into(),
            code("invalid_enum_value"),
        ],
        [
            "Identifier property (marked *identifier* below)".into(),
            "ASCII letters, digits and `_` only".into(),
            code("invalid_identifier"),
        ],
        [
            "Required property".into(),
            "present and not `null`".into(),
            code("missing_required_property"),
        ],
        [
            "Required identifier (top-level field)".into(),
            "present and not empty".into(),
            code("missing_required_field"),
        ],
    ];
    let rows: Vec<Vec<String>> = rows.into_iter().map(Vec::from).collect();
    doc.table(&["What", "Rule", "Code"], &rows);
    doc.line(
        "A property sent under one of its aliases is stored under its declared name. A `null` property counts \
         as absent.",
    );
    doc.blank();
    identifier_rule(doc);
    auto_params(doc);
}

/// Which parameters follow the dictionary's string rule (영숫자와 언더스코어만).
fn identifier_rule(doc: &mut Doc) {
    doc.line("### Identifiers: letters, digits and `_` only");
    doc.blank();
    doc.line(
        "The event dictionary (`easypick`) limits strings to letters, digits and `_` for GA4. That rule is \
         meant for identifiers and classifications, so it applies to its `_id` and `_type` parameters \
         (below); free text (names, titles, categories such as `콘텐츠 제작`, search terms, messages, URLs) \
         keeps any character, up to its length limit. Parameters with a list of values (`template_type`, \
         `action_type`, ...) accept exactly the listed values, which the dictionary itself writes (so \
         `model_type` keeps `gpt-4` and `gpt-3.5`).",
    );
    doc.blank();
    let rows: Vec<Vec<String>> = EVENTS
        .iter()
        .filter(|e| e.params.iter().any(|p| p.identifier))
        .map(|e| {
            let names: Vec<&str> = e.params.iter().filter(|p| p.identifier).map(|p| p.name).collect();
            vec![format!("[{0}](#{0})", e.name), code_list(&names)]
        })
        .collect();
    doc.table(&["Event type", "Identifier properties"], &rows);
}

/// The tracker's automatic parameters and where each one goes.
fn auto_params(doc: &mut Doc) {
    doc.line("### Automatic parameters");
    doc.blank();
    doc.line(
        "The event dictionary's tracker adds these to every event. Every event type accepts them, at the top \
         level or among the properties:",
    );
    doc.blank();
    let mut rows: Vec<Vec<String>> = vec![
        vec![
            code("user_id"),
            "stored as the event's `user_id` (optional: a logged-out user has none; metered actions need it)".into(),
        ],
        vec![code("session_id"), "stored as the event's `session_id`".into()],
        vec![
            code("timestamp"),
            "the event's `occurred_at` (when the top level gives none)".into(),
        ],
        vec![
            code("event_name"),
            "an alias of `event_type`; among the properties it must name the event's own type, then it is \
             dropped (`conflicting_fields` otherwise)"
                .into(),
        ],
        vec![
            code("processed_at"),
            "set by the server: the stored `ts`; a sent value is ignored (warning `server_field_ignored`)".into(),
        ],
    ];
    rows.extend(
        AUTO_PARAMS
            .iter()
            .map(|p| vec![code(p.name), format!("stored among the properties; {}", accepts(p))]),
    );
    doc.table(&["Parameter", "Where it goes"], &rows);
    doc.line(
        "A parameter given at the top level and among the properties with different values is \
         `conflicting_fields`.",
    );
    doc.blank();
}

/// A short note on what a service is; the catalog itself only knows its name.
fn service_note(service: &str) -> &'static str {
    match service {
        "pregoi" => {
            "The auth/commerce funnel of m.pregoi.com: landing, login, OTP, checkout, Stripe webhook, \
             provisioning. Sent by the gateway (signed) and the control plane (bearer key)."
        }
        "presstuner" => "PressTuner, read by the ops console: signups, purchases, articles, workspaces, commands.",
        "pluid" => "Pluid, read by the ops console: app opens, notes, weekly reports, AI organise runs.",
        "easypick" => {
            "EasyPick's standard event dictionary: templates, prompts, workflows, AI tools, search, page views, \
             engagement, subscriptions, conversions, errors. Sampled per type, metered per user and month, and \
             mapped onto GA4."
        }
        _ => "",
    }
}

fn service_section(doc: &mut Doc, service: &str) {
    doc.line(format!("### Service `{service}`"));
    doc.blank();
    let note = service_note(service);
    if !note.is_empty() {
        doc.line(note);
        doc.blank();
    }
    let events: Vec<&EventDef> = EVENTS.iter().filter(|e| e.service == service).collect();
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                format!("[{0}](#{0})", e.name),
                e.description.en.to_string(),
                requirements(e.requires),
                percent(e.sample_rate),
                if e.browser_safe { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    doc.table(
        &["Event type", "Description", "Required identifiers", "Kept", "Browser"],
        &rows,
    );
    for e in events {
        event_section(doc, e);
    }
}

/// `` `email` and `error_code` ``, `` `email` or `user_id` ``: every requirement
/// must be met, each by any one of its fields.
fn requirements(requires: &[Requirement]) -> String {
    if requires.is_empty() {
        return "none".into();
    }
    let alternatives = |r: &Requirement| {
        let names: Vec<String> = r.any_of.iter().map(|f| code(f.name())).collect();
        names.join(" or ")
    };
    match requires {
        [one] => alternatives(one),
        many => many
            .iter()
            .map(|r| match r.any_of {
                [_] => alternatives(r),
                _ => format!("({})", alternatives(r)),
            })
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

fn event_section(doc: &mut Doc, e: &EventDef) {
    doc.line(format!("#### `{}`", e.name));
    doc.blank();
    doc.line(both(&e.description));
    doc.blank();
    doc.line(format!("- Service: `{}`", e.service));
    doc.line(format!("- Required identifiers: {}", requirements(e.requires)));
    doc.line(format!(
        "- Sampling: {} kept (rate {})",
        percent(e.sample_rate),
        e.sample_rate
    ));
    doc.line(if e.browser_safe {
        "- Browser: yes, a web page may send it with a publishable key (`POST /collect`)"
    } else {
        "- Browser: no (signed or bearer ingest only)"
    });
    let metered: Vec<&QuotaAction> = ACTIONS.iter().filter(|a| a.events.contains(&e.name)).collect();
    if metered.is_empty() {
        doc.line("- Quota: none");
    } else {
        for a in metered {
            doc.line(format!(
                "- Quota: one `{}` per event{}, never sampled away (see [Monthly quotas](#monthly-quotas))",
                a.name,
                condition(a)
            ));
        }
    }
    if let Some(m) = &e.ga4 {
        let mut parts = vec![
            format!("category `{}`", m.event_category),
            format!("label `{}`", label(m.event_label)),
        ];
        if let Some(v) = m.value {
            parts.push(format!("value `{v}`"));
        }
        if !m.dimensions.is_empty() {
            let dims: Vec<String> = m.dimensions.iter().map(|(g, p)| format!("`{g}` ← `{p}`")).collect();
            parts.push(format!("parameters {}", dims.join(", ")));
        }
        doc.line(format!("- GA4: {}", parts.join("; ")));
    }
    doc.blank();
    if e.params.is_empty() {
        doc.line("No declared properties.");
        doc.blank();
        return;
    }
    let rows: Vec<Vec<String>> = e
        .params
        .iter()
        .map(|p| {
            vec![
                code(p.name),
                kind(p.kind).into(),
                if p.required { "yes" } else { "no" }.into(),
                accepts(p),
            ]
        })
        .collect();
    doc.table(&["Property", "Type", "Required", "Accepts"], &rows);
}

fn condition(a: &QuotaAction) -> String {
    match a.only_when {
        Some((property, value)) => format!(" when `properties.{property}` is `{value}`"),
        None => String::new(),
    }
}

/// A GA4 label template: `{property}` where a property's value goes.
fn label(parts: &[LabelPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            LabelPart::Param(name) => format!("{{{name}}}"),
            LabelPart::Text(text) => (*text).to_string(),
        })
        .collect()
}

fn kind(k: ParamKind) -> &'static str {
    match k {
        ParamKind::String => "string",
        ParamKind::Number => "number",
        ParamKind::Boolean => "boolean",
        ParamKind::Object => "object",
    }
}

fn accepts(p: &Param) -> String {
    let mut text = match p.kind {
        ParamKind::String if !p.allowed.is_empty() => format!("one of {}", code_list(p.allowed)),
        ParamKind::String => format!("up to {} characters", p.max_chars.unwrap_or(limits::STRING_MAX_CHARS)),
        ParamKind::Number => match p.range {
            Some(r) if r.integer => format!("a whole number from {} to {} ({})", r.min, r.max, r.unit),
            Some(r) => format!(
                "from {} to {}, at most {} decimal places ({})",
                r.min,
                r.max,
                limits::NUMBER_MAX_DECIMALS,
                r.unit
            ),
            None => format!("at most {} decimal places", limits::NUMBER_MAX_DECIMALS),
        },
        ParamKind::Boolean => "`true` or `false`".into(),
        ParamKind::Object => format!("up to {} bytes serialized", limits::OBJECT_MAX_BYTES),
    };
    if p.identifier {
        text.push_str("; *identifier*: letters, digits and `_` only");
    }
    if !p.aliases.is_empty() {
        text.push_str(&format!("; also sent as {}", code_list(p.aliases)));
    }
    text
}

fn quota_section(doc: &mut Doc) {
    doc.line("## Monthly quotas");
    doc.blank();
    doc.line(format!(
        "Some event types use a per-user monthly quota. Months start at midnight on the 1st in `{}`. A user's \
         plan is their latest `subscription` event's `plan_type` (`free` after a `cancel`, and `free` when \
         they have none); an override set through `PUT /internal/quotas/overrides` replaces the plan's limit \
         (a user's override beats their tenant's). Metered events need `user_id` and are never sampled away. \
         An event over the limit is answered `quota_limited` and not stored.",
        quotas::MONTH_TIME_ZONE.name()
    ));
    doc.blank();
    let rows: Vec<Vec<String>> = ACTIONS
        .iter()
        .map(|a| {
            let counted = match a.only_when {
                Some((property, value)) => format!("only when `properties.{property}` is `{value}`"),
                None => "every stored event".into(),
            };
            vec![
                code(a.name),
                both(&a.label),
                code_list(a.events),
                counted,
                a.limits.free.to_string(),
                a.limits.pro.to_string(),
                a.limits.team.to_string(),
            ]
        })
        .collect();
    doc.table(
        &["Action", "Label", "Event types", "Counted", "free", "pro", "team"],
        &rows,
    );
}

fn kpi_section(doc: &mut Doc) {
    doc.line("## KPIs");
    doc.blank();
    doc.line(
        "`GET /internal/funnel-events/summary` evaluates every KPI over the requested range and returns it \
         under its id. Counts and sums weigh each stored event by 1 / its sample rate and say `estimate: true` \
         when sampled events took part; distinct users of named types are HyperLogLog estimates (also \
         `estimate: true`). A ratio is `null` when its denominator is 0. `Better` says which way a change is \
         good news (`lower` for failures and failure rates); a console colours changes by it. A `per_user` KPI \
         divides a count by the distinct users behind it: Pluid's user density is notes per writer \
         (`pluid_notes_per_writer`). A usage KPI counts every event of its action's types, while the quota \
         meter keeps only those meeting the action's condition: `easypick_usage_ai_tool_access` counts every \
         `tool_interaction` (views and bookmarks too, scaled for sampling), the `ai_tool_access` meter only \
         `action_type = use`; the console's quota screen shows both numbers and says so.",
    );
    doc.blank();
    let rows: Vec<Vec<String>> = KPIS
        .iter()
        .map(|k| {
            // Read through the KPI's JSON form (the one the catalog API serves):
            // the names stay those callers see.
            let v = serde_json::to_value(k).unwrap_or(Value::Null);
            let text = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
            let label = match v.get("label") {
                Some(l) => format!(
                    "{} ({})",
                    l.get("en").and_then(Value::as_str).unwrap_or(""),
                    l.get("ko").and_then(Value::as_str).unwrap_or("")
                ),
                None => String::new(),
            };
            let service = v
                .get("service")
                .and_then(Value::as_str)
                .map_or_else(|| "all".to_string(), code);
            vec![
                code(&text("id")),
                label,
                service,
                text("lens"),
                text("unit"),
                text("better"),
                formula(v.get("formula").unwrap_or(&Value::Null)),
            ]
        })
        .collect();
    doc.table(
        &["KPI", "Label", "Service", "Lens", "Unit", "Better", "Definition"],
        &rows,
    );
    doc.line(
        "`easypick_usage_ai_tool_access` counts every `tool_interaction` (weighted by its sampling), while the \
         `ai_tool_access` quota meters only those with `action_type` `use`, each stored unsampled: the KPI \
         measures how much the tools are used, the meter what the plan limits (`GET /internal/usage`).",
    );
    doc.blank();
}

/// A KPI formula in words, from its JSON form.
fn formula(f: &Value) -> String {
    let s = |key: &str| f.get(key).and_then(Value::as_str).unwrap_or("");
    let events = match f.get("events").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            code_list(&names)
        }
        _ => "every event type".into(),
    };
    match s("kind") {
        "count" => {
            let outcome = match s("outcome") {
                "success" => " with `success = true`",
                "failure" => " with `success = false`",
                _ => "",
            };
            format!("count of {events}{outcome}")
        }
        "sum" => format!("sum of `properties.{}` over {events}", s("property")),
        "money" => format!(
            "sum of `properties.{}` over {events}, one per `properties.currency` (won when not given), never added across currencies",
            s("property")
        ),
        "distinct" => format!("distinct `{}` over {events}", s("column")),
        "top" => format!("most frequent `properties.{}` of {events}", s("property")),
        "ratio" => format!("`{}` ÷ `{}`", s("numerator"), s("denominator")),
        _ => code(&f.to_string()),
    }
}

fn funnel_section(doc: &mut Doc) {
    doc.line("## Funnels");
    doc.blank();
    doc.line(
        "`GET /internal/funnels/{name}` counts subjects through these steps. A subject is a trace; a step \
         event sent without a trace counts for its user's latest trace (or the user, when they were never \
         seen on one). A subject reaches a step when it has that step's event no earlier than it reached the \
         step before. Drop-off is split by the subject's latest `error_code` (`none` when it has none).",
    );
    doc.blank();
    for f in FUNNELS {
        doc.line(format!("### `{}`: {}", f.name, f.label.en));
        doc.blank();
        doc.line(both(&f.description));
        doc.blank();
        let rows: Vec<Vec<String>> = f
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| vec![(i + 1).to_string(), format!("[{0}](#{0})", s.event), both(&s.label)])
            .collect();
        doc.table(&["Step", "Event type", "Label"], &rows);
    }
}

fn alert_section(doc: &mut Doc) {
    use super::alerts::{AlertKind, RateLimit, ALERT_RULES};
    doc.line("## Alert rules");
    doc.blank();
    doc.line(
        "Evaluated every minute from the rollups; each firing (rule, scope) opens one incident, posted once to \
         the alert webhooks and once more when it resolves (docs/api.md, \"Alerts\"; `GET /internal/alerts`).",
    );
    doc.blank();
    let rows: Vec<Vec<String>> = ALERT_RULES
        .iter()
        .map(|r| {
            let fires = match r.kind {
                AlertKind::ServiceSilent { minutes } => {
                    format!("a service (each one) that sent before sends nothing for {minutes} minutes")
                }
                AlertKind::FailureRate {
                    events,
                    window_hours,
                    min_events,
                    limit,
                } => {
                    let over = match limit {
                        RateLimit::Above { percent } => format!("above {percent} %"),
                        RateLimit::AboveBaseline {
                            factor,
                            baseline_hours,
                            min_percent,
                        } => format!(
                            "above {factor} × its rate over the {baseline_hours} h before, and at least {min_percent} %"
                        ),
                    };
                    format!(
                        "failed share of {} over the last {window_hours} h (at least {min_events} events) {over}",
                        code_list(events)
                    )
                }
                AlertKind::QuarantineGrowth {
                    window_minutes,
                    at_least,
                } => format!("{at_least} or more events quarantined in the last {window_minutes} minutes"),
                AlertKind::UsersAtQuota { at_least } => {
                    format!("{at_least} or more users at their monthly limit of a quota action (each one)")
                }
            };
            vec![code(r.name), format!("{} ({})", r.label.en, r.label.ko), fires]
        })
        .collect();
    doc.table(&["Rule", "Label", "Fires when"], &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_deterministic_and_names_every_declaration() {
        let doc = events_markdown();
        assert_eq!(doc, events_markdown());
        assert!(doc.ends_with('\n') && !doc.ends_with("\n\n"));
        for e in EVENTS {
            assert!(doc.contains(&format!("#### `{}`", e.name)), "{}", e.name);
            for p in e.params {
                assert!(doc.contains(&format!("`{}`", p.name)), "{}.{}", e.name, p.name);
            }
        }
        for a in ACTIONS {
            assert!(doc.contains(&format!("| `{}` |", a.name)), "{}", a.name);
        }
        for k in KPIS {
            assert!(doc.contains(&format!("| `{}` |", k.id)), "{}", k.id);
        }
        for f in FUNNELS {
            assert!(doc.contains(&format!("### `{}`", f.name)), "{}", f.name);
        }
    }

    #[test]
    fn every_kpi_formula_is_put_in_words() {
        for k in KPIS {
            let v = serde_json::to_value(k).unwrap();
            let words = formula(&v["formula"]);
            assert!(!words.starts_with("`{"), "{}: {words}", k.id);
        }
    }

    #[test]
    fn cells_cannot_break_a_table_and_rates_read_as_percentages() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(percent(0.05), "5 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.125), "12.5 %");
    }
}
