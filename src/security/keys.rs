//! Named bearer keys with one role each.
//!
//! A deployment configures keys as the secret `API_KEYS`: lines (or `;`- or
//! `,`-separated entries) of `name:role:sha256-hex-of-the-key`. Only hashes
//! are configured, so a leaked configuration gives no key away;
//! `node scripts/make-key.mjs <name> <role>` makes a key and prints its line.
//! Keys rotate by adding a line, moving senders, removing the old line.
//! `INTERNAL_API_KEY` (and `_PREVIOUS`) keep working as `admin` keys.
//!
//! A presented token is hashed once and compared with every configured
//! digest through [`super::compare::equal`], with no early exit, so the
//! timing shows neither which key matched nor how much of one did.

use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable};

use super::compare;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ingest only (the control plane's sending key).
    Ingest,
    /// Every read API and the export.
    Read,
    /// Everything: reads, ingest, quota overrides, quarantine replay, erasure, the audit log.
    Admin,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Role> {
        match raw.trim() {
            "ingest" => Some(Role::Ingest),
            "read" => Some(Role::Read),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether a key of this role may call a route that needs `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self == Role::Admin || self == needed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }
}

/// One configured key: its name (for logs and the audit trail), role and SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub role: Role,
    pub digest: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}, {})", self.name, self.role.as_str())
    }
}

/// Who called: the key's name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    pub name: String,
    pub role: Role,
}

impl KeyIdentity {
    /// 403 `insufficient_scope` unless this key's role may call a route that needs `needed`.
    pub fn require(&self, needed: Role) -> Result<(), crate::error::AppError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(crate::error::AppError::InsufficientScope {
                have: self.role.as_str(),
                need: needed.as_str(),
            })
        }
    }
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A key from its plain value (used for `INTERNAL_API_KEY`, which is configured in the clear).
pub fn from_plain(name: &str, role: Role, key: &str) -> ApiKey {
    ApiKey {
        name: name.to_string(),
        role,
        digest: digest(key),
    }
}

/// Parses `API_KEYS`. Every entry must be well-formed: a typo must not
/// silently drop a key (the error names the entry's position, never its hash).
pub fn parse_api_keys(raw: &str) -> Result<Vec<ApiKey>, String> {
    let mut keys: Vec<ApiKey> = Vec::new();
    for (i, entry) in raw
        .split(['\n', ';', ','])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = entry.split(':').map(str::trim).collect();
        let [name, role, hex_digest] = parts.as_slice() else {
            return Err(format!("entry {} is not name:role:sha256", i + 1));
        };
        let name_ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!("entry {}: the name must be [A-Za-z0-9_-]{{1,64}}", i + 1));
        }
        let role =
            Role::parse(role).ok_or_else(|| format!("entry {}: the role must be ingest, read or admin", i + 1))?;
        let mut digest = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut digest)
            .map_err(|_| format!("entry {}: the hash must be 64 hex characters", i + 1))?;
        if keys.iter().any(|k| k.name == *name) {
            return Err(format!("entry {}: the name {name} is used twice", i + 1));
        }
        keys.push(ApiKey {
            name: name.to_string(),
            role,
            digest,
        });
    }
    Ok(keys)
}

/// The position of the first of `digests` equal to `token`'s digest, compared
/// with every one through `equal`: no early exit and no branch on secret data,
/// so the timing shows neither which entry matched nor how much of one did.
/// Shared by bearer keys and publishable keys.
pub fn position_with<'a>(
    equal: impl Fn(&[u8], &[u8]) -> Choice,
    token: &str,
    digests: impl Iterator<Item = &'a [u8; 32]>,
) -> Option<usize> {
    let presented = digest(token);
    let mut found = Choice::from(0u8);
    let mut index = 0u32;
    for (i, candidate) in digests.enumerate() {
        let hit = equal(&presented, candidate);
        // The first match wins.
        let take = hit & !found;
        index = u32::conditional_select(&index, &(i as u32), take);
        found |= hit;
    }
    bool::from(found).then_some(index as usize)
}

/// The key `token` is, compared with every configured key through `equal`.
pub fn identify_with(equal: impl Fn(&[u8], &[u8]) -> Choice, token: &str, keys: &[ApiKey]) -> Option<KeyIdentity> {
    position_with(equal, token, keys.iter().map(|k| &k.digest)).map(|i| KeyIdentity {
        name: keys[i].name.clone(),
        role: keys[i].role,
    })
}

pub fn identify(token: &str, keys: &[ApiKey]) -> Option<KeyIdentity> {
    identify_with(compare::equal, token, keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, role: &str, key: &str) -> String {
        format!("{name}:{role}:{}", hex::encode(digest(key)))
    }

    #[test]
    fn configured_hashes_identify_their_keys_with_name_and_role() {
        let raw = format!(
            "{}\n{};{}",
            line("cp", "ingest", "k1"),
            line("support", "read", "k2"),
            line("ops", "admin", "k3")
        );
        let keys = parse_api_keys(&raw).unwrap();
        assert_eq!(
            identify("k2", &keys),
            Some(KeyIdentity {
                name: "support".into(),
                role: Role::Read
            })
        );
        assert_eq!(identify("k3", &keys).unwrap().role, Role::Admin);
        assert_eq!(identify("k4", &keys), None);
        assert_eq!(identify("", &keys), None);
    }

    #[test]
    fn a_malformed_entry_is_an_error_that_names_its_position_not_its_hash() {
        for (raw, says) in [
            ("cp:ingest", "entry 1"),
            ("cp:owner:00", "role"),
            (&*format!("{};{}", line("a", "read", "x"), "b:read:zz"), "entry 2"),
            (
                &*format!("{};{}", line("a", "read", "x"), line("a", "admin", "y")),
                "twice",
            ),
            ("bad name:read:00", "name"),
        ] {
            let err = parse_api_keys(raw).unwrap_err();
            assert!(err.contains(says), "{raw}: {err}");
            assert!(!err.contains(&hex::encode(digest("x"))));
        }
        assert!(parse_api_keys("  \n ").unwrap().is_empty());
    }

    #[test]
    fn admin_may_do_everything_and_the_others_only_their_own() {
        for needed in [Role::Ingest, Role::Read, Role::Admin] {
            assert!(Role::Admin.allows(needed));
        }
        assert!(Role::Read.allows(Role::Read) && !Role::Read.allows(Role::Ingest) && !Role::Read.allows(Role::Admin));
        assert!(Role::Ingest.allows(Role::Ingest) && !Role::Ingest.allows(Role::Read));
    }
}
