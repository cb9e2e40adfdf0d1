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
