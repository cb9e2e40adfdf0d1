//! HTTP in and out: the platform's request as an [`ApiRequest`], the core's
//! [`Reply`] as a response (bytes, a streamed export, or a console file).

use chrono::Utc;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use worker::{console_error, Env, Headers, Request, Response, Result};

use super::d1::D1Backend;
use super::env;
use crate::api::dispatch::{self, refuse};
use crate::api::reply::{Body, Reply, CONSOLE_CSP};
use crate::api::session::{session_start, BOOKMARK_HEADER};
use crate::api::{ApiRequest, App, Method};
use crate::config::Config;
use crate::error::AppError;
use crate::storage::SqlStore;
use crate::usecases::events::{export_next, ExportPlan};

/// The core's view of a request, its body not yet read.
pub fn request_of(req: &Request) -> Result<ApiRequest> {
    let url = req.url()?;
    Ok(ApiRequest {
        path: url.path().to_string(),
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: req.headers().entries().collect(),
        body: Vec::new(),
        host: url.host_str().map(str::to_string),
    })
}

/// Answers `req` (`api_req` is [`request_of`] it; the body is read into it).
pub async fn serve(mut req: Request, api_req: &mut ApiRequest, config: Option<Config>, env: &Env) -> Result<Response> {
    // Every refusal before the route runs goes through the same finishing as
    // the route's own answers (CORS on /collect included).
    let refused = |e: AppError, api_req: &ApiRequest| dispatch::refuse_request(config.as_ref(), api_req, &e);
    let Some(method) = Method::parse(req.method().as_ref()) else {
        return into_response(refused(AppError::MethodNotAllowed, api_req), None, env).await;
    };
    let (route, captures) = match dispatch::route(method, &api_req.path) {
        Ok(found) => found,
        Err(e) => return into_response(refused(e, api_req), None, env).await,
    };
    if route.max_body > 0 {
        // The declared length first: a too-large body is refused unread.
        if let Err(e) = dispatch::check_body_size(route, api_req.header("content-length"), None) {
            return into_response(refused(e, api_req), None, env).await;
        }
        let body = match req.bytes().await {
            Ok(body) => body,
            Err(_) => {
                let e = AppError::InvalidBody("The body could not be read.".into());
                return into_response(refused(e, api_req), None, env).await;
            }
        };
        if let Err(e) = dispatch::check_body_size(route, None, Some(body.len())) {
            return into_response(refused(e, api_req), None, env).await;
        }
        api_req.body = body;
    }
    // The D1 session: a malformed bookmark is refused before anything runs.
    let store = match session_start(route, api_req.header(BOOKMARK_HEADER))
        .and_then(|start| env::store_in_session(env, &start))
    {
        Ok(store) => store,
        Err(e) => return into_response(refused(e, api_req), None, env).await,
    };
    let app = App {
        store,
        config,
        now: Utc::now(),
        spool: super::queue::spool(env),
        limiter: super::ratelimit::limiter(env),
        archive: super::archive::bucket(env),
    };
    let mut reply = crate::api::handle(&app, route, &captures, api_req).await;
    if let Some(bookmark) = app.store.backend().bookmark() {
        reply.headers.push((BOOKMARK_HEADER, bookmark));
    }
    into_response(reply, Some((app.store, req)), env).await
}

fn headers_of(reply: &Reply) -> Result<Headers> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    Ok(headers)
}

/// The reply as the platform's response. `source` (the store and the
/// original request) is needed only by streamed exports and console files.
pub async fn into_response(
    mut reply: Reply,
    source: Option<(SqlStore<D1Backend>, Request)>,
    env: &Env,
) -> Result<Response> {
    let headers = headers_of(&reply)?;
    let body = std::mem::replace(&mut reply.body, Body::Bytes(Vec::new()));
    match (body, source) {
        (Body::Bytes(bytes), _) => Ok(Response::from_bytes(bytes)?
            .with_status(reply.status)
            .with_headers(headers)),
        (Body::Export(plan), Some((store, _))) => Ok(Response::from_stream(export_stream(store, *plan))?
            .with_status(reply.status)
            .with_headers(headers)),
        (Body::Asset, Some((_, req))) => console_file(req, env, headers).await,
        // A streamed body without its source: cannot happen; answer a plain 500.
        (_, None) => Box::pin(into_response(refuse(&AppError::Internal), None, env)).await,
    }
}

/// The export's body: the first chunk (already read), then one page per
/// pull, never more than one page in memory.
fn export_stream(
    store: SqlStore<D1Backend>,
    mut plan: ExportPlan,
) -> impl futures_util::Stream<Item = Result<Vec<u8>>> {
    let first = std::mem::take(&mut plan.first);
    let rest = stream::try_unfold(Some((store, plan)), |state| async move {
        let Some((store, mut plan)) = state else {
            return Ok(None);
        };
        match export_next(&store, &mut plan).await {
            Ok(Some(chunk)) => Ok(Some((chunk, Some((store, plan))))),
            Ok(None) => Ok(None),
            Err(e) => {
                console_error!("export stopped: {e:?}");
                Err(worker::Error::RustError("export stopped: storage unavailable".into()))
            }
        }
    });
    stream::once(async move { Ok::<Vec<u8>, worker::Error>(first) }).chain(rest.into_stream())
}

/// A file of the console from the asset binding, with the console's CSP.
async fn console_file(req: Request, env: &Env, headers: Headers) -> Result<Response> {
    let assets = match env.assets(env::ASSETS_BINDING) {
        Ok(a) => a,
        Err(e) => {
            console_error!("asset binding unavailable: {e}");
            return Box::pin(into_response(refuse(&AppError::Misconfigured), None, env)).await;
        }
    };
    let mut fetched = assets.fetch_request(req).await?;
    let status = fetched.status_code();
    if status == 404 {
        return Box::pin(into_response(refuse(&AppError::NotFound), None, env)).await;
    }
    // Responses from a binding have immutable headers: copy into the new ones.
    for name in ["content-type", "etag", "last-modified", "location"] {
        if let Some(v) = fetched.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    headers.set("content-security-policy", CONSOLE_CSP)?;
    headers.set("x-frame-options", "DENY")?;
    let body = fetched.bytes().await?;
    Ok(Response::from_bytes(body)?.with_status(status).with_headers(headers))
}
