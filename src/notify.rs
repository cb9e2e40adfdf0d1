//! Outbound webhooks, as the core sees them: something that POSTs a body
//! with headers to a URL and says whether it was taken. The worker's
//! implementation is `fetch` (in the shell, `edge`); [`MemoryNotifier`]
//! stands in for it natively, with injected faults.

use std::future::Future;
use std::pin::Pin;

/// What a post returns (not `Send`: the worker is single-threaded).
pub type NotifyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + 'a>>;

/// One POST of a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub trait Notifier {
    /// Sends one post; `Ok` only when the receiver answered 2xx.
    fn post(&self, post: Post) -> NotifyFuture<'_>;
}

/// The receiver refused or could not be reached; the cause is for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyError(pub String);

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "webhook failed: {}", self.0)
    }
}

/// The native notifier: keeps every post taken; [`MemoryNotifier::fail_next`]
/// makes the next posts fail (and keeps nothing of them).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    posts: std::cell::RefCell<Vec<Post>>,
    failures: std::cell::Cell<usize>,
}

#[cfg(not(target_arch = "wasm32"))]
impl MemoryNotifier {
    pub fn new() -> MemoryNotifier {
        MemoryNotifier::default()
    }

    /// The next `n` posts fail.
    pub fn fail_next(&self, n: usize) {
        self.failures.set(n);
    }

    /// Takes every post received so far, oldest first.
    pub fn drain(&self) -> Vec<Post> {
        self.posts.borrow_mut().drain(..).collect()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Notifier for MemoryNotifier {
    fn post(&self, post: Post) -> NotifyFuture<'_> {
        let result = if self.failures.get() > 0 {
            self.failures.set(self.failures.get() - 1);
            Err(NotifyError("injected fault: receiver unavailable".into()))
        } else {
            self.posts.borrow_mut().push(post);
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }
}
