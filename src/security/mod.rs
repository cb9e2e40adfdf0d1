//! Credentials and PII: signed-ingest verification, bearer keys, email fingerprints.
//!
//! Every secret comparison here goes through [`compare::equal`] (constant-time)
//! and checks every configured key without an early exit, so timing reveals
//! neither which key matched nor how many leading bytes were right.
//! `tests/constant_time.rs` checks both without a clock.

pub mod bearer;
pub mod compare;
pub mod fingerprint;
pub mod keys;
pub mod publishable;
pub mod signature;

use crate::error::AuthFailure;
use keys::KeyIdentity;

/// Which credential authenticated a request; decides an event's default `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// HMAC-signed by the gateway.
    Signed,
    /// A named bearer key (the control plane's, by default).
    Bearer(KeyIdentity),
}

impl Credential {
    pub fn default_source(&self) -> &'static str {
        match self {
            Credential::Signed => "zuplo",
            Credential::Bearer(_) => "cp",
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
    authenticate_key(authorization, config).map(Credential::Bearer)
}

/// Which configured key an `Authorization: Bearer` header carries.
pub fn authenticate_key(
    authorization: Option<&str>,
    config: &crate::config::Config,
) -> Result<KeyIdentity, AuthFailure> {
    let header = authorization.ok_or(AuthFailure::MissingCredentials)?;
    bearer::bearer_token(header)
        // A publishable key is public: it is never a bearer key, whatever API_KEYS holds.
        .filter(|token| !token.starts_with(publishable::PREFIX))
        .and_then(|token| keys::identify(token, &config.api_keys))
        .ok_or(AuthFailure::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> Config {
        Config {
            api_keys: vec![keys::from_plain("internal", keys::Role::Admin, "ik")],
            ingest_hmac_secrets: vec!["hs".into()],
            email_fingerprint_key: "fk".into(),
            signature_tolerance_seconds: 300,
            retention_days: 400,
            audit_retention_days: 730,
            bench_routes: false,
            links: Default::default(),
            ingest_mode: Default::default(),
            publishable_keys: Vec::new(),
            alert_webhooks: Default::default(),
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
            Ok(Credential::Bearer(KeyIdentity {
                name: "internal".into(),
                role: keys::Role::Admin
            }))
        );
        assert_eq!(Credential::Signed.default_source(), "zuplo");
        assert_eq!(
            authenticate_ingest(None, Some("Bearer ik"), b"{}", &config(), 100)
                .unwrap()
                .default_source(),
            "cp"
        );
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
    fn a_publishable_key_is_never_a_bearer_key() {
        let pk = "pk_docs0123456789abcdef";
        let mut config = config();
        // Even configured (by mistake) as a bearer key, a pk_ token is refused.
        config.api_keys.push(keys::from_plain("site", keys::Role::Read, pk));
        assert_eq!(
            authenticate_key(Some(&format!("Bearer {pk}")), &config),
            Err(AuthFailure::BadKey)
        );
        assert_eq!(
            authenticate_ingest(None, Some(&format!("Bearer {pk}")), b"{}", &config, 100),
            Err(AuthFailure::BadKey)
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
