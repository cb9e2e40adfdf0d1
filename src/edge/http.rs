//! Responses: JSON, problem+json, and the headers every answer carries.

use serde::Serialize;
use worker::{console_error, Headers, Response, Result};

use crate::error::{AppError, AppResult, PROBLEM_CONTENT_TYPE};

pub fn json<T: Serialize>(status: u16, body: &T) -> AppResult<Response> {
    body_response(status, "application/json", body)
}

/// What a 503 asks the client to wait before retrying.
const RETRY_AFTER_SECONDS: &str = "5";

pub fn problem(err: &AppError) -> Result<Response> {
    let p = err.to_problem();
    match body_response(p.status, PROBLEM_CONTENT_TYPE, &p) {
        Ok(response) if p.status == 503 => {
            response.headers().set("retry-after", RETRY_AFTER_SECONDS)?;
            Ok(response)
        }
        Ok(response) => Ok(response),
        // Only if building a response fails at all; keep the status, drop the body.
        Err(_) => Response::error(p.title, p.status),
    }
}

pub fn body_response<T: Serialize>(status: u16, content_type: &str, body: &T) -> AppResult<Response> {
    let text = serde_json::to_string(body).map_err(|_| AppError::Internal)?;
    let headers = Headers::new();
    headers.set("content-type", content_type).map_err(internal)?;
    Ok(Response::ok(text)
        .map_err(internal)?
        .with_status(status)
        .with_headers(headers))
}

/// Logs a worker error (the operator sees it) and hides it from the caller.
pub fn internal(e: worker::Error) -> AppError {
    console_error!("internal error: {e}");
    AppError::Internal
}

/// A handler's result as the response the client gets.
pub fn respond(result: AppResult<Response>) -> Result<Response> {
    result.or_else(|e| problem(&e))
}

/// Last step of every request: the router's plain-text 404/405 become
/// problem+json, a stray error becomes a 500 problem, and the security
/// headers are set.
pub fn finish(result: Result<Response>) -> Result<Response> {
    let mut response = match result {
        Ok(r) => r,
        Err(e) => problem(&internal(e))?,
    };
    let is_problem = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|ct| ct.starts_with(PROBLEM_CONTENT_TYPE));
    if !is_problem {
        match response.status_code() {
            404 => response = problem(&AppError::NotFound)?,
            405 => response = problem(&AppError::MethodNotAllowed)?,
            _ => {}
        }
    }
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.set(name, value)?;
    }
    Ok(response)
}
