//! The OpenAPI 3.1 document, generated from the route table
//! ([`super::routes::ROUTES`]: paths, methods, access, parameters, body
//! limits) and the response types (their `ToSchema` derives). Served at
//! `GET /openapi.json`; committed as `docs/openapi.json`, which a test keeps
//! equal to this.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, Required,
    ResponseBuilder,
};
use utoipa::ToSchema;

use super::request::Method;
use super::routes::{Access, Endpoint, Route, ROUTES};
use crate::error::{Problem, PROBLEM_CONTENT_TYPE};
use crate::ingest::batch::IngestBody;
use crate::report::overview::Overview;
use crate::report::quarantine::ReplayOutcome;
use crate::report::timeline::Timeline;
use crate::usecases::audit::AuditPage;
use crate::usecases::bench::FloorWrite;
use crate::usecases::catalog::Catalog;
use crate::usecases::erasure::ErasureReceipt;
use crate::usecases::events::EventPage;
use crate::usecases::funnels::{FunnelCount, FunnelList};
use crate::usecases::health::HealthReport;
use crate::usecases::quarantine::QuarantinePage;
use crate::usecases::summary::Summary;
use crate::usecases::usage::{OverQuota, OverrideDeleted, OverrideSet, Quotas, UsageHistory, UsageSummary, UserUsage};

/// What a route answers with on success.
enum Success {
    Json(String),
    /// A body that is not JSON (an export, a console file, a redirect).
    Other(u16, &'static [&'static str], &'static str),
}

fn success(endpoint: Endpoint) -> Success {
    use Endpoint::*;
    match endpoint {
        ConsoleRoot => Success::Other(302, &["text/plain"], "A redirect to the console."),
        ConsoleAsset => Success::Other(
            200,
            &["text/html", "text/javascript", "text/css"],
            "A file of the console.",
        ),
        Health => Success::Json(name::<crate::usecases::health::HealthReport>()),
        OpenApi => Success::Json("OpenApiDocument".into()),
        Ingest | BenchDiscard | Collect => Success::Json(name::<IngestBody>()),
        CollectPreflight => Success::Other(
            204,
            &[],
            "No body: Access-Control-Allow-Origin (the page's origin), -Methods, -Headers, -Max-Age and Vary: Origin.",
        ),
        ListEvents => Success::Json(name::<EventPage>()),
        ExportEvents => Success::Other(
            200,
            &["text/csv", "application/x-ndjson"],
            "RFC 4180 CSV with a header row (format=csv), or one GA4 Measurement Protocol request body per line \
             (format=ga4, application/x-ndjson). At most 100,000 D1 rows and 200 archived hours per request: \
             X-Export-Next-Cursor (pass as `cursor`) or X-Export-Next-Archived-Before (pass as `archived_before`) \
             says where the next request continues; the last answer has neither.",
        ),
        Summary => Success::Json(name::<crate::usecases::summary::Summary>()),
        Trace => Success::Json(name::<Timeline>()),
        FunnelList => Success::Json(name::<crate::usecases::funnels::FunnelList>()),
        Funnel => Success::Json(name::<FunnelCount>()),
        Catalog => Success::Json(name::<crate::usecases::catalog::Catalog>()),
        Overview => Success::Json(name::<crate::report::overview::Overview>()),
        QuarantineList => Success::Json(name::<QuarantinePage>()),
        QuarantineReplay => Success::Json(name::<ReplayOutcome>()),
        UsageOfUser => Success::Json(name::<UserUsage>()),
        UsageOverQuota => Success::Json(name::<OverQuota>()),
        UsageSummary => Success::Json(name::<crate::usecases::usage::UsageSummary>()),
        UsageHistory => Success::Json(name::<crate::usecases::usage::UsageHistory>()),
        Quotas => Success::Json(name::<crate::usecases::usage::Quotas>()),
        PutOverride => Success::Json(name::<OverrideSet>()),
        DeleteOverride => Success::Json(name::<OverrideDeleted>()),
        BenchFloor => Success::Json(name::<FloorWrite>()),
        Audit => Success::Json(name::<AuditPage>()),
        Alerts => Success::Json(name::<crate::usecases::alerts::AlertList>()),
        Erasure | ErasureProgress => Success::Json(name::<ErasureReceipt>()),
        WhoAmI => Success::Json(name::<super::access::WhoAmI>()),
        PiiSweep => Success::Json(name::<crate::usecases::sweep::SweepStep>()),
        SketchRebuild => Success::Json(name::<crate::usecases::sketches::RebuildStep>()),
        DeadLetterReplay => Success::Json(name::<crate::usecases::dead_letter::DeadLetterReplay>()),
        ArchiveHours => Success::Json(name::<crate::usecases::archive::ArchiveListing>()),
        ArchiveObject => Success::Other(
            200,
            &["application/gzip"],
            "The hour's events as gzip NDJSON: one event per line, in the list's form (`success` a boolean, \
             `properties` an object), oldest first. Headers X-Archive-Rows and X-Archive-Sha256 repeat the manifest.",
        ),
    }
}

fn name<T: ToSchema>() -> String {
    T::name().into_owned()
}

/// What each query parameter means (one text, however many routes take it).
fn parameter_doc(name: &str) -> &'static str {
    match name {
        "from" => {
            "Start, inclusive: RFC 3339, or YYYY-MM-DD for local midnight in `tz`. Default: 13 days before today."
        }
        "to" => {
            "End, exclusive: RFC 3339 or YYYY-MM-DD. Default: the end of today in `tz`. At most 400 days after `from`."
        }
        "tz" => "IANA time zone for day buckets and dates (default UTC).",
        "type" => "Event types, comma-separated (each checked against the catalog).",
        "q_email" => "An address (matched by its fingerprint) or `@domain`.",
        "email_fingerprint" => "64 lowercase hex characters: an address's keyed fingerprint.",
        "trace_id" => "A trace id: starts with trace_, at most 128 visible ASCII characters.",
        "tenant_id" => "Exact tenant id (at most 128 characters).",
        "job_id" => "Exact job id (at most 128 characters).",
        "session_id" => "Exact session id (at most 128 characters).",
        "source" => "Exact source ([a-z0-9_-]{1,32}).",
        "success" => "true or false.",
        "error_code" => "Exact error code.",
        "key" => "/collect: the site's publishable key (pk_…). /internal/audit: a key's name to filter by.",
        "limit" => "Page size (list: 1–500, default 50; replay: 1–500, default 500).",
        "cursor" => {
            "The `next_cursor` of the previous page, or an export's `x-export-next-cursor` (bound to the other parameters)."
        }
        "archived_before" => "An export's `x-export-next-archived-before` (YYYY-MM-DDTHH): the next older archived hours.",
        "format" => "csv (default) or ga4.",
        "bucket" => "day (default) or hour: `daily` holds one bucket per local day, or per hour (ranges of at most 7 days), keyed by the hour's UTC start.",
        "status" => "pending or all (default).",
        "user_id" => "The user (1–128 characters).",
        "month" => "YYYY-MM in Asia/Seoul (default: the current month).",
        "by" => {
            "Split the funnel by email_domain, source, tenant_id or a string property of its steps (top 10 + other)."
        }
        "from_month" => {
            "First month, YYYY-MM, included (default: 5 months before `to_month`). At most 12 months in all."
        }
        "to_month" => "Last month, YYYY-MM, included (default: the current month).",
        "subject_kind" => "user or tenant.",
        "subject_id" => "The user or tenant id (1–128 characters).",
        "action" => "A quota action (GET /internal/quotas lists them).",
        "after" => "The `next_after` of the previous replay call (a dead-letter/… key).",
        _ => "",
    }
}

fn json_ref(schema: &str, description: &str, content_type: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            content_type,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id(route)))
        .summary(Some(route.summary))
        .tag(tag(route));
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let name = name.trim_start_matches('*');
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            );
        }
    }
    for param in route.params.unwrap_or_default() {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*param)
                .parameter_in(ParameterIn::Query)
                .required(if *param == "user_id" && route.endpoint == Endpoint::UsageOfUser {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(parameter_doc(param)))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    if route.max_body > 0 {
        let body = if route.endpoint == Endpoint::PutOverride {
            "`{\"subject_kind\": \"user\"|\"tenant\", \"subject_id\", \"action\", \"monthly_limit\": 0..1e9}`"
        } else if route.endpoint == Endpoint::Erasure {
            "`{\"email\" | \"email_fingerprint\" | \"user_id\": \"...\", \"suppress\"?: bool}`: exactly one of the three."
        } else if route.endpoint == Endpoint::Collect {
            "`{\"events\": [...]}` as ingest takes it, sent as application/json or text/plain (a sendBeacon string): \
             browser-safe types only (docs/events.md)."
        } else if route.endpoint == Endpoint::BenchFloor {
            "A JSON array of prepared event rows."
        } else {
            "`{\"events\": [...], \"sent_at\"?: RFC 3339}`: at most 500 events (docs/api.md, docs/events.md)."
        };
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!("{body} At most {} bytes.", route.max_body)))
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(ObjectBuilder::new())).build(),
                )
                .build(),
        ));
    }
    match route.access {
        Access::Key(role) => {
            op = op
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .description(Some(format!(
                    "Needs a bearer key of the `{}` role (an `admin` key may call every route).",
                    role.as_str()
                )))
        }
        Access::SignedOrKey => {
            op = op
                .security(SecurityRequirement::new("signature", Vec::<String>::new()))
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .description(Some(
                    "Needs an X-Funnel-Signature, or a bearer key of the `ingest` role (or `admin`).",
                ))
        }
        Access::AnyKey => {
            op = op
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .description(Some("Needs any valid bearer key."))
        }
        Access::Publishable => {
            op = op.description(Some(
                "Needs `?key=` a publishable key (`pk_…`, public, one per site) and an `Origin` the key lists; \
                 CORS headers only for that origin. 429 with Retry-After over the per-IP or per-site rate limit.",
            ))
        }
        Access::Public | Access::Bench => {}
    }
    op = match success(route.endpoint) {
        Success::Json(schema) => op.response("200", json_ref(&schema, "Success.", "application/json")),
        Success::Other(status, content_types, description) => {
            let mut response = ResponseBuilder::new().description(description);
            for content_type in content_types {
                response = response.content(*content_type, ContentBuilder::new().build());
            }
            op.response(status.to_string(), response.build())
        }
    };
    if matches!(route.endpoint, Endpoint::Ingest | Endpoint::Collect) {
        op = op.response(
            "202",
            json_ref(
                &name::<IngestBody>(),
                "At least one event `queued` and none stored: D1 could not take the batch (or \
                 INGEST_MODE=queue); the queue's consumer stores them later.",
                "application/json",
            ),
        );
        for status in ["402", "422"] {
            op = op.response(
                status,
                json_ref(
                    &name::<IngestBody>(),
                    "Every event refused (402: at least one for its monthly quota); a problem with the results.",
                    PROBLEM_CONTENT_TYPE,
                ),
            );
        }
    }
    op.response(
        "default",
        json_ref(
            &name::<Problem>(),
            "An RFC 9457 problem with a stable `code` (docs/api.md lists them). A 503 carries Retry-After.",
            PROBLEM_CONTENT_TYPE,
        ),
    )
    .build()
}

/// `get_internal_funnel_events_summary`: unique, since (method, path) is.
fn operation_id(route: &Route) -> String {
    let path: String = route
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = path
        .trim_matches('_')
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    format!(
        "{}_{}",
        route.method.as_str(),
        if path.is_empty() { "root" } else { &path }
    )
}

fn tag(route: &Route) -> &'static str {
    match route.endpoint {
        Endpoint::ConsoleRoot | Endpoint::ConsoleAsset => "console",
        Endpoint::Health | Endpoint::OpenApi => "service",
        Endpoint::Ingest => "ingest",
        Endpoint::Collect | Endpoint::CollectPreflight => "browser collection",
        Endpoint::BenchFloor | Endpoint::BenchDiscard => "benchmark (404 unless enabled on loopback)",
        Endpoint::UsageOfUser
        | Endpoint::UsageOverQuota
        | Endpoint::UsageSummary
        | Endpoint::UsageHistory
        | Endpoint::Quotas
        | Endpoint::PutOverride
        | Endpoint::DeleteOverride => "usage and quotas",
        Endpoint::QuarantineList | Endpoint::QuarantineReplay => "quarantine",
        Endpoint::Alerts => "alerts",
        Endpoint::Audit | Endpoint::Erasure | Endpoint::ErasureProgress | Endpoint::WhoAmI | Endpoint::PiiSweep => {
            "privacy"
        }
        _ => "reads",
    }
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Delete => HttpMethod::Delete,
        Method::Options => HttpMethod::Options,
    }
}

type NamedSchema = (String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>);

/// Adds `T` and every schema it refers to.
fn push_schema<T: ToSchema>(all: &mut Vec<NamedSchema>) {
    all.push((T::name().into_owned(), T::schema()));
    T::schemas(all);
}

/// Every response type and the schemas they refer to (a name may repeat,
/// always with the same schema: a test checks it).
fn all_schemas() -> Vec<NamedSchema> {
    let mut all = Vec::new();
    push_schema::<HealthReport>(&mut all);
    push_schema::<IngestBody>(&mut all);
    push_schema::<EventPage>(&mut all);
    push_schema::<Summary>(&mut all);
    push_schema::<Timeline>(&mut all);
    push_schema::<FunnelList>(&mut all);
    push_schema::<FunnelCount>(&mut all);
    push_schema::<Catalog>(&mut all);
    push_schema::<Overview>(&mut all);
    push_schema::<QuarantinePage>(&mut all);
    push_schema::<ReplayOutcome>(&mut all);
    push_schema::<UserUsage>(&mut all);
    push_schema::<OverQuota>(&mut all);
    push_schema::<UsageSummary>(&mut all);
    push_schema::<UsageHistory>(&mut all);
    push_schema::<Quotas>(&mut all);
    push_schema::<OverrideSet>(&mut all);
    push_schema::<OverrideDeleted>(&mut all);
    push_schema::<FloorWrite>(&mut all);
    push_schema::<Problem>(&mut all);
    push_schema::<AuditPage>(&mut all);
    push_schema::<crate::usecases::alerts::AlertList>(&mut all);
    push_schema::<ErasureReceipt>(&mut all);
    push_schema::<super::access::WhoAmI>(&mut all);
    push_schema::<crate::usecases::sweep::SweepStep>(&mut all);
    push_schema::<crate::usecases::sketches::RebuildStep>(&mut all);
    push_schema::<crate::usecases::archive::ArchiveListing>(&mut all);
    push_schema::<crate::usecases::dead_letter::DeadLetterReplay>(&mut all);
    all
}

/// The document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        paths = paths.path(route.path, PathItem::new(http_method(route.method), operation(route)));
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(all_schemas())
        .schema(
            "OpenApiDocument",
            ObjectBuilder::new().description(Some("An OpenAPI 3.1 document.")),
        )
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .security_scheme(
            "signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Funnel-Signature",
                "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")> (docs/api.md).",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("funnel")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Collects product and funnel events from many services and shows operators what happened. \
                     Prose reference: docs/api.md; event dictionary: docs/events.md.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

/// The document as the committed `docs/openapi.json` holds it.
pub fn pretty_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Rust types with one schema name would silently overwrite each other.
    #[test]
    fn no_two_schemas_share_a_name() {
        let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for (name, schema) in all_schemas() {
            let text = serde_json::to_string(&schema).unwrap();
            if let Some(previous) = seen.insert(name.clone(), text.clone()) {
                assert_eq!(previous, text, "two different schemas are named {name}");
            }
        }
    }

    #[test]
    fn every_operation_id_is_unique() {
        let ids: Vec<String> = ROUTES.iter().map(operation_id).collect();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn every_schema_a_route_refers_to_is_in_the_components() {
        let text = document().to_json().unwrap();
        let names: std::collections::HashSet<String> = all_schemas().into_iter().map(|(n, _)| n).collect();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            assert!(
                names.contains(&name) || name == "OpenApiDocument",
                "{name} is referred to but not defined"
            );
        }
    }
}
