//! A query string as a checked map: each parameter at most once, none unknown.
//!
//! Unknown parameters are a 400 rather than ignored: a typo such as
//! `traceid=` would otherwise silently widen a support query to everything.

use std::collections::BTreeMap;

use super::bad;
use crate::error::AppResult;

/// Longest accepted parameter value, in bytes (cursors and type lists included).
pub const MAX_VALUE_BYTES: usize = 2048;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Checks `pairs` (already percent-decoded) against the parameters this endpoint knows.
    pub fn parse<I, K, V>(pairs: I, known: &[&str]) -> AppResult<Params>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut values = BTreeMap::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            if !known.contains(&key) {
                let shown: String = key.chars().take(40).collect();
                return Err(bad(
                    key,
                    "unknown_parameter",
                    format!(
                        "Unknown query parameter `{shown}`; this endpoint accepts: {}.",
                        known.join(", ")
                    ),
                ));
            }
            if value.len() > MAX_VALUE_BYTES {
                return Err(bad(
                    key,
                    "parameter_too_long",
                    format!("`{key}` is longer than {MAX_VALUE_BYTES} bytes."),
                ));
            }
            if values.insert(key.to_string(), value.to_string()).is_some() {
                return Err(bad(
                    key,
                    "repeated_parameter",
                    format!("`{key}` is given more than once; send one value (lists are comma-separated)."),
                ));
            }
        }
        Ok(Params { values })
    }

    /// The value, trimmed; an empty value counts as absent (as HTML forms send them).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A stable text of every parameter except `skip`, for binding cursors to their query.
    pub fn canonical(&self, skip: &[&str]) -> String {
        let mut out = String::new();
        for (k, v) in &self.values {
            if skip.contains(&k.as_str()) || v.trim().is_empty() {
                continue;
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v.trim());
            out.push('\n');
        }
        out
    }
}

/// `limit`: 1..=`max`, `default` when absent.
pub fn limit(params: &Params, default: usize, max: usize) -> AppResult<usize> {
    match params.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                "limit",
                "invalid_limit",
                format!("`limit` must be a whole number from 1 to {max}."),
            )),
        },
    }
}

/// Decodes a percent-encoded path segment (routers hand segments over raw).
/// `None` when the escapes are broken or the result is not UTF-8.
pub fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn code(err: AppError) -> (&'static str, String) {
        match err {
            AppError::InvalidParameter { code, param, .. } => (code, param),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_by_name() {
        let e = Params::parse([("traceid", "x")], &["trace_id"]).unwrap_err();
        assert_eq!(code(e), ("unknown_parameter", "traceid".into()));
        let e = Params::parse([("type", "a"), ("type", "b")], &["type"]).unwrap_err();
        assert_eq!(code(e), ("repeated_parameter", "type".into()));
    }

    #[test]
    fn empty_values_count_as_absent_and_values_are_trimmed() {
        let p = Params::parse([("a", " "), ("b", " x ")], &["a", "b"]).unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x"));
    }

    #[test]
    fn overlong_values_are_refused() {
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let e = Params::parse([("a", long.as_str())], &["a"]).unwrap_err();
        assert_eq!(code(e).0, "parameter_too_long");
        let edge = "x".repeat(MAX_VALUE_BYTES);
        assert!(Params::parse([("a", edge.as_str())], &["a"]).is_ok());
    }

    #[test]
    fn limit_accepts_one_to_max_and_nothing_else() {
        let p = |v: &str| Params::parse([("limit", v)], &["limit"]).unwrap();
        assert_eq!(limit(&Params::default(), 50, 500).unwrap(), 50);
        assert_eq!(limit(&p("1"), 50, 500).unwrap(), 1);
        assert_eq!(limit(&p("500"), 50, 500).unwrap(), 500);
        for bad in ["0", "501", "-1", "1.5", "ten", "99999999999999999999999"] {
            assert_eq!(code(limit(&p(bad), 50, 500).unwrap_err()).0, "invalid_limit", "{bad}");
        }
    }

    #[test]
    fn path_segments_are_percent_decoded_and_broken_escapes_refused() {
        assert_eq!(percent_decode("trace_a%2Fb%20c").as_deref(), Some("trace_a/b c"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        for bad in ["%", "%2", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_form_ignores_order_skipped_keys_and_empties() {
        let a = Params::parse(
            [("b", "2"), ("a", "1"), ("cursor", "z"), ("c", "")],
            &["a", "b", "c", "cursor"],
        )
        .unwrap();
        let b = Params::parse([("a", "1"), ("b", "2")], &["a", "b", "cursor"]).unwrap();
        assert_eq!(a.canonical(&["cursor"]), b.canonical(&["cursor"]));
        assert_eq!(a.canonical(&["cursor"]), "a=1\nb=2\n");
    }
}
