//! CSV rendering of the event list (RFC 4180), one page at a time.
//!
//! Cells that a spreadsheet would run as a formula (leading `=`, `+`, `-`,
//! `@`, tab or CR) are prefixed with `'`: event data comes from outside and
//! must not execute when an operator opens the export.

use super::event::StoredEvent;

/// The header row: the API's names of the event's fields.
pub const HEADER: &str = crate::record::CSV_HEADER;

fn cell(out: &mut String, value: &str) {
    let guarded = matches!(value.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let needs_quotes = guarded || value.contains([',', '"', '\n', '\r']);
    if needs_quotes {
        out.push('"');
        if guarded {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The rows of one page, each ending in CRLF.
pub fn rows(events: &[StoredEvent]) -> String {
    let mut out = String::with_capacity(events.len() * 256);
    for e in events {
        let cells = e.csv_cells();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            cell(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::tests::stored;

    #[test]
    fn header_and_rows_have_the_same_number_of_columns() {
        let line = rows(&[stored(1, "2026-03-01T00:00:00.000Z", "app_open")]);
        assert_eq!(HEADER.matches(',').count(), line.matches(',').count());
        assert!(line.starts_with("1,2026-03-01T00:00:00.000Z,,app_open,pregoi,zuplo,e1,"));
        assert!(line.ends_with("\r\n"));
    }

    #[test]
    fn quotes_commas_newlines_and_escapes_quotes() {
        let mut e = stored(1, "t", "x");
        e.error_message = Some("bad \"thing\", then\nmore".into());
        e.payload_json = Some(r#"{"a":1,"b":"c"}"#.into());
        let line = rows(&[e]);
        assert!(
            line.contains(
                r#""bad ""thing"", then
more""#
            ),
            "{line}"
        );
        assert!(line.contains(r#""{""a"":1,""b"":""c""}""#), "{line}");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_defused() {
        let mut e = stored(1, "t", "x");
        e.error_message = Some("=HYPERLINK(\"http://evil\")".into());
        e.error_code = Some("-1".into());
        let line = rows(&[e]);
        assert!(line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{line}");
        assert!(line.contains("\"'-1\""), "{line}");
    }
}
