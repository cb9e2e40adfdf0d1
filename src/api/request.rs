//! A request as the core sees it: no `worker` types, so every route runs in
//! `cargo test`. The shell fills it from the platform's request.

/// HTTP methods the service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    /// A browser's CORS preflight.
    Options,
}

impl Method {
    pub fn parse(raw: &str) -> Option<Method> {
        match raw.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            "OPTIONS" => Some(Method::Options),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
            Method::Options => "options",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiRequest {
    /// The URL path, still percent-encoded.
    pub path: String,
    /// Query pairs, percent-decoded, in order (repeats kept: the core refuses them).
    pub query: Vec<(String, String)>,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, read only for routes that take one (within their limit).
    pub body: Vec<u8>,
    /// The host the request was addressed to.
    pub host: Option<String>,
}

impl ApiRequest {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request was addressed to this machine (no outside request
    /// reaches a deployed worker under a loopback host).
    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
    }
}
