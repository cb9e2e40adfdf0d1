//! `GET /internal/whoami`: what the calling key may do, so the console shows
//! only what the key's role allows.

use serde::Serialize;

use super::routes::{Access, ROUTES};
use crate::security::keys::{KeyIdentity, Role};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// The key's name (never the key).
    pub key: String,
    pub role: Role,
    /// Every route this key may call, as `METHOD /path`.
    pub routes: Vec<String>,
}

pub fn who_am_i(key: Option<&KeyIdentity>) -> WhoAmI {
    let Some(key) = key else {
        return WhoAmI {
            key: String::new(),
            role: Role::Read,
            routes: Vec::new(),
        };
    };
    let routes = ROUTES
        .iter()
        .filter(|r| match r.access {
            Access::Key(needed) => key.role.allows(needed),
            Access::AnyKey => true,
            Access::SignedOrKey => key.role.allows(Role::Ingest),
            Access::Public | Access::Bench | Access::Publishable => false,
        })
        .map(|r| format!("{} {}", r.method.as_str().to_ascii_uppercase(), r.path))
        .collect();
    WhoAmI {
        key: key.name.clone(),
        role: key.role,
        routes,
    }
}
