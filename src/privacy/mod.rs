//! Privacy: the PII scrubber applied to every free-text value before it is
//! stored, logged or quarantined.
//!
//! The product promises that an address is never stored; senders nevertheless
//! put addresses, tokens and card numbers into error messages and properties.
//! [`scrub_text`] replaces each of them by a typed placeholder, and
//! [`scrub_value`] does so for every string inside a JSON value (and replaces
//! whatever sits under a secret-named key, see [`is_secret_key`]).
//!
//! | kind | placeholder |
//! |---|---|
//! | [`PiiKind::Email`] | `[email:<domain>]` (the domain lowercased) |
//! | [`PiiKind::Card`] | `[card]` |
//! | [`PiiKind::Phone`] | `[phone]` |
//! | [`PiiKind::Rrn`] | `[rrn]` |
//! | [`PiiKind::Secret`] | `[secret]` |
//!
//! The exact rules, and every edge decision, are documented in [`scrub`].
//! Pure, hand-written scanning (no regex engine): native and wasm alike.

pub mod keys;
pub mod scrub;

pub use keys::is_secret_key;
pub use scrub::{scrub_text, scrub_value, PiiKind, Redaction};

/// Numbers too: a card number sent as a JSON number (`{"card": 4111111111111111}`)
/// would survive a scrub of strings alone. Every whole number of 13 or more
/// digits is read as text by the same rules; one that matches (a Luhn-valid card,
/// a resident registration number) is replaced by its placeholder string.
/// Declared numeric parameters never reach 13 digits (their ranges stop at
/// 10^12), so only undeclared numbers can change type here.
pub fn scrub_numbers(value: &mut serde_json::Value, path: &str) -> Vec<Redaction> {
    use serde_json::Value;
    let mut out = Vec::new();
    match value {
        Value::Number(n) => {
            if let Some(digits) = n.as_u64().map(|u| u.to_string()).filter(|d| d.len() >= 13) {
                let (scrubbed, kinds) = scrub_text(&digits);
                if let Some(kind) = kinds.first() {
                    out.push(Redaction {
                        path: path.to_string(),
                        kind: *kind,
                    });
                    *value = Value::String(scrubbed.into_owned());
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                out.extend(scrub_numbers(item, &format!("{path}[{i}]")));
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.extend(scrub_numbers(v, &child));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_card_sent_as_a_number_is_replaced_and_other_numbers_are_kept() {
        let mut v = json!({ "card": 4111111111111111u64, "order": 4111111111111112u64, "ms": 1767225600000u64,
            "deep": [{ "n": 5555555555554444u64 }], "amount": 1999 });
        let found = scrub_numbers(&mut v, "properties");
        assert_eq!(v["card"], "[card]");
        assert_eq!(v["deep"][0]["n"], "[card]");
        assert_eq!(v["order"], 4111111111111112u64, "fails Luhn: an order id");
        assert_eq!(v["ms"], 1767225600000u64, "a millisecond timestamp");
        assert_eq!(v["amount"], 1999);
        let paths: Vec<&str> = found.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["properties.card", "properties.deep[0].n"]);
        assert!(scrub_numbers(&mut v, "properties").is_empty(), "idempotent");
    }
}
