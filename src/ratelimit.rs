//! The rate limit in front of browser collection, as the core sees it:
//! something that answers whether one more request of a bucket fits in the
//! current window. The worker's implementation is the Workers Rate Limiting
//! binding (in the shell, `edge`, configured in wrangler.toml's
//! `[[ratelimits]]`); [`CountingLimiter`] stands in for it natively.
//!
//! The binding only says yes or no for a fixed window of
//! [`WINDOW_SECONDS`]: that window is what a 429's `Retry-After` asks for.

use std::future::Future;
use std::pin::Pin;

/// The binding's window (wrangler.toml `simple.period`): the longest a refused sender waits.
pub const WINDOW_SECONDS: u64 = 10;

/// What a check returns (not `Send`: the worker is single-threaded). `Err`:
/// the limiter could not answer (the cause is for the log only).
pub type LimitFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + 'a>>;

/// Which limit a bucket counts against: each has its own binding and size
/// (a site's many visitors share one site bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per client address (`CF-Connecting-IP`).
    Ip,
    /// Per site (publishable key).
    Site,
}

impl Scope {
    pub fn prefix(self) -> &'static str {
        match self {
            Scope::Ip => "ip",
            Scope::Site => "key",
        }
    }
}

/// Whether one more request of `bucket` (`ip:<address>`, `key:<site>`) fits in its scope's limit.
pub trait RateLimiter {
    fn allow(&self, scope: Scope, bucket: &str) -> LimitFuture<'_>;
}

/// The native limiter: at most `limit` requests per bucket, forever (a test's
/// window never ends), counting every call.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default)]
pub struct CountingLimiter {
    limit: usize,
    seen: std::cell::RefCell<Vec<String>>,
}

#[cfg(not(target_arch = "wasm32"))]
impl CountingLimiter {
    pub fn new(limit: usize) -> CountingLimiter {
        CountingLimiter {
            limit,
            seen: Default::default(),
        }
    }

    /// Every bucket asked about, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.borrow().clone()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl RateLimiter for CountingLimiter {
    fn allow(&self, _scope: Scope, bucket: &str) -> LimitFuture<'_> {
        let mut seen = self.seen.borrow_mut();
        seen.push(bucket.to_string());
        let used = seen.iter().filter(|b| *b == bucket).count();
        Box::pin(std::future::ready(Ok(used <= self.limit)))
    }
}

/// A shared limiter is a limiter (the native tests keep a handle to look inside).
impl<T: RateLimiter + ?Sized> RateLimiter for std::rc::Rc<T> {
    fn allow(&self, scope: Scope, bucket: &str) -> LimitFuture<'_> {
        (**self).allow(scope, bucket)
    }
}
