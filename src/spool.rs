//! The durable queue behind ingest, as the core sees it: something that takes
//! text messages and keeps them until the queue's consumer has stored them.
//! The worker's implementation is a Cloudflare Queue (in the shell, `edge`);
//! [`MemorySpool`] stands in for it natively, with injected faults.
//!
//! A [`Spool`] sends what one platform call may carry; the message format and
//! the split into calls are the core's ([`crate::ingest::queued`]).

use std::future::Future;
use std::pin::Pin;

/// What a send returns (not `Send`: the worker is single-threaded).
pub type SpoolFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SpoolError>> + 'a>>;

/// A queue that keeps messages for later storage.
pub trait Spool {
    /// Sends one call's messages: at most
    /// [`MAX_MESSAGES_PER_SEND`](crate::ingest::queued::MAX_MESSAGES_PER_SEND), each at most
    /// [`MAX_MESSAGE_BYTES`](crate::ingest::queued::MAX_MESSAGE_BYTES) and together at most
    /// [`MAX_SEND_BYTES`](crate::ingest::queued::MAX_SEND_BYTES). All of them are kept, or
    /// (on an error) none.
    fn send(&self, messages: Vec<String>) -> SpoolFuture<'_>;
}

/// A shared queue is a queue (the native tests keep a handle to look inside).
impl<T: Spool + ?Sized> Spool for std::rc::Rc<T> {
    fn send(&self, messages: Vec<String>) -> SpoolFuture<'_> {
        (**self).send(messages)
    }
}

/// The queue refused or could not be reached; the cause is for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolError(pub String);

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "queue unavailable: {}", self.0)
    }
}

/// The native queue: keeps every call's messages in memory, in order;
/// [`MemorySpool::fail_next`] makes the next sends fail (and keep nothing).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default)]
pub struct MemorySpool {
    calls: std::cell::RefCell<Vec<Vec<String>>>,
    failures: std::cell::Cell<usize>,
}

#[cfg(not(target_arch = "wasm32"))]
impl MemorySpool {
    pub fn new() -> MemorySpool {
        MemorySpool::default()
    }

    /// The next `n` sends fail and keep nothing.
    pub fn fail_next(&self, n: usize) {
        self.failures.set(n);
    }

    /// Every call so far, each with its messages.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.borrow().clone()
    }

    /// Takes every message sent so far (as a consumer receives them), oldest first.
    pub fn drain(&self) -> Vec<String> {
        self.calls.borrow_mut().drain(..).flatten().collect()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Spool for MemorySpool {
    fn send(&self, messages: Vec<String>) -> SpoolFuture<'_> {
        let result = if self.failures.get() > 0 {
            self.failures.set(self.failures.get() - 1);
            Err(SpoolError("injected fault: queue unavailable".into()))
        } else {
            self.calls.borrow_mut().push(messages);
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }
}
