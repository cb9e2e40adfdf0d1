//! Deployment configuration read from the worker's env (secrets and vars).
//!
//! Built from a lookup function so the rules are tested natively; the edge
//! layer passes a closure over `worker::Env`. A missing required secret makes
//! every request that needs it a 500 `misconfigured` (the name is logged,
//! never sent).

use crate::report::links::{LinkBases, DEFAULT_STRIPE_DASHBOARD_URL};
use crate::security::keys::{self, ApiKey, Role};
use crate::security::publishable::{parse_publishable_keys, PublishableKey};
use crate::security::signature::DEFAULT_TOLERANCE_SECONDS;

#[derive(Clone)]
pub struct Config {
    /// Every bearer key: `INTERNAL_API_KEY` (and `INTERNAL_API_KEY_PREVIOUS`)
    /// as `admin` keys named `internal` (`internal-previous`), then the named
    /// keys of `API_KEYS` (hashes only, see [`crate::security::keys`]).
    pub api_keys: Vec<ApiKey>,
    /// `INGEST_HMAC_SECRET`, then `INGEST_HMAC_SECRET_PREVIOUS` when set.
    pub ingest_hmac_secrets: Vec<String>,
    pub email_fingerprint_key: String,
    pub signature_tolerance_seconds: i64,
    /// `RETENTION_DAYS`: events older than this are deleted by the daily cron.
    pub retention_days: i64,
    /// `AUDIT_RETENTION_DAYS`: access-log entries older than this are dropped by the cron.
    pub audit_retention_days: i64,
    /// `BENCH_ROUTES = "1"`: the benchmark's reference routes answer (on a loopback host only).
    pub bench_routes: bool,
    /// `STRIPE_DASHBOARD_URL`, `CONTROL_PLANE_URL`: where events' drill-down links point.
    pub links: LinkBases,
    /// `INGEST_MODE`: `direct` (default) or `queue`.
    pub ingest_mode: IngestMode,
    /// `PUBLISHABLE_KEYS`: the sites that may send from a browser (`POST /collect`).
    pub publishable_keys: Vec<PublishableKey>,
    /// `ALERT_WEBHOOK_URLS` and `ALERT_WEBHOOK_SECRET`: where alert incidents are posted.
    pub alert_webhooks: AlertWebhooks,
}

/// Where the alert cron posts incidents, and the key that signs each post.
/// No URL: incidents are evaluated and recorded, nothing is posted.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AlertWebhooks {
    /// At most [`MAX_ALERT_WEBHOOKS`] `https://` (or `http://`) URLs. A Slack
    /// webhook URL holds its token: these are treated as secrets (never logged).
    pub urls: Vec<String>,
    /// Signs each post as ingest's signature is signed (`X-Funnel-Signature`).
    pub secret: String,
}

impl std::fmt::Debug for AlertWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlertWebhooks([{} redacted])", self.urls.len())
    }
}

/// How many webhook URLs `ALERT_WEBHOOK_URLS` may list.
pub const MAX_ALERT_WEBHOOKS: usize = 5;

/// `ALERT_WEBHOOK_URLS` (comma-separated) and `ALERT_WEBHOOK_SECRET` (required with a URL).
fn alert_webhooks(get: &impl Fn(&str) -> Option<String>) -> Result<AlertWebhooks, ConfigError> {
    let Some(raw) = get("ALERT_WEBHOOK_URLS") else {
        return Ok(AlertWebhooks::default());
    };
    let urls: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    let valid = |u: &String| {
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))
            .unwrap_or("");
        !rest.is_empty()
            && !rest.starts_with('/')
            && u.len() <= 500
            && u.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'<' | b'>'))
    };
    if urls.is_empty() || urls.len() > MAX_ALERT_WEBHOOKS || !urls.iter().all(valid) {
        return Err(ConfigError::InvalidVar("ALERT_WEBHOOK_URLS"));
    }
    let secret = get("ALERT_WEBHOOK_SECRET").ok_or(ConfigError::MissingSecret("ALERT_WEBHOOK_SECRET"))?;
    Ok(AlertWebhooks { urls, secret })
}

/// Where ingest sends a batch without metered events first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IngestMode {
    /// To D1; to the queue only when D1 cannot take it.
    #[default]
    Direct,
    /// Straight to the queue (answers `queued` at once); metered batches still go to D1.
    Queue,
}

// Secrets must never reach a log line through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_keys", &self.api_keys)
            .field(
                "ingest_hmac_secrets",
                &format_args!("[{} redacted]", self.ingest_hmac_secrets.len()),
            )
            .field("email_fingerprint_key", &"[redacted]")
            .field("signature_tolerance_seconds", &self.signature_tolerance_seconds)
            .field("retention_days", &self.retention_days)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("bench_routes", &self.bench_routes)
            .field("links", &self.links)
            .field("ingest_mode", &self.ingest_mode)
            .field("publishable_keys", &self.publishable_keys)
            .field("alert_webhooks", &self.alert_webhooks)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    MissingSecret(&'static str),
    InvalidVar(&'static str),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::MissingSecret(name) => write!(f, "secret {name} is not set"),
            ConfigError::InvalidVar(name) => write!(f, "variable {name} has an invalid value"),
        }
    }
}

impl Config {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let pair = |current: &'static str, previous: &str| -> Result<Vec<String>, ConfigError> {
            let mut keys = vec![get(current).ok_or(ConfigError::MissingSecret(current))?];
            keys.extend(get(previous));
            Ok(keys)
        };
        let signature_tolerance_seconds = match get("SIGNATURE_TOLERANCE_SECONDS") {
            None => DEFAULT_TOLERANCE_SECONDS,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or(ConfigError::InvalidVar("SIGNATURE_TOLERANCE_SECONDS"))?,
        };
        Ok(Config {
            api_keys: api_keys(&get)?,
            ingest_hmac_secrets: pair("INGEST_HMAC_SECRET", "INGEST_HMAC_SECRET_PREVIOUS")?,
            email_fingerprint_key: get("EMAIL_FINGERPRINT_KEY")
                .ok_or(ConfigError::MissingSecret("EMAIL_FINGERPRINT_KEY"))?,
            signature_tolerance_seconds,
            retention_days: retention_days(get("RETENTION_DAYS").as_deref())?,
            audit_retention_days: match get("AUDIT_RETENTION_DAYS") {
                None => DEFAULT_AUDIT_RETENTION_DAYS,
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=36_500).contains(d))
                    .ok_or(ConfigError::InvalidVar("AUDIT_RETENTION_DAYS"))?,
            },
            bench_routes: get("BENCH_ROUTES").as_deref() == Some("1"),
            links: LinkBases {
                stripe_dashboard: match get("STRIPE_DASHBOARD_URL") {
                    None => DEFAULT_STRIPE_DASHBOARD_URL.to_string(),
                    Some(v) => base_url(&v).ok_or(ConfigError::InvalidVar("STRIPE_DASHBOARD_URL"))?,
                },
                control_plane: get("CONTROL_PLANE_URL")
                    .map(|v| base_url(&v).ok_or(ConfigError::InvalidVar("CONTROL_PLANE_URL")))
                    .transpose()?,
            },
            ingest_mode: match get("INGEST_MODE").as_deref() {
                None | Some("direct") => IngestMode::Direct,
                Some("queue") => IngestMode::Queue,
                Some(_) => return Err(ConfigError::InvalidVar("INGEST_MODE")),
            },
            publishable_keys: match get("PUBLISHABLE_KEYS") {
                None => Vec::new(),
                Some(raw) => parse_publishable_keys(&raw).map_err(|e| {
                    log::error!("PUBLISHABLE_KEYS: {e}");
                    ConfigError::InvalidVar("PUBLISHABLE_KEYS")
                })?,
            },
            alert_webhooks: alert_webhooks(&get)?,
        })
    }
}

/// A base URL for links: `https://` (or `http://` for a local control plane), a host,
/// no query, fragment, quotes, spaces or angle brackets; the trailing `/` dropped.
pub fn base_url(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or("");
    let clean = raw
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'\\'));
    (!host.is_empty() && clean && raw.len() <= 200).then(|| raw.trim_end_matches('/').to_string())
}

/// The internal key(s) as admin keys, then the named keys of `API_KEYS`.
fn api_keys(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<ApiKey>, ConfigError> {
    let internal = get("INTERNAL_API_KEY").ok_or(ConfigError::MissingSecret("INTERNAL_API_KEY"))?;
    let mut all = vec![keys::from_plain("internal", Role::Admin, &internal)];
    if let Some(previous) = get("INTERNAL_API_KEY_PREVIOUS") {
        all.push(keys::from_plain("internal-previous", Role::Admin, &previous));
    }
    if let Some(raw) = get("API_KEYS") {
        let named = keys::parse_api_keys(&raw).map_err(|e| {
            log::error!("API_KEYS: {e}");
            ConfigError::InvalidVar("API_KEYS")
        })?;
        if let Some(clash) = named.iter().find(|k| k.name.starts_with("internal")) {
            log::error!("API_KEYS: the name {} is reserved for INTERNAL_API_KEY", clash.name);
            return Err(ConfigError::InvalidVar("API_KEYS"));
        }
        all.extend(named);
    }
    Ok(all)
}

/// How long access-log entries are kept unless `AUDIT_RETENTION_DAYS` says otherwise:
/// longer than events, so a lookup can be answered for after the data is gone.
pub const DEFAULT_AUDIT_RETENTION_DAYS: i64 = 730;

/// Events are kept this long unless `RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 400;
/// `RETENTION_DAYS`: a whole number of days from 1 to 3650.
pub fn retention_days(raw: Option<&str>) -> Result<i64, ConfigError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_RETENTION_DAYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or(ConfigError::InvalidVar("RETENTION_DAYS")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("INTERNAL_API_KEY", "ik"),
        ("INGEST_HMAC_SECRET", "hs"),
        ("EMAIL_FINGERPRINT_KEY", "fk"),
    ];

    #[test]
    fn previous_keys_are_added_when_set() {
        let mut pairs = BASE.to_vec();
        pairs.push(("INTERNAL_API_KEY_PREVIOUS", "ik0"));
        pairs.push(("INGEST_HMAC_SECRET_PREVIOUS", " "));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        let names: Vec<&str> = c.api_keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["internal", "internal-previous"]);
        assert!(c.api_keys.iter().all(|k| k.role == Role::Admin));
        assert_eq!(c.ingest_hmac_secrets, ["hs"], "a blank previous secret is unset");
        assert_eq!(c.signature_tolerance_seconds, 300);
    }

    #[test]
    fn named_keys_come_from_their_hashes_and_a_malformed_list_is_refused() {
        let line = format!("support:read:{}", hex::encode(keys::digest("s3cret")));
        let mut pairs = BASE.to_vec();
        pairs.push(("API_KEYS", &line));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        let support = keys::identify("s3cret", &c.api_keys).unwrap();
        assert_eq!((support.name.as_str(), support.role), ("support", Role::Read));
        assert!(!format!("{c:?}").contains(&hex::encode(keys::digest("s3cret"))));
        for bad in ["support:read", "internal:admin:00"] {
            let mut pairs = BASE.to_vec();
            pairs.push(("API_KEYS", bad));
            assert_eq!(
                Config::from_lookup(lookup(&pairs)).unwrap_err(),
                ConfigError::InvalidVar("API_KEYS")
            );
        }
    }

    #[test]
    fn a_missing_secret_is_named() {
        let err = Config::from_lookup(lookup(&BASE[..2])).unwrap_err();
        assert_eq!(err, ConfigError::MissingSecret("EMAIL_FINGERPRINT_KEY"));
    }

    #[test]
    fn tolerance_override_must_be_a_sane_number() {
        let with = |v: &'static str| {
            let mut pairs = BASE.to_vec();
            pairs.push(("SIGNATURE_TOLERANCE_SECONDS", v));
            Config::from_lookup(lookup(&pairs))
        };
        assert_eq!(with("60").unwrap().signature_tolerance_seconds, 60);
        for bad in ["0", "-1", "abc", "86401"] {
            assert_eq!(
                with(bad).unwrap_err(),
                ConfigError::InvalidVar("SIGNATURE_TOLERANCE_SECONDS")
            );
        }
    }

    #[test]
    fn retention_and_bench_settings_come_from_their_variables() {
        let c = Config::from_lookup(lookup(BASE)).unwrap();
        assert_eq!((c.retention_days, c.bench_routes), (400, false));
        let mut pairs = BASE.to_vec();
        pairs.extend([("RETENTION_DAYS", "30"), ("BENCH_ROUTES", "1")]);
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!((c.retention_days, c.bench_routes), (30, true));
        let mut pairs = BASE.to_vec();
        pairs.extend([("RETENTION_DAYS", "0"), ("BENCH_ROUTES", "yes")]);
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap_err(),
            ConfigError::InvalidVar("RETENTION_DAYS")
        );
    }

    #[test]
    fn ingest_mode_is_direct_unless_queue_is_named_and_anything_else_is_refused() {
        let with = |v: &'static str| {
            let mut pairs = BASE.to_vec();
            pairs.push(("INGEST_MODE", v));
            Config::from_lookup(lookup(&pairs))
        };
        assert_eq!(
            Config::from_lookup(lookup(BASE)).unwrap().ingest_mode,
            IngestMode::Direct
        );
        assert_eq!(with("direct").unwrap().ingest_mode, IngestMode::Direct);
        assert_eq!(with(" queue ").unwrap().ingest_mode, IngestMode::Queue);
        for bad in ["Queue", "async", "1"] {
            assert_eq!(with(bad).unwrap_err(), ConfigError::InvalidVar("INGEST_MODE"), "{bad}");
        }
    }

    #[test]
    fn alert_webhooks_need_valid_urls_and_a_secret_and_are_never_shown() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = BASE.to_vec();
            pairs.extend_from_slice(extra);
            Config::from_lookup(lookup(&pairs))
        };
        assert!(with(&[]).unwrap().alert_webhooks.urls.is_empty());
        let c = with(&[
            (
                "ALERT_WEBHOOK_URLS",
                " https://hooks.example/T1/B2/tok3n , http://127.0.0.1:9/h",
            ),
            ("ALERT_WEBHOOK_SECRET", "whs"),
        ])
        .unwrap();
        assert_eq!(
            c.alert_webhooks.urls,
            ["https://hooks.example/T1/B2/tok3n", "http://127.0.0.1:9/h"]
        );
        assert_eq!(c.alert_webhooks.secret, "whs");
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok3n") && !shown.contains("whs"), "{shown}");
        assert_eq!(
            with(&[("ALERT_WEBHOOK_URLS", "https://hooks.example/x")]).unwrap_err(),
            ConfigError::MissingSecret("ALERT_WEBHOOK_SECRET")
        );
        for bad in [
            "hooks.example/x",
            "ftp://a/b",
            "https:///x",
            ",",
            "https://a/1,https://a/2,https://a/3,https://a/4,https://a/5,https://a/6",
        ] {
            assert_eq!(
                with(&[("ALERT_WEBHOOK_URLS", bad), ("ALERT_WEBHOOK_SECRET", "s")]).unwrap_err(),
                ConfigError::InvalidVar("ALERT_WEBHOOK_URLS"),
                "{bad}"
            );
        }
    }

    #[test]
    fn retention_is_400_days_unless_configured_within_bounds() {
        assert_eq!(retention_days(None), Ok(400));
        assert_eq!(retention_days(Some(" 30 ")), Ok(30));
        assert_eq!(retention_days(Some("1")), Ok(1));
        assert_eq!(retention_days(Some("3650")), Ok(3650));
        for bad in ["0", "3651", "-5", "ten", "1.5"] {
            assert_eq!(
                retention_days(Some(bad)),
                Err(ConfigError::InvalidVar("RETENTION_DAYS")),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let c = Config::from_lookup(lookup(BASE)).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("ik") || shown.contains("redacted"));
        for secret in ["\"ik\"", "\"hs\"", "\"fk\""] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn link_base_urls_default_to_stripe_and_no_control_plane_and_refuse_what_is_not_a_url() {
        let base = [
            ("INTERNAL_API_KEY", "k"),
            ("INGEST_HMAC_SECRET", "h"),
            ("EMAIL_FINGERPRINT_KEY", "f"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let vars: HashMap<String, String> = base
                .iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::from_lookup(|n| vars.get(n).cloned())
        };
        let plain = with(&[]).unwrap();
        assert_eq!(plain.links.stripe_dashboard, "https://dashboard.stripe.com");
        assert_eq!(plain.links.control_plane, None);
        let set = with(&[
            ("STRIPE_DASHBOARD_URL", "https://stripe.example/"),
            ("CONTROL_PLANE_URL", "https://admin.pregoi.example"),
        ])
        .unwrap();
        assert_eq!(set.links.stripe_dashboard, "https://stripe.example");
        assert_eq!(set.links.control_plane.as_deref(), Some("https://admin.pregoi.example"));
        for bad in [
            "javascript:alert(1)",
            "admin.example",
            "https://",
            "https://a.example/?x=1",
            "https://a b",
        ] {
            assert_eq!(
                with(&[("CONTROL_PLANE_URL", bad)]).err(),
                Some(ConfigError::InvalidVar("CONTROL_PLANE_URL")),
                "{bad}"
            );
        }
    }
}
