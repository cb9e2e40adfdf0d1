//! One request through the core: find the route, check its access rule,
//! read its parameters, run its use case, answer. Every error leaves as a
//! problem+json here; internal causes are logged, never sent.

use chrono::{DateTime, Utc};

use super::reply::{Body, Reply, SECURITY_HEADERS};
use super::request::{ApiRequest, Method};
use super::routes::{self, Access, Endpoint, Match, Route};
use crate::config::Config;
use crate::error::{AppError, AppResult, PROBLEM_CONTENT_TYPE};
use crate::query::params::Params;
use crate::ratelimit::RateLimiter;
use crate::security::{self, keys::KeyIdentity};
use crate::spool::Spool;
use crate::store::EventStore;
use crate::usecases::{self, audit, ingest::Sink};

/// Where the console lives; `/` leads there.
pub const CONSOLE_PATH: &str = "/cp/auth-commerce-funnel/";

/// What a request runs against.
pub struct App<S> {
    pub store: S,
    /// `None` when the deployment's configuration is broken (the shell has
    /// logged why): routes that need it answer 500 `misconfigured`.
    pub config: Option<Config>,
    pub now: DateTime<Utc>,
    /// The queue behind ingest (`None`: no queue bound, a D1 outage is a 503).
    pub spool: Option<Box<dyn Spool>>,
    /// The rate limit of browser collection (`None`: no binding, no limit).
    pub limiter: Option<Box<dyn RateLimiter>>,
    /// The archive bucket (`None`: none bound; retention deletes nothing, and
    /// an export over archived hours answers 503 `archive_unavailable`).
    pub archive: Option<std::rc::Rc<dyn crate::archive::ArchiveStore>>,
}

impl<S> App<S> {
    fn config(&self) -> AppResult<&Config> {
        self.config.as_ref().ok_or(AppError::Misconfigured)
    }
}

/// The route for a request, or the problem to answer.
pub fn route(method: Method, path: &str) -> AppResult<(&'static Route, Vec<(&'static str, String)>)> {
    match routes::find(method, path) {
        Match::Found(route, captures) => Ok((route, captures)),
        Match::WrongMethod => Err(AppError::MethodNotAllowed),
        Match::NotFound => Err(AppError::NotFound),
    }
}

/// Checks a body against the route's limit: the declared length before
/// reading, the real length after.
pub fn check_body_size(route: &Route, declared: Option<&str>, actual: Option<usize>) -> AppResult<()> {
    let too_large = AppError::PayloadTooLarge {
        limit_bytes: route.max_body,
    };
    if declared
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > route.max_body as u64)
    {
        return Err(too_large);
    }
    if actual.is_some_and(|n| n > route.max_body) {
        return Err(too_large);
    }
    Ok(())
}

/// Answers a request (the body already read within the route's limit).
pub async fn handle<S: EventStore>(
    app: &App<S>,
    route: &Route,
    captures: &[(&'static str, String)],
    req: &ApiRequest,
) -> Reply {
    let reply = match guard(app, route, req) {
        Ok(key) => answer(app, route, captures, req, key.as_ref()).await,
        Err(e) => Err(e),
    };
    let reply = reply.map_err(|e| match e {
        // A read never says "nothing was stored": it stored nothing to begin with.
        AppError::StorageUnavailable if route.method == Method::Get => AppError::StorageUnavailableForRead,
        e => e,
    });
    let reply = reply.unwrap_or_else(|e| Reply::problem(&e));
    respond(app.config.as_ref(), req, reply)
}

/// Every answer leaves through here, whether its route ran or the request was
/// refused before (unknown method, wrong method, body too large or unreadable):
/// the security headers, and on browser collection's path the CORS headers,
/// so a page can read every refusal meant for it.
pub fn respond(config: Option<&Config>, req: &ApiRequest, reply: Reply) -> Reply {
    let reply = if routes::is_publishable_path(&req.path) {
        with_cors(config, req, reply)
    } else {
        reply
    };
    finish(reply)
}

/// A problem answered before (or instead of) the route: see [`respond`].
pub fn refuse_request(config: Option<&Config>, req: &ApiRequest, err: &AppError) -> Reply {
    respond(config, req, Reply::problem(err))
}

/// A collect answer (success or problem) readable by the page only when its
/// origin is one the presented key lists; `Vary: Origin` either way, since
/// the answer depends on it.
fn with_cors(config: Option<&Config>, req: &ApiRequest, reply: Reply) -> Reply {
    let origin = req.header("origin");
    let keys = publishable_keys(req);
    // Two `key` parameters are refused (400 `repeated_parameter`); that answer
    // is readable only when every key given lists the origin.
    let allowed = config.is_some_and(|c| {
        !keys.is_empty()
            && keys
                .iter()
                .all(|key| usecases::collect::admit(c, Some(key), origin).is_ok())
    });
    let reply = reply.with_header("vary", "Origin");
    match origin {
        Some(origin) if allowed => reply.with_header("access-control-allow-origin", origin),
        _ => reply,
    }
}

/// Every `key` query parameter (a beacon cannot send headers), trimmed as
/// [`Params::get`] reads it.
fn publishable_keys(req: &ApiRequest) -> Vec<&str> {
    req.query
        .iter()
        .filter(|(k, _)| k == "key")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Runs the use case and, when the route names a person or changes
/// something, appends its access-log entry. No entry, no answer: if the log
/// cannot be written, the caller gets a 503 instead of the data.
async fn answer<S: EventStore>(
    app: &App<S>,
    route: &Route,
    captures: &[(&'static str, String)],
    req: &ApiRequest,
    key: Option<&KeyIdentity>,
) -> AppResult<Reply> {
    let (reply, audited) = run(app, route, captures, req, key).await?;
    if let (Some(key), Some(a)) = (key, audited) {
        let name = format!("{} {}", route.method.as_str().to_ascii_uppercase(), route.path);
        let entry = audit::entry(app.now, &key.name, name, a.lookup, a.rows);
        app.store.append_audit(&entry).await?;
    }
    Ok(reply)
}

/// What the access log records of a request.
struct Audited {
    lookup: audit::Lookup,
    rows: Option<i64>,
}

fn audited(kind: &'static str, subject: Option<String>, rows: Option<i64>) -> Option<Audited> {
    Some(Audited {
        lookup: audit::Lookup { kind, subject },
        rows,
    })
}

/// Answers a request that matched no route, or failed before reaching one.
pub fn refuse(err: &AppError) -> Reply {
    finish(Reply::problem(err))
}

fn finish(mut reply: Reply) -> Reply {
    for (name, value) in SECURITY_HEADERS {
        reply.headers.push((name, value.to_string()));
    }
    reply
}

/// The route's access rule, before any of its work: the caller's key when
/// the route needs one.
fn guard<S>(app: &App<S>, route: &Route, req: &ApiRequest) -> AppResult<Option<KeyIdentity>> {
    match route.access {
        Access::Public | Access::SignedOrKey | Access::Publishable => Ok(None),
        Access::AnyKey => security::authenticate_key(req.header("authorization"), app.config()?)
            .map(Some)
            .map_err(AppError::Unauthorized),
        Access::Key(needed) => {
            let key = security::authenticate_key(req.header("authorization"), app.config()?)
                .map_err(AppError::Unauthorized)?;
            key.require(needed)?;
            Ok(Some(key))
        }
        Access::Bench if app.config.as_ref().is_some_and(|c| c.bench_routes) && req.is_loopback() => Ok(None),
        Access::Bench => Err(AppError::NotFound),
    }
}

fn params(route: &Route, req: &ApiRequest) -> AppResult<Params> {
    match route.params {
        Some(known) => Params::parse(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())), known),
        None => Ok(Params::default()),
    }
}

fn capture<'a>(captures: &'a [(&'static str, String)], name: &str) -> &'a str {
    captures
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn run<S: EventStore>(
    app: &App<S>,
    route: &Route,
    captures: &[(&'static str, String)],
    req: &ApiRequest,
    key: Option<&KeyIdentity>,
) -> AppResult<(Reply, Option<Audited>)> {
    use usecases::*;
    let (store, now) = (&app.store, app.now);
    let p = params(route, req)?;
    let key_name = key.map_or("", |k| k.name.as_str());
    let fingerprint_key = || app.config().map(|c| c.email_fingerprint_key.as_bytes());
    // A list or export that names a person (by address, fingerprint, trace or user).
    let person = || fingerprint_key().ok().and_then(|k| audit::lookup_of_filter(&p, k));
    Ok(match route.endpoint {
        Endpoint::ConsoleRoot => (Reply::redirect(CONSOLE_PATH), None),
        Endpoint::ConsoleAsset => (
            Reply {
                status: 200,
                headers: Vec::new(),
                body: Body::Asset,
            },
            None,
        ),
        Endpoint::Health => (ok(&health::check(store, now).await?), None),
        Endpoint::OpenApi => (Reply::json(200, &super::openapi::document()), None),
        Endpoint::Ingest => (ingest_reply(app, req, Sink::Store).await?, None),
        Endpoint::BenchDiscard => (ingest_reply(app, req, Sink::Discard).await?, None),
        Endpoint::ListEvents => {
            let page = events::list(store, app.config()?, &p, now).await?;
            let rows = Some(page.events.len() as i64);
            let audit = person().map(|l| Audited { lookup: l, rows });
            (ok(&page), audit)
        }
        Endpoint::ExportEvents => {
            let plan = events::export(store, app.archive.clone(), app.config()?, &p, now).await?;
            let disposition = format!("attachment; filename=\"{}\"", plan.format.filename());
            let mut headers = vec![
                ("content-type", plan.format.content_type().to_string()),
                ("content-disposition", disposition),
            ];
            // More than one request returns: where the next one continues (D1's
            // rows first, by cursor; then older archived hours).
            if let Some(cursor) = &plan.next_cursor {
                headers.push(("x-export-next-cursor", cursor.clone()));
            }
            if let Some(hour) = &plan.next_archived_before {
                headers.push(("x-export-next-archived-before", hour.clone()));
            }
            let reply = Reply {
                status: 200,
                headers,
                body: Body::Export(Box::new(plan)),
            };
            // Every export is logged, with the person it names when it names one.
            (reply, audited("export", person().and_then(|l| l.subject), None))
        }
        Endpoint::Summary => (ok(&summary::summary(store, &p, now).await?), None),
        Endpoint::Trace => {
            let timeline = trace::timeline(store, capture(captures, "trace_id"), &app.config()?.links).await?;
            let audit = audited(
                "trace",
                Some(timeline.trace_id.clone()),
                Some(timeline.events.len() as i64),
            );
            (ok(&timeline), audit)
        }
        Endpoint::FunnelList => (ok(&funnels::list()), None),
        Endpoint::Funnel => (
            ok(&funnels::count(store, capture(captures, "name"), &p, now).await?),
            None,
        ),
        Endpoint::Catalog => (ok(&catalog::catalog(store, &p, now).await?), None),
        Endpoint::Overview => (
            ok(&overview::overview(store, &p, &app.config()?.links, now).await?),
            None,
        ),
        Endpoint::QuarantineList => {
            let page = quarantine::list(store, app.config()?, &p, now).await?;
            let rows = Some(page.events.len() as i64);
            let audit = person().map(|l| Audited { lookup: l, rows });
            (ok(&page), audit)
        }
        Endpoint::QuarantineReplay => {
            let outcome = quarantine::replay(store, app.config()?, &p, now).await?;
            let audit = audited("replay", None, Some(outcome.replayed as i64));
            (ok(&outcome), audit)
        }
        Endpoint::UsageOfUser => {
            let usage = usage::of_user(store, &p, now).await?;
            let audit = audited("user_id", Some(usage.user_id.clone()), Some(usage.actions.len() as i64));
            (ok(&usage), audit)
        }
        Endpoint::UsageOverQuota => (ok(&usage::over_quota(store, &p, now).await?), None),
        Endpoint::UsageSummary => (ok(&usage::summary(store, &p, now).await?), None),
        Endpoint::UsageHistory => {
            let history = usage::history(store, &p, now).await?;
            let audit = history
                .user_id
                .clone()
                .map(|user| audited("user_id", Some(user), Some(history.months.len() as i64)));
            (ok(&history), audit.flatten())
        }
        Endpoint::Quotas => (ok(&usage::quotas(store).await?), None),
        Endpoint::PutOverride => {
            let set = usage::set_override(store, req.header("content-type"), &req.body, now).await?;
            let audit = audited("override", Some(set.value.subject_id.clone()), Some(1));
            (ok(&set), audit)
        }
        Endpoint::DeleteOverride => {
            let deleted = usage::delete_override(store, &p).await?;
            let audit = audited(
                "override",
                p.get("subject_id").map(str::to_string),
                Some(i64::from(deleted.deleted)),
            );
            (ok(&deleted), audit)
        }
        Endpoint::Alerts => {
            let webhooks = app.config()?.alert_webhooks.urls.len();
            (ok(&alerts::list(store, webhooks, now).await?), None)
        }
        Endpoint::Audit => (ok(&audit::list(store, app.config()?, &p, now).await?), None),
        Endpoint::Erasure => {
            let receipt = erasure::request(
                store,
                app.archive.as_deref(),
                fingerprint_key()?,
                key_name,
                req.header("content-type"),
                &req.body,
                now,
                &mut erasure::random_erasure_id,
            )
            .await?;
            let e = &receipt.erasure;
            let audit = audited(
                "erasure",
                Some(e.subject.clone()),
                Some(e.events_deleted + e.quarantine_deleted + e.archived_deleted),
            );
            (ok(&receipt), audit)
        }
        Endpoint::ErasureProgress => (ok(&erasure::progress(store, capture(captures, "id")).await?), None),
        Endpoint::WhoAmI => (ok(&super::access::who_am_i(key)), None),
        Endpoint::PiiSweep => {
            let step = sweep::step(store, now).await?;
            (ok(&step), audited("sweep", None, Some(step.changed)))
        }
        Endpoint::SketchRebuild => {
            let step = sketches::rebuild_route(store, &p).await?;
            (ok(&step), audited("sketch_rebuild", None, Some(step.rows as i64)))
        }
        Endpoint::DeadLetterReplay => {
            let outcome = dead_letter::replay(store, app.archive.as_deref(), &p, now).await?;
            let audit = audited("replay", None, Some(outcome.inserted as i64));
            (ok(&outcome), audit)
        }
        Endpoint::ArchiveHours => (ok(&archive::list(store, &p, now).await?), None),
        Endpoint::ArchiveObject => {
            let (bytes, manifest) = archive::object(store, app.archive.as_deref(), capture(captures, "hour")).await?;
            let filename = manifest.object_key.replace('/', "-");
            let reply = Reply {
                status: 200,
                headers: vec![
                    ("content-type", crate::archive::hour::OBJECT_CONTENT_TYPE.to_string()),
                    ("content-disposition", format!("attachment; filename=\"{filename}\"")),
                    ("x-archive-rows", manifest.rows.to_string()),
                    ("x-archive-sha256", manifest.sha256.clone()),
                ],
                body: Body::Bytes(bytes),
            };
            // A download of archived events is an export.
            (reply, audited("export", None, Some(manifest.rows)))
        }
        Endpoint::BenchFloor => (ok(&bench::floor(store, &req.body).await?), None),
        Endpoint::Collect => (collect_reply(app, req, p.get("key")).await?, None),
        Endpoint::CollectPreflight => {
            collect::admit(app.config()?, p.get("key"), req.header("origin"))?;
            let reply = Reply {
                status: 204,
                headers: vec![
                    ("access-control-allow-methods", "POST".to_string()),
                    ("access-control-allow-headers", "content-type".to_string()),
                    ("access-control-max-age", collect::PREFLIGHT_MAX_AGE_SECONDS.to_string()),
                ],
                body: Body::Bytes(Vec::new()),
            };
            (reply, None)
        }
    })
}

/// Ingest's answer: per-event results, a problem when every event failed,
/// and the request's trace id echoed once it passed the trace rule.
async fn ingest_reply<S: EventStore>(app: &App<S>, req: &ApiRequest, sink: Sink) -> AppResult<Reply> {
    use usecases::ingest;
    let input = ingest::IngestRequest {
        signature: req.header(crate::security::signature::HEADER),
        authorization: req.header("authorization"),
        content_type: req.header("content-type"),
        trace_header: req.header("x-trace-id"),
        body: &req.body,
    };
    let answer = ingest::ingest(
        &app.store,
        app.spool.as_deref(),
        app.config()?,
        input,
        app.now,
        sink,
        &mut ingest::random_event_id,
    )
    .await?;
    let reply = batch_reply(&answer.response);
    Ok(match answer.trace_id {
        Some(trace) => reply.with_header("x-trace-id", trace),
        None => reply,
    })
}

/// Browser collection's answer: as ingest's (per-event results, a problem
/// when every event failed), no trace header (a page sends none).
async fn collect_reply<S: EventStore>(app: &App<S>, req: &ApiRequest, key: Option<&str>) -> AppResult<Reply> {
    use usecases::collect;
    let input = collect::CollectRequest {
        key,
        origin: req.header("origin"),
        client_ip: req.header("cf-connecting-ip"),
        content_type: req.header("content-type"),
        body: &req.body,
    };
    let answer = collect::collect(
        &app.store,
        app.spool.as_deref(),
        app.limiter.as_deref(),
        app.config()?,
        input,
        app.now,
        &mut usecases::ingest::random_event_id,
    )
    .await?;
    Ok(batch_reply(&answer.response))
}

/// A batch's per-event answer: problem+json when every event failed, JSON otherwise.
fn batch_reply(response: &crate::ingest::batch::IngestResponse) -> Reply {
    let content_type = if response.is_problem {
        PROBLEM_CONTENT_TYPE
    } else {
        "application/json"
    };
    Reply::serialized(response.status, content_type, &response.body)
}

/// A 200 with a JSON body.
fn ok<T: serde::Serialize>(body: &T) -> Reply {
    Reply::json(200, body)
}
