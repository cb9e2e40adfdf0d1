//! Email → (fingerprint, domain). The address itself is never stored.
//!
//! `fingerprint` = lowercase hex HMAC-SHA256(EMAIL_FINGERPRINT_KEY, lowercase(trim(email)));
//! `domain` = the part after the last `@`, lowercased. A keyed HMAC (not a
//! bare hash) so that a leaked table cannot be reversed by hashing guesses.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFingerprint {
    pub fingerprint: String,
    pub domain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailError {
    /// Not shaped like `local@domain` (or too long, or holds spaces/controls).
    Invalid,
}

/// The normal form that is fingerprinted: trimmed and lowercased.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// The fingerprint HMAC with its key already absorbed. Keying an HMAC costs
/// two SHA-256 blocks, as much as fingerprinting a short address itself, so a
/// batch keys it once and clones it per address (half the hashing of ingest's
/// fingerprints).
#[derive(Clone)]
pub struct Fingerprinter(Hmac<Sha256>);

impl Fingerprinter {
    pub fn new(key: &[u8]) -> Self {
        Self(<Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length"))
    }

    /// The fingerprint of an already normalized value.
    pub fn normalized(&self, normalized: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(normalized.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Fingerprints a raw address after checking that it is shaped like one.
    pub fn email(&self, raw: &str) -> Result<EmailFingerprint, EmailError> {
        let normalized = normalize_email(raw);
        let (local, domain) = normalized.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let shaped = !local.is_empty()
            && !domain.is_empty()
            && normalized.chars().count() <= MAX_EMAIL_LEN
            && !normalized.chars().any(|c| c.is_whitespace() || c.is_control());
        if !shaped {
            return Err(EmailError::Invalid);
        }
        Ok(EmailFingerprint {
            fingerprint: self.normalized(&normalized),
            domain: domain.to_string(),
        })
    }
}

/// The key is secret: never printed.
impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter([redacted])")
    }
}

pub fn fingerprint_normalized(key: &[u8], normalized: &str) -> String {
    Fingerprinter::new(key).normalized(normalized)
}

/// Fingerprints a raw address after checking that it is shaped like one.
pub fn fingerprint_email(key: &[u8], raw: &str) -> Result<EmailFingerprint, EmailError> {
    Fingerprinter::new(key).email(raw)
}

/// A `q_email` filter: either a whole address (→ fingerprint) or `@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailFilter {
    Fingerprint(String),
    Domain(String),
}

pub fn email_filter(key: &[u8], raw: &str) -> Result<EmailFilter, EmailError> {
    let trimmed = raw.trim();
    if let Some(domain) = trimmed.strip_prefix('@') {
        let domain = domain.to_lowercase();
        if domain.is_empty() || domain.contains('@') || domain.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Invalid);
        }
        return Ok(EmailFilter::Domain(domain));
    }
    fingerprint_email(key, trimmed).map(|f| EmailFilter::Fingerprint(f.fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"pepper";

    #[test]
    fn stable_under_case_and_surrounding_white_space() {
        let a = fingerprint_email(KEY, "Alice@Example.COM").unwrap();
        let b = fingerprint_email(KEY, "  alice@example.com\n").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.domain, "example.com");
        assert_eq!(a.fingerprint.len(), 64);
    }

    #[test]
    fn matches_the_contract_formula() {
        let f = fingerprint_email(KEY, "bob@x.io").unwrap();
        assert_eq!(f.fingerprint, fingerprint_normalized(KEY, "bob@x.io"));
    }

    #[test]
    fn differs_across_keys() {
        let a = fingerprint_email(b"k1", "bob@x.io").unwrap();
        let b = fingerprint_email(b"k2", "bob@x.io").unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
    }

    #[test]
    fn domain_is_after_the_last_at() {
        assert_eq!(
            fingerprint_email(KEY, "\"a@b\"@Mail.Example").unwrap().domain,
            "mail.example"
        );
    }

    #[test]
    fn rejects_things_that_are_not_addresses() {
        for bad in ["", "no-at", "@x.io", "bob@", "bo b@x.io", "bob@x\u{0}.io"] {
            assert_eq!(fingerprint_email(KEY, bad), Err(EmailError::Invalid), "{bad:?}");
        }
        let long = format!("{}@x.io", "a".repeat(MAX_EMAIL_LEN));
        assert_eq!(fingerprint_email(KEY, &long), Err(EmailError::Invalid));
        let at_limit = format!("{}@x.io", "a".repeat(MAX_EMAIL_LEN - 5));
        assert!(fingerprint_email(KEY, &at_limit).is_ok());
    }

    #[test]
    fn q_email_filter_is_a_fingerprint_or_a_domain() {
        assert_eq!(
            email_filter(KEY, "@Example.com"),
            Ok(EmailFilter::Domain("example.com".into()))
        );
        let EmailFilter::Fingerprint(fp) = email_filter(KEY, "A@Example.com").unwrap() else {
            panic!()
        };
        assert_eq!(fp, fingerprint_email(KEY, "a@example.com").unwrap().fingerprint);
        assert_eq!(email_filter(KEY, "@"), Err(EmailError::Invalid));
    }
}
