//! Credentials and PII: signed-ingest verification, bearer keys, email fingerprints.
//!
//! Every secret comparison here goes through [`compare::equal`] (constant-time)
//! and checks every configured key without an early exit, so timing reveals
//! neither which key matched nor how many leading bytes were right.
//! `tests/constant_time.rs` checks both without a clock.

pub mod bearer;
pub mod compare;
pub mod fingerprint;
pub mod signature;

use crate::error::AuthFailure;

/// Which credential authenticated a request; decides an event's default `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// HMAC-signed by the gateway.
    Signed,
    /// The control plane's bearer key.
    Bearer,
}

impl Credential {
    pub fn default_source(self) -> &'static str {
        match self {
            Credential::Signed => "zuplo",
            Credential::Bearer => "cp",
        }
    }
}

/// Ingest accepts a signature or a bearer key. A signature header, when
/// present, is the credential: a bad signature is not retried as a bearer key.
pub fn authenticate_ingest(
    signature_header: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
    config: &crate::config::Config,
    now_unix: i64,
) -> Result<Credential, AuthFailure> {
    if let Some(header) = signature_header {
        let secrets: Vec<&[u8]> = config.ingest_hmac_secrets.iter().map(|s| s.as_bytes()).collect();
        signature::verify(header, body, &secrets, now_unix, config.signature_tolerance_seconds)?;
        return Ok(Credential::Signed);
    }
    authenticate_internal(authorization, config).map(|()| Credential::Bearer)
}

/// The internal APIs' bearer key check.
pub fn authenticate_internal(authorization: Option<&str>, config: &crate::config::Config) -> Result<(), AuthFailure> {
    let keys: Vec<&str> = config.internal_api_keys.iter().map(String::as_str).collect();
    bearer::verify_authorization(authorization, &keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> Config {
        Config {
            internal_api_keys: vec!["ik".into()],
            ingest_hmac_secrets: vec!["hs".into()],
            email_fingerprint_key: "fk".into(),
            signature_tolerance_seconds: 300,
            retention_days: 400,
            bench_routes: false,
        }
    }

    #[test]
    fn a_signature_means_gateway_and_a_bearer_key_means_control_plane() {
        let h = signature::header_value(b"hs", 100, b"{}");
        assert_eq!(
            authenticate_ingest(Some(&h), None, b"{}", &config(), 100),
            Ok(Credential::Signed)
        );
        assert_eq!(
            authenticate_ingest(None, Some("Bearer ik"), b"{}", &config(), 100),
            Ok(Credential::Bearer)
        );
        assert_eq!(Credential::Signed.default_source(), "zuplo");
        assert_eq!(Credential::Bearer.default_source(), "cp");
    }

    #[test]
    fn a_bad_signature_is_not_rescued_by_a_good_bearer_key() {
        let h = signature::header_value(b"wrong", 100, b"{}");
        assert_eq!(
            authenticate_ingest(Some(&h), Some("Bearer ik"), b"{}", &config(), 100),
            Err(AuthFailure::BadSignature)
        );
    }

    #[test]
    fn no_credential_at_all_is_missing_credentials() {
        assert_eq!(
            authenticate_ingest(None, None, b"{}", &config(), 100),
            Err(AuthFailure::MissingCredentials)
        );
    }
}
