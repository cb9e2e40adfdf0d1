//! What the core answers: a status, headers and a body, or one of the two
//! answers only the shell can stream (an export, a console file).

use serde::Serialize;

use crate::error::{AppError, PROBLEM_CONTENT_TYPE};
use crate::usecases::events::ExportPlan;

/// What a 503 asks the client to wait before retrying.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// The console's files leave with this policy: only this origin's scripts,
/// styles and API; no inline code, nothing from elsewhere, no framing.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    /// Every page of an export, pulled one at a time by the shell ([`crate::usecases::events::export_next`]).
    Export(Box<ExportPlan>),
    /// A file of the console, served by the platform's asset store.
    Asset,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Reply {
    /// A JSON body. Serializing our own response types cannot fail; if it
    /// ever did, the answer is a 500 problem rather than a panic.
    pub fn json<T: Serialize>(status: u16, body: &T) -> Reply {
        Reply::serialized(status, "application/json", body)
    }

    pub fn serialized<T: Serialize>(status: u16, content_type: &str, body: &T) -> Reply {
        match serde_json::to_vec(body) {
            Ok(bytes) => Reply {
                status,
                headers: vec![("content-type", content_type.to_string())],
                body: Body::Bytes(bytes),
            },
            Err(e) => {
                log::error!("response serialization failed: {e}");
                Reply::problem(&AppError::Internal)
            }
        }
    }

    /// The RFC 9457 answer to an error; a 503 says when to retry.
    pub fn problem(err: &AppError) -> Reply {
        let problem = err.to_problem();
        let mut reply = match serde_json::to_vec(&problem) {
            Ok(bytes) => Reply {
                status: problem.status,
                headers: vec![("content-type", PROBLEM_CONTENT_TYPE.to_string())],
                body: Body::Bytes(bytes),
            },
            Err(_) => Reply {
                status: problem.status,
                headers: Vec::new(),
                body: Body::Bytes(Vec::new()),
            },
        };
        if problem.status == 503 {
            reply.headers.push(("retry-after", RETRY_AFTER_SECONDS.to_string()));
        }
        if problem.status == 429 {
            // The rate limit's window: by then the bucket is empty again.
            reply
                .headers
                .push(("retry-after", crate::ratelimit::WINDOW_SECONDS.to_string()));
        }
        reply
    }

    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![("location", location.to_string())],
            body: Body::Bytes(Vec::new()),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
