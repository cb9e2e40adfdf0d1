//! `Authorization: Bearer <key>`: the token, checked against the configured
//! keys by [`super::keys`] (hash-then-compare, every key, constant-time).

/// Extracts the token of a `Bearer` authorization header (scheme is case-insensitive).
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_a_bearer_header_whatever_the_scheme_case() {
        assert_eq!(bearer_token("Bearer k-current"), Some("k-current"));
        assert_eq!(bearer_token("bearer  k-previous "), Some("k-previous"));
        for h in ["Basic k-current", "Bearer ", "k-current", ""] {
            assert_eq!(bearer_token(h), None, "{h}");
        }
    }
}
