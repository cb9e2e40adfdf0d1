//! The rate limit of browser collection in the worker: the Workers Rate
//! Limiting bindings of wrangler.toml's `[[ratelimits]]` behind the core's
//! [`RateLimiter`], one binding per [`Scope`]. No business rule here.

use worker::Env;

use crate::ratelimit::{LimitFuture, RateLimiter, Scope};

/// Per client address.
pub const IP_BINDING: &str = "COLLECT_IP_LIMIT";
/// Per site (publishable key).
pub const SITE_BINDING: &str = "COLLECT_SITE_LIMIT";

pub struct BindingLimiter {
    ip: worker::RateLimiter,
    site: worker::RateLimiter,
}

impl RateLimiter for BindingLimiter {
    fn allow(&self, scope: Scope, bucket: &str) -> LimitFuture<'_> {
        let bucket = bucket.to_string();
        Box::pin(async move {
            let binding = match scope {
                Scope::Ip => &self.ip,
                Scope::Site => &self.site,
            };
            binding
                .limit(bucket)
                .await
                .map(|outcome| outcome.success)
                .map_err(|e| e.to_string())
        })
    }
}

/// Both bindings, or `None` (logged) when the deployment lacks one: collection then has no limit.
pub fn limiter(env: &Env) -> Option<Box<dyn RateLimiter>> {
    match (env.rate_limiter(IP_BINDING), env.rate_limiter(SITE_BINDING)) {
        (Ok(ip), Ok(site)) => Some(Box::new(BindingLimiter { ip, site })),
        _ => {
            worker::console_warn!("rate limit bindings {IP_BINDING}/{SITE_BINDING} missing: /collect is not limited");
            None
        }
    }
}
