//! Timestamps: parsing what senders send, and the fixed-width UTC form stored
//! in D1 (`YYYY-MM-DDTHH:MM:SS.mmmZ`, 24 chars) so that text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn to_stored(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp (any offset) into UTC.
pub fn parse_rfc3339(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Stored timestamps must stay four-digit-year so text order stays time order.
pub fn is_storable(ts: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&ts.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_is_fixed_width_utc_millis() {
        let t = parse_rfc3339("2026-03-26T10:46:28.2+09:00").unwrap();
        assert_eq!(to_stored(t), "2026-03-26T01:46:28.200Z");
        let whole = parse_rfc3339("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(to_stored(whole).len(), 24);
    }

    #[test]
    fn text_order_is_time_order() {
        let a = to_stored(parse_rfc3339("2026-01-01T09:00:00+09:00").unwrap());
        let b = to_stored(parse_rfc3339("2026-01-01T00:00:00.001Z").unwrap());
        assert!(a < b);
    }

    #[test]
    fn rejects_non_rfc3339() {
        for bad in ["", "2026-01-01", "yesterday", "2026-13-01T00:00:00Z", "1700000000"] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }
}
