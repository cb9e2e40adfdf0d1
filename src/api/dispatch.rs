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
use crate::security;
use crate::store::EventStore;
use crate::usecases::{self, ingest::Sink};

/// Where the console lives; `/` leads there.
pub const CONSOLE_PATH: &str = "/cp/auth-commerce-funnel/";

/// What a request runs against.
pub struct App<S> {
    pub store: S,
    /// `None` when the deployment's configuration is broken (the shell has
    /// logged why): routes that need it answer 500 `misconfigured`.
    pub config: Option<Config>,
    pub now: DateTime<Utc>,
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
        Ok(()) => run(app, route, captures, req).await,
        Err(e) => Err(e),
    };
    finish(reply.unwrap_or_else(|e| Reply::problem(&e)))
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

/// The route's access rule, before any of its work.
fn guard<S>(app: &App<S>, route: &Route, req: &ApiRequest) -> AppResult<()> {
    match route.access {
        Access::Public | Access::SignedOrKey => Ok(()),
        Access::Key => {
            security::authenticate_internal(req.header("authorization"), app.config()?).map_err(AppError::Unauthorized)
        }
        Access::Bench if app.config.as_ref().is_some_and(|c| c.bench_routes) && req.is_loopback() => Ok(()),
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
) -> AppResult<Reply> {
    use usecases::*;
    let (store, now) = (&app.store, app.now);
    let p = params(route, req)?;
    match route.endpoint {
        Endpoint::ConsoleRoot => Ok(Reply::redirect(CONSOLE_PATH)),
        Endpoint::ConsoleAsset => Ok(Reply {
            status: 200,
            headers: Vec::new(),
            body: Body::Asset,
        }),
        Endpoint::Health => ok(&health::check(store, now).await?),
        Endpoint::OpenApi => Ok(Reply::json(200, &super::openapi::document())),
        Endpoint::Ingest | Endpoint::BenchDiscard => {
            let sink = if route.endpoint == Endpoint::Ingest {
                Sink::Store
            } else {
                Sink::Discard
            };
            let input = ingest::IngestRequest {
                signature: req.header(crate::security::signature::HEADER),
                authorization: req.header("authorization"),
                content_type: req.header("content-type"),
                trace_header: req.header("x-trace-id"),
                body: &req.body,
            };
            let answer = ingest::ingest(store, app.config()?, input, now, sink, &mut ingest::random_event_id).await?;
            let content_type = if answer.response.is_problem {
                PROBLEM_CONTENT_TYPE
            } else {
                "application/json"
            };
            let reply = Reply::serialized(answer.response.status, content_type, &answer.response.body);
            // Echoed only after it passed the trace rule.
            Ok(match answer.trace_id {
                Some(trace) => reply.with_header("x-trace-id", trace),
                None => reply,
            })
        }
        Endpoint::ListEvents => ok(&events::list(store, app.config()?, &p, now).await?),
        Endpoint::ExportEvents => {
            let plan = events::export(store, app.config()?, &p, now).await?;
            let disposition = format!("attachment; filename=\"{}\"", plan.format.filename());
            Ok(Reply {
                status: 200,
                headers: vec![
                    ("content-type", plan.format.content_type().to_string()),
                    ("content-disposition", disposition),
                ],
                body: Body::Export(Box::new(plan)),
            })
        }
        Endpoint::Summary => ok(&summary::summary(store, &p, now).await?),
        Endpoint::Trace => ok(&trace::timeline(store, capture(captures, "trace_id")).await?),
        Endpoint::FunnelList => ok(&funnels::list()),
        Endpoint::Funnel => ok(&funnels::count(store, capture(captures, "name"), &p, now).await?),
        Endpoint::Catalog => ok(&catalog::catalog(store, &p, now).await?),
        Endpoint::Overview => ok(&overview::overview(store, &p, now).await?),
        Endpoint::QuarantineList => ok(&quarantine::list(store, app.config()?, &p, now).await?),
        Endpoint::QuarantineReplay => ok(&quarantine::replay(store, app.config()?, &p, now).await?),
        Endpoint::UsageOfUser => ok(&usage::of_user(store, &p, now).await?),
        Endpoint::UsageOverQuota => ok(&usage::over_quota(store, &p, now).await?),
        Endpoint::UsageSummary => ok(&usage::summary(store, &p, now).await?),
        Endpoint::Quotas => ok(&usage::quotas(store).await?),
        Endpoint::PutOverride => ok(&usage::set_override(store, req.header("content-type"), &req.body, now).await?),
        Endpoint::DeleteOverride => ok(&usage::delete_override(store, &p).await?),
        Endpoint::BenchFloor => ok(&bench::floor(store, &req.body).await?),
    }
}

/// A 200 with a JSON body.
fn ok<T: serde::Serialize>(body: &T) -> AppResult<Reply> {
    Ok(Reply::json(200, body))
}
