//! Publishable keys: one per web site, for `POST /collect` only.
//!
//! A deployment lists them in the variable `PUBLISHABLE_KEYS`: lines (or
//! `;`-separated entries) of `pk_<random>:<site>:<origin>[,<origin>…]`, e.g.
//! `pk_3kTq9ZxY1b2c3d4e5f6g:docs:https://docs.example.com,https://example.com`.
//! `node scripts/make-key.mjs <site> publishable <origin>…` makes one.
//!
//! A publishable key is public (it sits in the page's source), so it proves
//! nothing about the sender: it names the site (the events' `source`), the
//! origins whose pages may send, and the rate-limit bucket. It is still
//! compared in constant time like every key, and it is never a bearer key:
//! [`super::authenticate_key`] refuses a `pk_` token, and this list is
//! consulted only by the collect route.

use subtle::Choice;

use super::compare;
use super::keys::{digest, position_with};

/// Every publishable key starts with this.
pub const PREFIX: &str = "pk_";

/// One configured site.
#[derive(Clone, PartialEq, Eq)]
pub struct PublishableKey {
    /// The site's name: `[a-z0-9_-]{1,32}`, the `source` of its events.
    pub site: String,
    /// Origins (`scheme://host[:port]`, lowercase) whose pages may send.
    pub origins: Vec<String>,
    digest: [u8; 32],
}

impl std::fmt::Debug for PublishableKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublishableKey({}, {:?})", self.site, self.origins)
    }
}

impl PublishableKey {
    /// Whether a page of `origin` (the request's `Origin` header) may send with this key.
    /// Exact match: no wildcards, no prefix tricks (`https://a.com.evil.net`).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

/// `pk_` then 16 to 64 letters, digits, `-` or `_`.
pub fn is_publishable_token(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|rest| {
        (16..=64).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// `https://host[:port]` or `http://host[:port]`, lowercase, nothing after the authority.
fn is_origin(raw: &str) -> bool {
    let Some(authority) = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")) else {
        return false;
    };
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

fn is_site(raw: &str) -> bool {
    (1..=32).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Parses `PUBLISHABLE_KEYS`. Every entry must be well-formed: a typo must
/// not silently drop a site (the error names the entry's position).
pub fn parse_publishable_keys(raw: &str) -> Result<Vec<PublishableKey>, String> {
    let mut keys: Vec<PublishableKey> = Vec::new();
    for (i, entry) in raw
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let n = i + 1;
        // The origins hold `:` themselves: key and site first, the rest is the list.
        let mut parts = entry.splitn(3, ':');
        let (Some(token), Some(site), Some(origins)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("entry {n} is not pk_…:site:origin[,origin…]"));
        };
        let token = token.trim();
        if !is_publishable_token(token) {
            return Err(format!("entry {n}: the key must be pk_ and 16 to 64 of [A-Za-z0-9_-]"));
        }
        let site = site.trim();
        if !is_site(site) {
            return Err(format!("entry {n}: the site must be [a-z0-9_-]{{1,32}}"));
        }
        let origins: Vec<String> = origins.split(',').map(|o| o.trim().to_string()).collect();
        if let Some(bad) = origins.iter().find(|o| !is_origin(o)) {
            return Err(format!(
                "entry {n}: {bad:?} is not an origin (https://host[:port], lowercase, no path)"
            ));
        }
        if keys.iter().any(|k| k.site == site) {
            return Err(format!("entry {n}: the site {site} is listed twice"));
        }
        let digest = digest(token);
        if keys.iter().any(|k| k.digest == digest) {
            return Err(format!("entry {n}: the key is listed twice"));
        }
        keys.push(PublishableKey {
            site: site.to_string(),
            origins,
            digest,
        });
    }
    Ok(keys)
}

/// The site whose key `token` is, compared with every configured key through
/// `equal` ([`position_with`]: no early exit, so the timing shows neither
/// which site matched nor how much of a key did).
pub fn identify_with<'a>(
    equal: impl Fn(&[u8], &[u8]) -> Choice,
    token: &str,
    keys: &'a [PublishableKey],
) -> Option<&'a PublishableKey> {
    position_with(equal, token, keys.iter().map(|k| &k.digest)).map(|i| &keys[i])
}

pub fn identify<'a>(token: &str, keys: &'a [PublishableKey]) -> Option<&'a PublishableKey> {
    identify_with(compare::equal, token, keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = "pk_docs0123456789abcdef";
    const SHOP: &str = "pk_shop0123456789abcdef";

    fn keys() -> Vec<PublishableKey> {
        parse_publishable_keys(&format!(
            "{DOCS}:docs:https://docs.example.com,http://127.0.0.1:8080\n{SHOP}:shop:https://shop.example.com"
        ))
        .unwrap()
    }

    #[test]
    fn a_configured_key_names_its_site_and_only_its_listed_origins_may_send() {
        let keys = keys();
        let docs = identify(DOCS, &keys).unwrap();
        assert_eq!(docs.site, "docs");
        assert!(docs.allows_origin("https://docs.example.com"));
        assert!(docs.allows_origin("http://127.0.0.1:8080"));
        for other in [
            "https://shop.example.com",
            "http://docs.example.com",
            "https://docs.example.com.evil.net",
            "https://docs.example.com/",
            "http://127.0.0.1:8081",
            "null",
            "",
        ] {
            assert!(!docs.allows_origin(other), "{other}");
        }
        assert_eq!(identify(SHOP, &keys).unwrap().site, "shop");
        assert!(identify("pk_nope0123456789abcdef", &keys).is_none());
        assert!(identify("", &keys).is_none());
    }

    #[test]
    fn a_malformed_entry_is_an_error_that_names_its_position() {
        for (raw, says) in [
            ("pk_docs0123456789abcdef:docs", "entry 1 is not"),
            ("fk_docs0123456789abcdef:docs:https://a.com", "pk_"),
            ("pk_short:docs:https://a.com", "pk_"),
            ("pk_docs0123456789abcdef:Docs:https://a.com", "site"),
            ("pk_docs0123456789abcdef:docs:https://a.com/path", "origin"),
            ("pk_docs0123456789abcdef:docs:*", "origin"),
            ("pk_docs0123456789abcdef:docs:https://A.com", "origin"),
            ("pk_docs0123456789abcdef:docs:https://a.com:", "origin"),
            (
                "pk_docs0123456789abcdef:docs:https://a.com;pk_docs0123456789abcdeX:docs:https://b.com",
                "entry 2: the site docs is listed twice",
            ),
            (
                "pk_docs0123456789abcdef:docs:https://a.com;pk_docs0123456789abcdef:blog:https://b.com",
                "entry 2: the key is listed twice",
            ),
        ] {
            let err = parse_publishable_keys(raw).unwrap_err();
            assert!(err.contains(says), "{raw}: {err}");
        }
        assert!(parse_publishable_keys(" \n ").unwrap().is_empty());
    }

    #[test]
    fn only_pk_tokens_of_the_documented_shape_are_publishable() {
        assert!(is_publishable_token(DOCS));
        assert!(!is_publishable_token("fk_admin_0123456789abcdef"));
        assert!(!is_publishable_token("pk_0123456789abcde"));
        assert!(!is_publishable_token("pk_0123456789abcdef!"));
    }
}
