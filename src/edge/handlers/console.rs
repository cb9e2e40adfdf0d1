//! The operator console: `/` leads to it, and its static files (served from
//! `admin-ui/public` by the asset binding) leave with a strict
//! Content-Security-Policy: only this origin's scripts, styles and API.

use worker::{Headers, Request, Response, Result, RouteContext};

use crate::edge::http;
use crate::error::AppError;

pub const CONSOLE_PATH: &str = "/cp/auth-commerce-funnel/";

/// No inline scripts or styles, nothing from another origin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn root(_req: Request, _ctx: RouteContext<()>) -> Result<Response> {
    // Built by hand: Response.redirect()'s headers are immutable, and every
    // answer still gets its security headers on the way out.
    let headers = Headers::new();
    headers.set("location", CONSOLE_PATH)?;
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

pub async fn asset(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let assets = match ctx.env.assets("ASSETS") {
        Ok(a) => a,
        Err(e) => return http::problem(&http::internal(e)),
    };
    let mut fetched = assets.fetch_request(req).await?;
    // Responses from a binding have immutable headers: copy into a new one.
    let status = fetched.status_code();
    let headers = Headers::new();
    for name in ["content-type", "etag", "last-modified", "location"] {
        if let Some(v) = fetched.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    if status == 404 {
        return http::problem(&AppError::NotFound);
    }
    headers.set("content-security-policy", CONTENT_SECURITY_POLICY)?;
    headers.set("x-frame-options", "DENY")?;
    let body = fetched.bytes().await?;
    Ok(Response::from_bytes(body)?.with_status(status).with_headers(headers))
}
