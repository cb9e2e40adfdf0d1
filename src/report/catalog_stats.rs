//! The event catalog with live stats: each declared event type, first and
//! last seen ever, and its count and rejection rate in the range.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::overview::Seen;
use crate::catalog::{EventDef, EVENTS};

/// A `(key, n)` row of the per-type count statements.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyCount {
    pub key: Option<String>,
    pub n: i64,
    #[serde(default)]
    pub estimated: i64,
}

/// A row of [`crate::storage::sql::VOLUME_BY_TYPE`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Volume {
    pub key: String,
    pub received: i64,
    pub kept: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventStats {
    /// The type's declaration (name, service, parameters, sampling), flattened in.
    #[serde(flatten)]
    pub def: &'static EventDef,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Stored events weighted by 1/sample_rate: an estimate when `estimated`.
    pub count: i64,
    pub estimated: bool,
    /// Valid events received in the range's UTC days (retries included), before sampling.
    pub received: i64,
    pub sampled_out: i64,
    pub rejected: i64,
    /// `rejected / (count + rejected)`; null when neither happened.
    pub rejection_rate: Option<f64>,
}

pub fn build(seen: &[Seen], counts: &[KeyCount], rejections: &[KeyCount], volume: &[Volume]) -> Vec<EventStats> {
    let volume: HashMap<&str, &Volume> = volume.iter().map(|v| (v.key.as_str(), v)).collect();
    let estimated: HashMap<&str, bool> = counts
        .iter()
        .filter_map(|c| c.key.as_deref().map(|k| (k, c.estimated != 0)))
        .collect();
    let seen: HashMap<&str, &Seen> = seen.iter().map(|s| (s.event_type.as_str(), s)).collect();
    let index = |rows: &[KeyCount]| -> HashMap<String, i64> {
        rows.iter().filter_map(|r| r.key.clone().map(|k| (k, r.n))).collect()
    };
    let counts = index(counts);
    let rejections = index(rejections);
    EVENTS
        .iter()
        .map(|def| {
            let count = counts.get(def.name).copied().unwrap_or(0);
            let rejected = rejections.get(def.name).copied().unwrap_or(0);
            let total = count + rejected;
            let v = volume.get(def.name);
            EventStats {
                def,
                estimated: estimated.get(def.name).copied().unwrap_or(false),
                received: v.map_or(0, |v| v.received),
                sampled_out: v.map_or(0, |v| v.received - v.kept),
                first_seen: seen.get(def.name).and_then(|s| s.first_seen.clone()),
                last_seen: seen.get(def.name).and_then(|s| s.last_seen.clone()),
                count,
                rejected,
                rejection_rate: (total > 0).then(|| (rejected as f64 / total as f64 * 10_000.0).round() / 10_000.0),
            }
        })
        .collect()
}

/// Rejected events whose type is not in the catalog at all (typos, retired events), per sent type.
pub fn unknown_rejections(rejections: &[KeyCount]) -> Vec<(String, i64)> {
    rejections
        .iter()
        .filter_map(|r| {
            let key = r.key.clone().unwrap_or_default();
            crate::catalog::find(&key).is_none().then_some((key, r.n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kc(key: &str, n: i64) -> KeyCount {
        KeyCount {
            key: Some(key.into()),
            n,
            estimated: 0,
        }
    }

    #[test]
    fn every_catalog_event_has_stats_and_a_rejection_rate_when_it_was_seen() {
        let seen = [Seen {
            event_type: "app_open".into(),
            first_seen: Some("2026-01-01T00:00:00.000Z".into()),
            last_seen: Some("2026-03-01T00:00:00.000Z".into()),
        }];
        let volume = [Volume {
            key: "app_open".into(),
            received: 5,
            kept: 3,
        }];
        let stats = build(
            &seen,
            &[kc("app_open", 3)],
            &[kc("app_open", 1), kc("app_opne", 2)],
            &volume,
        );
        assert_eq!(stats.len(), EVENTS.len());
        let app_open = stats.iter().find(|s| s.def.name == "app_open").unwrap();
        assert_eq!(
            (app_open.count, app_open.rejected, app_open.rejection_rate),
            (3, 1, Some(0.25))
        );
        assert_eq!(app_open.first_seen.as_deref(), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!((app_open.received, app_open.sampled_out), (5, 2));
        let other = stats.iter().find(|s| s.def.name == "search").unwrap();
        assert_eq!(other.rejection_rate, None);
        assert_eq!(
            unknown_rejections(&[kc("app_open", 1), kc("app_opne", 2)]),
            [("app_opne".to_string(), 2)]
        );
    }
}
