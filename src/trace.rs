//! The trace_id acceptance rule shared with the gateway and the control plane.
//!
//! After trimming ASCII white space a candidate must start with `trace_`, be
//! at most 128 characters, and hold only visible ASCII (0x21–0x7E).

pub const TRACE_PREFIX: &str = "trace_";
pub const TRACE_MAX_LEN: usize = 128;

/// Returns the accepted (trimmed) trace id, or `None` when `raw` is not a trace id.
pub fn accept_trace_id(raw: &str) -> Option<&str> {
    let candidate = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    let ok = candidate.starts_with(TRACE_PREFIX)
        && candidate.len() <= TRACE_MAX_LEN
        && candidate.bytes().all(|b| (0x21..=0x7e).contains(&b));
    ok.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_trimmed_prefixed_visible_ascii() {
        assert_eq!(accept_trace_id("trace_abc"), Some("trace_abc"));
        assert_eq!(accept_trace_id(" \t trace_abc-1.2:3 \r\n"), Some("trace_abc-1.2:3"));
        assert_eq!(accept_trace_id("trace_"), Some("trace_"));
    }

    #[test]
    fn length_limit_is_128_inclusive() {
        let at_limit = format!("trace_{}", "x".repeat(TRACE_MAX_LEN - 6));
        assert_eq!(at_limit.len(), 128);
        assert_eq!(accept_trace_id(&at_limit), Some(at_limit.as_str()));
        let over = format!("{at_limit}x");
        assert_eq!(accept_trace_id(&over), None);
        // Padding does not count toward the limit: it is trimmed first.
        assert!(accept_trace_id(&format!("  {at_limit}  ")).is_some());
    }

    #[test]
    fn rejects_wrong_prefix_case_and_inner_space_and_non_ascii() {
        for bad in [
            "",
            "   ",
            "Trace_abc",
            "trac_abc",
            "abc_trace_",
            "trace_a b",
            "trace_é",
            "trace_\u{7f}",
            "trace_\0",
        ] {
            assert_eq!(accept_trace_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn non_ascii_white_space_is_not_trimmed() {
        // U+00A0 is not ASCII white space, so it stays and makes the id invalid.
        assert_eq!(accept_trace_id("\u{a0}trace_abc"), None);
    }
}
