//! Drill-down links of an event: where an operator goes from a feed row or
//! a trace. A payment opens in the Stripe Dashboard (test or live mode, as
//! the id says), a tenant on the control plane's onboarding page. The base
//! URLs are deployment settings (`STRIPE_DASHBOARD_URL`, `CONTROL_PLANE_URL`
//! in wrangler.toml); only ids that look like what they claim to be are put
//! into a URL, and a tenant id is percent-encoded.

use serde::Serialize;

use crate::record::StoredEvent;

/// The Stripe Dashboard, unless `STRIPE_DASHBOARD_URL` says otherwise.
pub const DEFAULT_STRIPE_DASHBOARD_URL: &str = "https://dashboard.stripe.com";

/// Where links point: base URLs without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBases {
    pub stripe_dashboard: String,
    /// No onboarding links when the control plane's URL is not configured.
    pub control_plane: Option<String>,
}

impl Default for LinkBases {
    fn default() -> Self {
        LinkBases {
            stripe_dashboard: DEFAULT_STRIPE_DASHBOARD_URL.into(),
            control_plane: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    StripeCheckoutSession,
    StripePayment,
    StripeEvent,
    TenantOnboarding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StripeMode {
    Test,
    Live,
}

/// One drill-down: open `url` in a new tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Link {
    pub kind: LinkKind,
    pub url: String,
    /// Stripe links: the mode the dashboard page is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<StripeMode>,
}

/// Stripe object kinds, the properties that carry their ids, their id prefix and dashboard path.
const STRIPE: &[(LinkKind, &[&str], &str, &str)] = &[
    (
        LinkKind::StripeCheckoutSession,
        &["stripe_session_id", "checkout_session_id", "stripe_checkout_session_id"],
        "cs_",
        "checkout/sessions",
    ),
    (
        LinkKind::StripePayment,
        &["stripe_payment_intent_id", "payment_intent_id", "payment_intent"],
        "pi_",
        "payments",
    ),
    (LinkKind::StripeEvent, &["stripe_event_id"], "evt_", "events"),
];

/// A Stripe id fit for a URL path: its prefix, then letters, digits and `_` only.
fn stripe_id<'a>(value: Option<&'a serde_json::Value>, prefix: &str) -> Option<&'a str> {
    let id = value?.as_str()?;
    let rest = id.strip_prefix(prefix)?;
    (!rest.is_empty() && id.len() <= 255 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(id)
}

/// The mode an id states (`cs_test_…`, `cs_live_…`); payment and event ids do not.
fn mode_of(id: &str) -> Option<StripeMode> {
    if id.contains("_test_") {
        Some(StripeMode::Test)
    } else if id.contains("_live_") {
        Some(StripeMode::Live)
    } else {
        None
    }
}

/// `application/x-www-form-urlencoded`-safe: unreserved characters stay, every other byte is `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The event's drill-downs. A Stripe id's mode is its own when it states one,
/// else the event's `properties.livemode`, else that of another id on the
/// event that states one, else live.
pub fn links_of(event: &StoredEvent, bases: &LinkBases) -> Vec<Link> {
    let mut out = Vec::new();
    let properties = event.properties();
    let found: Vec<(LinkKind, &str, &str)> = STRIPE
        .iter()
        .filter_map(|(kind, names, prefix, path)| {
            names
                .iter()
                .find_map(|n| stripe_id(properties.get(*n), prefix))
                .map(|id| (*kind, id, *path))
        })
        .collect();
    let event_mode = match properties.get("livemode").and_then(serde_json::Value::as_bool) {
        Some(true) => Some(StripeMode::Live),
        Some(false) => Some(StripeMode::Test),
        None => found.iter().find_map(|(_, id, _)| mode_of(id)),
    };
    for (kind, id, path) in found {
        let mode = mode_of(id).or(event_mode).unwrap_or(StripeMode::Live);
        let test = if mode == StripeMode::Test { "/test" } else { "" };
        out.push(Link {
            kind,
            url: format!("{}{test}/{path}/{id}", bases.stripe_dashboard),
            mode: Some(mode),
        });
    }
    if let (Some(base), Some(tenant)) = (&bases.control_plane, &event.tenant_id) {
        out.push(Link {
            kind: LinkKind::TenantOnboarding,
            url: format!("{base}/cp/onboarding?tenant_id={}", percent_encode(tenant)),
            mode: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::tests::stored;

    fn bases() -> LinkBases {
        LinkBases {
            stripe_dashboard: "https://dashboard.stripe.com".into(),
            control_plane: Some("https://cp.example".into()),
        }
    }

    fn with(properties: serde_json::Value, tenant: Option<&str>) -> StoredEvent {
        let mut e = stored(1, "2026-03-10T00:00:00.000Z", "m_checkout_session_created");
        e.payload_json = Some(properties.to_string());
        e.tenant_id = tenant.map(Into::into);
        e
    }

    fn urls(e: &StoredEvent, b: &LinkBases) -> Vec<String> {
        links_of(e, b).into_iter().map(|l| l.url).collect()
    }

    #[test]
    fn a_checkout_session_opens_in_the_mode_its_id_states() {
        let test = with(serde_json::json!({"stripe_session_id": "cs_test_a1B2"}), None);
        assert_eq!(
            urls(&test, &bases()),
            ["https://dashboard.stripe.com/test/checkout/sessions/cs_test_a1B2"]
        );
        let live = with(serde_json::json!({"stripe_session_id": "cs_live_Z9"}), None);
        assert_eq!(links_of(&live, &bases())[0].mode, Some(StripeMode::Live));
        assert_eq!(
            urls(&live, &bases()),
            ["https://dashboard.stripe.com/checkout/sessions/cs_live_Z9"]
        );
    }

    #[test]
    fn a_payment_intent_follows_the_sessions_mode_or_livemode_and_an_event_id_links_the_event() {
        let e = with(
            serde_json::json!({"stripe_session_id": "cs_test_1", "payment_intent_id": "pi_3Abc"}),
            None,
        );
        assert_eq!(
            urls(&e, &bases()),
            [
                "https://dashboard.stripe.com/test/checkout/sessions/cs_test_1",
                "https://dashboard.stripe.com/test/payments/pi_3Abc"
            ]
        );
        let webhook = with(
            serde_json::json!({"stripe_event_id": "evt_1X", "livemode": false}),
            None,
        );
        assert_eq!(
            urls(&webhook, &bases()),
            ["https://dashboard.stripe.com/test/events/evt_1X"]
        );
        let unstated = with(serde_json::json!({"stripe_event_id": "evt_1X"}), None);
        assert_eq!(links_of(&unstated, &bases())[0].mode, Some(StripeMode::Live));
    }

    #[test]
    fn ids_that_are_not_what_they_claim_make_no_link() {
        for bad in [
            "pi_123",
            "cs_",
            "cs_test_a/../../x",
            "cs_test_a?x=1",
            "https://evil.example/cs_test_1",
        ] {
            let e = with(serde_json::json!({"stripe_session_id": bad}), None);
            assert!(links_of(&e, &bases()).is_empty(), "{bad}");
        }
    }

    #[test]
    fn a_tenant_opens_the_control_planes_onboarding_page_when_its_url_is_configured() {
        let e = with(serde_json::json!({}), Some("acme & co/1"));
        assert_eq!(
            urls(&e, &bases()),
            ["https://cp.example/cp/onboarding?tenant_id=acme%20%26%20co%2F1"]
        );
        assert!(
            links_of(&e, &LinkBases::default()).is_empty(),
            "no control plane configured"
        );
    }
}
