//! Alert webhooks in the worker: the core's [`Notifier`] over `fetch`. No
//! business rule here: the body, its signature and the retries are the core's.

use worker::{Fetch, Headers, Method, Request, RequestInit};

use crate::notify::{Notifier, NotifyError, NotifyFuture, Post};

pub struct FetchNotifier;

impl Notifier for FetchNotifier {
    fn post(&self, post: Post) -> NotifyFuture<'_> {
        Box::pin(async move {
            let headers = Headers::new();
            for (name, value) in &post.headers {
                headers
                    .set(name, value)
                    .map_err(|_| NotifyError("invalid header".into()))?;
            }
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(post.body.into()));
            // Errors are reported without the URL: a Slack webhook URL holds its token.
            let request =
                Request::new_with_init(&post.url, &init).map_err(|_| NotifyError("invalid webhook URL".into()))?;
            let response = Fetch::Request(request)
                .send()
                .await
                .map_err(|_| NotifyError("receiver unreachable".into()))?;
            match response.status_code() {
                200..=299 => Ok(()),
                status => Err(NotifyError(format!("receiver answered {status}"))),
            }
        })
    }
}
