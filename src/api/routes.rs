//! Every route of the service, in one table: method, path, who may call it,
//! the query parameters it knows, the largest body it reads, and what it
//! does. The worker dispatches through it ([`find`]) and the OpenAPI
//! document ([`crate::api::openapi`]) is generated from it.
//!
//! `wrangler.toml`'s `run_worker_first` must cover each path; anything else
//! is served from `admin-ui/public` directly.

use super::request::Method;
use crate::ingest::MAX_BODY_BYTES;
use crate::query::filter::LIST_PARAMS;
use crate::security::keys::Role;
use crate::usecases::collect::COLLECT_MAX_BODY;
use crate::usecases::erasure::ERASURE_MAX_BODY;

/// Who may call a route. Checked by the dispatcher before the use case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the API document, the console's files: the console asks for a key).
    Public,
    /// An `X-Funnel-Signature` over the body, or a bearer key of the `ingest`
    /// (or `admin`) role. Checked by ingest itself, since the signature covers the raw body.
    SignedOrKey,
    /// `Authorization: Bearer <key>` of this role (an `admin` key may call everything).
    Key(Role),
    /// Any valid bearer key, whatever its role.
    AnyKey,
    /// Only with `BENCH_ROUTES = "1"` and a loopback host; a 404 otherwise.
    Bench,
    /// A publishable key in `?key=` and a page origin it lists (checked by
    /// collect itself, see [`crate::usecases::collect`]); never a bearer key.
    Publishable,
}

/// What a route does; [`crate::api::dispatch`] maps each to its use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    ConsoleRoot,
    ConsoleAsset,
    Health,
    OpenApi,
    Ingest,
    ListEvents,
    ExportEvents,
    Summary,
    Trace,
    FunnelList,
    Funnel,
    Catalog,
    Overview,
    QuarantineList,
    QuarantineReplay,
    UsageOfUser,
    UsageOverQuota,
    UsageSummary,
    UsageHistory,
    Quotas,
    PutOverride,
    DeleteOverride,
    Audit,
    Alerts,
    Erasure,
    ErasureProgress,
    WhoAmI,
    PiiSweep,
    ArchiveHours,
    ArchiveObject,
    DeadLetterReplay,
    SketchRebuild,
    BenchFloor,
    BenchDiscard,
    Collect,
    CollectPreflight,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// `{name}` matches one segment; a final `{*name}` matches the rest.
    pub path: &'static str,
    pub access: Access,
    pub endpoint: Endpoint,
    /// The query parameters it accepts (anything else is a 400); `None`: not checked.
    pub params: Option<&'static [&'static str]>,
    /// The largest body it reads; 0: the body is never read.
    pub max_body: usize,
    pub summary: &'static str,
}

const RANGE: &[&str] = &["from", "to", "tz"];
/// The list's parameters, `format` and `archived_before` (an export's continuation).
const EXPORT_PARAMS: &[&str] = &{
    let mut all = [""; LIST_PARAMS.len() + 2];
    let mut i = 0;
    while i < LIST_PARAMS.len() {
        all[i] = LIST_PARAMS[i];
        i += 1;
    }
    all[i] = "format";
    all[i + 1] = "archived_before";
    all
};
const QUARANTINE_PARAMS: &[&str] = &[
    "from",
    "to",
    "tz",
    "type",
    "status",
    "q_email",
    "email_fingerprint",
    "trace_id",
    "limit",
    "cursor",
];
const AUDIT_PARAMS: &[&str] = &["from", "to", "tz", "key", "subject", "limit", "cursor"];
/// A quota override is a few small fields.
pub const OVERRIDE_MAX_BODY: usize = 4096;

macro_rules! route {
    ($method:ident $path:literal, Key($role:ident), $endpoint:ident, $params:expr, $max_body:expr, $summary:literal) => {
        Route {
            method: Method::$method,
            path: $path,
            access: Access::Key(Role::$role),
            endpoint: Endpoint::$endpoint,
            params: $params,
            max_body: $max_body,
            summary: $summary,
        }
    };
    ($method:ident $path:literal, $access:ident, $endpoint:ident, $params:expr, $max_body:expr, $summary:literal) => {
        Route {
            method: Method::$method,
            path: $path,
            access: Access::$access,
            endpoint: Endpoint::$endpoint,
            params: $params,
            max_body: $max_body,
            summary: $summary,
        }
    };
}

#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    // The console: `/` leads there; its files leave with a strict CSP.
    route!(Get "/", Public, ConsoleRoot, None, 0, "Redirects to the operator console."),
    route!(Get "/cp/{*path}", Public, ConsoleAsset, None, 0, "The operator console's files."),
    route!(Get "/api/health", Public, Health, None, 0, "Whether the service and its database answer."),
    route!(Get "/openapi.json", Public, OpenApi, None, 0, "This API's OpenAPI 3.1 document."),
    // Ingest: signed (gateway) or bearer (control plane).
    route!(Post "/internal/funnel-events/ingest", SignedOrKey, Ingest, None, MAX_BODY_BYTES, "Validates, fingerprints, de-duplicates and stores a batch of events; answers per event."),
    route!(Post "/api/events", SignedOrKey, Ingest, None, MAX_BODY_BYTES, "The same as /internal/funnel-events/ingest (the ops console's name for it)."),
    // Browser collection: a web page's events, with a publishable key (public, per site).
    route!(Post "/collect", Publishable, Collect, Some(&["key"]), COLLECT_MAX_BODY, "Browser-safe events from a web page of a listed origin (sendBeacon or fetch); the same validation, scrubbing, sampling and answer as ingest; rate-limited per IP and per site."),
    route!(Options "/collect", Publishable, CollectPreflight, Some(&["key"]), 0, "The CORS preflight of /collect: 204 with CORS headers for a listed origin, 403 otherwise."),
    // Reads.
    route!(Get "/internal/funnel-events", Key(Read), ListEvents, Some(LIST_PARAMS), 0, "One page of events, newest first, with every filter and an opaque cursor."),
    route!(Get "/internal/funnel-events/export", Key(Read), ExportEvents, Some(EXPORT_PARAMS), 0, "Every event of the filter as CSV (or GA4 Measurement Protocol payloads), streamed."),
    route!(Get "/internal/funnel-events/summary", Key(Read), Summary, Some(&["from", "to", "tz", "bucket"]), 0, "The catalog's KPIs and zero-filled daily counts per event type."),
    route!(Get "/internal/trace/{trace_id}", Key(Read), Trace, None, 0, "One trace's chain of events, oldest first."),
    route!(Get "/internal/funnels", Key(Read), FunnelList, None, 0, "The declared funnels."),
    route!(Get "/internal/funnels/{name}", Key(Read), Funnel, Some(&["from", "to", "tz", "by"]), 0, "One funnel counted over a range: steps, conversion, drop-off; split by `by` when given."),
    route!(Get "/internal/catalog", Key(Read), Catalog, Some(RANGE), 0, "Every event type with live stats; the KPIs, funnels and limits."),
    route!(Get "/api/overview", Key(Read), Overview, Some(&["from", "to", "tz", "bucket"]), 0, "The ops console's overview: totals, revenue, services, timeline (by day, or by hour), recent events."),
    route!(Get "/internal/quarantine", Key(Read), QuarantineList, Some(QUARANTINE_PARAMS), 0, "Rejected events with their reasons, newest first."),
    route!(Post "/internal/quarantine/replay", Key(Admin), QuarantineReplay, Some(&["limit"]), 0, "Re-validates pending quarantined events against today's catalog and stores those that pass."),
    // Monthly usage and quotas.
    route!(Get "/internal/usage", Key(Read), UsageOfUser, Some(&["user_id", "month"]), 0, "One user's monthly usage per action: used, limit, remaining."),
    route!(Get "/internal/usage/over-quota", Key(Read), UsageOverQuota, Some(&["month"]), 0, "Users at their monthly limit."),
    route!(Get "/internal/usage/summary", Key(Read), UsageSummary, Some(&["month"]), 0, "Per-action monthly totals."),
    route!(Get "/internal/usage/months", Key(Read), UsageHistory, Some(&["from_month", "to_month", "user_id"]), 0, "Usage per month over a range of at most 12 months: one user's, or every action's totals."),
    route!(Get "/internal/quotas", Key(Read), Quotas, Some(&[]), 0, "Plans, limits and overrides."),
    route!(Put "/internal/quotas/overrides", Key(Admin), PutOverride, None, OVERRIDE_MAX_BODY, "Sets a user's or tenant's monthly limit of an action."),
    route!(Delete "/internal/quotas/overrides", Key(Admin), DeleteOverride, Some(&["subject_kind", "subject_id", "action"]), 0, "Removes an override."),
    // Alerts: incidents the every-minute cron opened and resolved.
    route!(Get "/internal/alerts", Key(Read), Alerts, Some(&[]), 0, "Open alert incidents, those resolved in the last 7 days, and the declared rules."),
    // Privacy: the access log, erasure, and what a key may do.
    route!(Get "/internal/audit", Key(Admin), Audit, Some(AUDIT_PARAMS), 0, "The access log: who looked up whom, exported, or changed what; newest first."),
    route!(Post "/internal/erasure", Key(Admin), Erasure, None, ERASURE_MAX_BODY, "Erases one person's events and quarantined copies (by email, fingerprint or user id), optionally suppressing their future events; returns a receipt."),
    route!(Get "/internal/erasure/{id}", Key(Admin), ErasureProgress, None, 0, "An erasure's receipt and progress."),
    route!(Get "/internal/whoami", AnyKey, WhoAmI, Some(&[]), 0, "The calling key's name, role and the routes it may call."),
    route!(Post "/internal/pii-sweep", Key(Admin), PiiSweep, Some(&[]), 0, "Runs a step of the PII sweep over rows stored before scrubbing (the cron runs one daily)."),
    route!(Post "/internal/sketches/rebuild", Key(Admin), SketchRebuild, Some(&["after_id"]), 0, "Runs a step of rebuilding the distinct-count sketches from the stored rows (after an upgrade, or rows written around ingest)."),
    // The archive of expired events (R2), as analysts' tools read it.
    route!(Get "/internal/archive/hours", Key(Read), ArchiveHours, Some(RANGE), 0, "The archived hours of a range with each object's key, row count, size and SHA-256, newest first."),
    route!(Get "/internal/archive/hours/{hour}", Key(Read), ArchiveObject, Some(&[]), 0, "One archived hour's object (gzip NDJSON, one event per line), verified against its manifest."),
    route!(Post "/internal/dead-letter/replay", Key(Admin), DeadLetterReplay, Some(&["after"]), 0, "Delivers the ingest queue's dead letters kept in the archive again (up to 20 a call) and removes those now stored."),
    // The ingest benchmark's references (see bench/).
    route!(Post "/bench/floor", Bench, BenchFloor, None, 8 * MAX_BODY_BYTES, "Benchmark only: stores prepared rows with no checks."),
    route!(Post "/bench/discard", Bench, BenchDiscard, None, MAX_BODY_BYTES, "Benchmark only: everything ingest does but the database write."),
];

/// The outcome of matching a request against [`ROUTES`].
#[derive(Debug)]
pub enum Match {
    Found(&'static Route, Vec<(&'static str, String)>),
    /// The path exists, with other methods.
    WrongMethod,
    NotFound,
}

/// The route for `method` and `path` (percent-encoded, as received), with its path parameters.
pub fn find(method: Method, path: &str) -> Match {
    let mut path_known = false;
    for route in ROUTES {
        if let Some(captures) = match_path(route.path, path) {
            if route.method == method {
                return Match::Found(route, captures);
            }
            path_known = true;
        }
    }
    if path_known {
        Match::WrongMethod
    } else {
        Match::NotFound
    }
}

/// Whether `path` is a route of browser collection (whatever the method): every
/// answer there, refusals before any route ran included, carries its CORS headers.
pub fn is_publishable_path(path: &str) -> bool {
    ROUTES
        .iter()
        .any(|r| r.access == Access::Publishable && match_path(r.path, path).is_some())
}

fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut captures = Vec::new();
    let mut parts = path.split('/');
    for want in template.split('/') {
        if let Some(name) = want.strip_prefix("{*").and_then(|w| w.strip_suffix('}')) {
            let rest: Vec<&str> = parts.by_ref().collect();
            captures.push((name, rest.join("/")));
            return Some(captures);
        }
        let got = parts.next()?;
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if !got.is_empty() => captures.push((name, got.to_string())),
            Some(_) => return None,
            None if want == got => {}
            None => return None,
        }
    }
    parts.next().is_none().then_some(captures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_templates_with_captured_segments() {
        let Match::Found(route, captures) = find(Method::Get, "/internal/trace/trace_abc") else {
            panic!("trace route not found");
        };
        assert_eq!(route.endpoint, Endpoint::Trace);
        assert_eq!(captures, vec![("trace_id", "trace_abc".to_string())]);
        let Match::Found(route, captures) = find(Method::Get, "/cp/auth-commerce-funnel/app.js") else {
            panic!("asset route not found");
        };
        assert_eq!(route.endpoint, Endpoint::ConsoleAsset);
        assert_eq!(captures[0].1, "auth-commerce-funnel/app.js");
    }

    #[test]
    fn a_known_path_with_another_method_is_405_and_an_unknown_one_404() {
        assert!(matches!(
            find(Method::Delete, "/internal/funnel-events"),
            Match::WrongMethod
        ));
        assert!(matches!(find(Method::Get, "/internal/nothing"), Match::NotFound));
        assert!(matches!(find(Method::Get, "/internal/trace/"), Match::NotFound));
        assert!(matches!(
            find(Method::Get, "/internal/funnel-events/summary/extra"),
            Match::NotFound
        ));
    }

    #[test]
    fn every_write_but_ingest_needs_an_admin_key_and_every_read_a_read_key_but_the_privacy_records() {
        for r in ROUTES {
            if let Access::Key(role) = r.access {
                let admin_only =
                    r.method != Method::Get || matches!(r.endpoint, Endpoint::Audit | Endpoint::ErasureProgress);
                assert_eq!(role == Role::Admin, admin_only, "{} {}", r.method.as_str(), r.path);
            }
        }
    }

    #[test]
    fn only_the_collect_routes_take_a_publishable_key_and_they_take_nothing_else() {
        for r in ROUTES {
            assert_eq!(
                r.access == Access::Publishable,
                matches!(r.endpoint, Endpoint::Collect | Endpoint::CollectPreflight),
                "{} {}",
                r.method.as_str(),
                r.path
            );
        }
        assert!(matches!(find(Method::Options, "/collect"), Match::Found(..)));
        assert!(matches!(
            find(Method::Options, "/internal/funnel-events"),
            Match::WrongMethod
        ));
    }

    #[test]
    fn every_route_is_unique_and_every_non_public_one_is_under_a_worker_first_prefix() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} twice", a.path);
            }
            assert!(
                [
                    "/",
                    "/cp/",
                    "/api/",
                    "/internal/",
                    "/bench/",
                    "/openapi.json",
                    "/collect"
                ]
                .iter()
                .any(|p| a.path == *p || a.path.starts_with(p)),
                "{} is not routed to the worker by wrangler.toml",
                a.path
            );
        }
    }

    #[test]
    fn only_routes_that_read_a_body_declare_a_body_limit() {
        for r in ROUTES {
            let reads_body = matches!(r.method, Method::Post | Method::Put)
                && !matches!(
                    r.endpoint,
                    Endpoint::QuarantineReplay
                        | Endpoint::PiiSweep
                        | Endpoint::SketchRebuild
                        | Endpoint::DeadLetterReplay
                );
            assert_eq!(r.max_body > 0, reads_body, "{} {}", r.method.as_str(), r.path);
        }
    }
}
