//! One module per endpoint group; each handler is a plain `async fn`.

pub mod health;
pub mod ingest;

use worker::Request;

/// A request header as a string, if present and readable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}
