//! Read-your-own-writes across D1 read replicas: which database session a
//! request opens, from its route and the bookmark the caller sent back.
//!
//! Every answer (but ingest's) carries the session's latest bookmark in
//! [`BOOKMARK_HEADER`]; a caller that sends it back is served by a replica
//! at least as new as that bookmark, so a read after a write sees the write.
//! The platform-free decision lives here; the shell (`edge::d1`) opens it.

use super::request::Method;
use super::routes::{Access, Route};
use crate::error::{AppError, AppResult};

/// The request and response header holding a D1 session bookmark.
pub const BOOKMARK_HEADER: &str = "x-funnel-bookmark";

/// The longest bookmark accepted (D1's are 59 today: three 8-hex counters and a 32-hex hash).
pub const MAX_BOOKMARK_LEN: usize = 128;

/// How a request's database session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStart {
    /// No session: the primary database directly (ingest; no bookmark answered).
    Primary,
    /// The first query goes to the primary (every write).
    FirstPrimary,
    /// The first query may go to any replica (a read without a bookmark).
    FirstUnconstrained,
    /// Any replica at least as new as this bookmark (a read sent back a bookmark).
    After(String),
}

/// The session a request opens. Ingest writes to the primary without a
/// session (its callers are gateways, not readers) and ignores the header,
/// so no event is ever refused over it; other writes start at the primary;
/// reads start at the caller's bookmark, or anywhere without one. Elsewhere
/// a malformed header is a 400 (checked before the key, like the body
/// size), never silently ignored: that would quietly lose read-your-writes.
pub fn session_start(route: &Route, bookmark: Option<&str>) -> AppResult<SessionStart> {
    if route.access == Access::SignedOrKey {
        return Ok(SessionStart::Primary);
    }
    let bookmark = bookmark.map(parse_bookmark).transpose()?;
    Ok(match (route.method, bookmark) {
        (Method::Get, Some(b)) => SessionStart::After(b.to_string()),
        (Method::Get, None) => SessionStart::FirstUnconstrained,
        _ => SessionStart::FirstPrimary,
    })
}

/// A bookmark as sent: opaque to us, but bounded and made of the characters
/// D1's bookmarks use (hex digits and dashes; letters and digits allowed).
/// `first-primary` passes too and asks D1 for a read from the primary.
fn parse_bookmark(raw: &str) -> AppResult<&str> {
    let b = raw.trim();
    let well_formed =
        !b.is_empty() && b.len() <= MAX_BOOKMARK_LEN && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    if well_formed {
        Ok(b)
    } else {
        Err(AppError::InvalidParameter {
            code: "invalid_bookmark",
            param: "X-Funnel-Bookmark".into(),
            detail: format!(
                "`X-Funnel-Bookmark` must be a bookmark this service returned: 1 to {MAX_BOOKMARK_LEN} \
                 letters, digits or dashes. Omit it to read from any replica."
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::ROUTES;

    fn route(method: Method, path: &str) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("no route {path}"))
    }

    const BOOKMARK: &str = "0000007b-0000b26e-00001538-0c3e87bb37b3db5cc52eedb93cd3b96b";

    #[test]
    fn a_read_with_a_bookmark_starts_at_that_bookmark() {
        let r = route(Method::Get, "/internal/funnel-events");
        assert_eq!(
            session_start(r, Some(BOOKMARK)).unwrap(),
            SessionStart::After(BOOKMARK.into())
        );
    }

    #[test]
    fn a_read_without_a_bookmark_may_use_any_replica() {
        let r = route(Method::Get, "/internal/funnel-events");
        assert_eq!(session_start(r, None).unwrap(), SessionStart::FirstUnconstrained);
    }

    #[test]
    fn a_write_starts_at_the_primary_even_with_a_bookmark() {
        let writes: Vec<_> = ROUTES
            .iter()
            .filter(|r| r.method != Method::Get && r.access != Access::SignedOrKey)
            .collect();
        assert!(!writes.is_empty());
        for r in writes {
            assert_eq!(
                session_start(r, Some(BOOKMARK)).unwrap(),
                SessionStart::FirstPrimary,
                "{}",
                r.path
            );
        }
    }

    #[test]
    fn ingest_uses_the_primary_without_a_session_and_ignores_the_header() {
        let ingest: Vec<_> = ROUTES.iter().filter(|r| r.access == Access::SignedOrKey).collect();
        assert!(!ingest.is_empty());
        for r in ingest {
            for header in [None, Some(BOOKMARK), Some("not a bookmark")] {
                assert_eq!(
                    session_start(r, header).unwrap(),
                    SessionStart::Primary,
                    "{} {header:?}",
                    r.path
                );
            }
        }
    }

    #[test]
    fn a_malformed_bookmark_is_a_400_naming_the_header() {
        let r = route(Method::Get, "/internal/funnel-events");
        let too_long = "a".repeat(MAX_BOOKMARK_LEN + 1);
        for bad in [
            "",
            "  ",
            "abc def",
            "abc;drop",
            "0000\r\nx-injected: 1",
            too_long.as_str(),
        ] {
            let problem = session_start(r, Some(bad)).unwrap_err().to_problem();
            assert_eq!((problem.status, problem.code), (400, "invalid_bookmark"), "{bad:?}");
            assert_eq!(problem.param.as_deref(), Some("X-Funnel-Bookmark"));
        }
        // The longest accepted one passes.
        let longest = "a".repeat(MAX_BOOKMARK_LEN);
        assert!(session_start(r, Some(&longest)).is_ok());
    }

    #[test]
    fn surrounding_spaces_are_trimmed_and_first_primary_is_accepted() {
        let r = route(Method::Get, "/internal/funnel-events");
        assert_eq!(
            session_start(r, Some(" first-primary ")).unwrap(),
            SessionStart::After("first-primary".into())
        );
    }
}
