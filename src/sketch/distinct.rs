//! Distinct users and sessions from sketches: what a write adds (its parts),
//! and what a read merges (stored sketches by scope, plus the actors of the
//! sub-hour edges of its range, which no sketch covers).
//!
//! A sketch is kept per scope and kind: the scope is a service (`s:<name>`)
//! or an event type (`t:<name>`, users only); the kind is [`USER`] or
//! [`SESSION`]. A service's users over a range are the union of its scope's
//! sketches; every service's together are the union of all of them, so a user
//! active in two services counts once.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::hll::Hll;

/// Kind of `user_id` sketches (also the hash's domain tag).
pub const USER: &str = "u";
/// Kind of `session_id` sketches.
pub const SESSION: &str = "s";

const SERVICE: &str = "s:";
const TYPE: &str = "t:";

pub fn service_scope(service: &str) -> String {
    format!("{SERVICE}{service}")
}

pub fn type_scope(event_type: &str) -> String {
    format!("{TYPE}{event_type}")
}

/// The identifiers one stored or incoming event contributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    pub ts: String,
    pub service: String,
    pub event_type: String,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
}

/// One part as written: `[hour, scope, kind, regs]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part(pub String, pub String, pub &'static str, pub String);

/// The parts of a set of events: one sketch per `(hour, scope, kind)` they touch.
/// Each identifier is hashed once however many events carry it.
pub fn parts<'a>(actors: impl IntoIterator<Item = ActorRef<'a>>) -> Vec<Part> {
    let mut hashes: HashMap<(&'static str, &'a str), u64> = HashMap::new();
    // Keyed by (hour, scope prefix, name, kind): the scope's text is built once per part, not per event.
    let mut sketches: BTreeMap<(&'a str, &'static str, &'a str, &'static str), Hll> = BTreeMap::new();
    for a in actors {
        let Some(hour) = a.ts.get(..13) else { continue };
        let mut add = |prefix: &'static str, name: &'a str, kind: &'static str, value: &'a str| {
            let h = *hashes
                .entry((kind, value))
                .or_insert_with(|| super::hll::hash(kind, value));
            sketches.entry((hour, prefix, name, kind)).or_default().insert_hash(h);
        };
        if let Some(user) = a.user_id {
            add(SERVICE, a.service, USER, user);
            add(TYPE, a.event_type, USER, user);
        }
        if let Some(session) = a.session_id {
            add(SERVICE, a.service, SESSION, session);
        }
    }
    sketches
        .into_iter()
        .map(|((hour, prefix, name, kind), hll)| Part(hour.to_string(), format!("{prefix}{name}"), kind, hll.encode()))
        .collect()
}

/// The fields of an event a part reads, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct ActorRef<'a> {
    pub ts: &'a str,
    pub service: &'a str,
    pub event_type: &'a str,
    pub user_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

impl<'a> From<&'a Actor> for ActorRef<'a> {
    fn from(a: &'a Actor) -> Self {
        ActorRef {
            ts: &a.ts,
            service: &a.service,
            event_type: &a.event_type,
            user_id: a.user_id.as_deref(),
            session_id: a.session_id.as_deref(),
        }
    }
}

impl<'a> From<&'a crate::ingest::normalize::EventRow> for ActorRef<'a> {
    fn from(r: &'a crate::ingest::normalize::EventRow) -> Self {
        ActorRef {
            ts: &r.ts,
            service: &r.service,
            event_type: &r.event_type,
            user_id: r.user_id.as_deref(),
            session_id: r.session_id.as_deref(),
        }
    }
}

/// A stored sketch or part, as a read returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScopedSketch {
    pub scope: String,
    pub regs: String,
}

/// An actor of a range's sub-hour edges.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EdgeActor {
    pub service: String,
    pub event_type: String,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
}

/// A stored sketch that does not decode: the read fails rather than guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptSketch(pub String);

/// One kind's sketches of a range, merged per scope (edges included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distinct {
    by_scope: HashMap<String, Hll>,
}

impl Distinct {
    /// Merges the stored sketches of `kind` and the edge actors' identifiers of that kind.
    pub fn merge(kind: &'static str, stored: &[ScopedSketch], edges: &[EdgeActor]) -> Result<Distinct, CorruptSketch> {
        let mut by_scope: HashMap<String, Hll> = HashMap::new();
        for s in stored {
            let into = match by_scope.get_mut(&s.scope) {
                Some(h) => h,
                None => by_scope.entry(s.scope.clone()).or_default(),
            };
            into.merge_encoded(&s.regs)
                .map_err(|e| CorruptSketch(format!("{}: {e:?}", s.scope)))?;
        }
        for e in edges {
            let (value, scopes) = match kind {
                USER => (
                    e.user_id.as_deref(),
                    vec![service_scope(&e.service), type_scope(&e.event_type)],
                ),
                _ => (e.session_id.as_deref(), vec![service_scope(&e.service)]),
            };
            let Some(value) = value else { continue };
            let h = super::hll::hash(kind, value);
            for scope in scopes {
                by_scope.entry(scope).or_default().insert_hash(h);
            }
        }
        Ok(Distinct { by_scope })
    }

    /// The estimated number of distinct identifiers across `scopes` (their union).
    pub fn count<'s>(&self, scopes: impl IntoIterator<Item = &'s str>) -> i64 {
        let mut union = Hll::new();
        for scope in scopes {
            if let Some(h) = self.by_scope.get(scope) {
                union.merge(h);
            }
        }
        union.estimate().round() as i64
    }

    /// Every service scope's union.
    pub fn count_all_services(&self) -> i64 {
        let scopes: Vec<&str> = self
            .by_scope
            .keys()
            .filter(|s| s.starts_with(SERVICE))
            .map(String::as_str)
            .collect();
        self.count(scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor<'a>(
        ts: &'a str,
        service: &'a str,
        t: &'a str,
        user: Option<&'a str>,
        session: Option<&'a str>,
    ) -> ActorRef<'a> {
        ActorRef {
            ts,
            service,
            event_type: t,
            user_id: user,
            session_id: session,
        }
    }

    #[test]
    fn a_write_adds_one_part_per_hour_scope_and_kind_it_touches() {
        let parts = parts([
            actor("2026-12-03T10:01:00.000Z", "pluid", "app_open", Some("u1"), Some("s1")),
            actor("2026-12-03T10:59:00.000Z", "pluid", "app_open", Some("u2"), None),
            actor("2026-12-03T11:00:00.000Z", "pluid", "note_upserted", Some("u1"), None),
            actor("2026-12-03T11:00:00.000Z", "pluid", "note_upserted", None, None),
        ]);
        let keys: Vec<(&str, &str, &str)> = parts.iter().map(|p| (p.0.as_str(), p.1.as_str(), p.2)).collect();
        assert_eq!(
            keys,
            vec![
                ("2026-12-03T10", "s:pluid", SESSION),
                ("2026-12-03T10", "s:pluid", USER),
                ("2026-12-03T10", "t:app_open", USER),
                ("2026-12-03T11", "s:pluid", USER),
                ("2026-12-03T11", "t:note_upserted", USER),
            ]
        );
        let users = ScopedSketch {
            scope: "s:pluid".into(),
            regs: parts[1].3.clone(),
        };
        let d = Distinct::merge(USER, &[users], &[]).unwrap();
        assert_eq!(d.count(["s:pluid"]), 2);
    }

    #[test]
    fn the_union_counts_a_user_of_two_services_and_of_an_edge_once() {
        let p = parts([
            actor("2026-12-03T10:01:00.000Z", "pluid", "app_open", Some("u1"), None),
            actor(
                "2026-12-03T10:02:00.000Z",
                "presstuner",
                "command_executed",
                Some("u1"),
                None,
            ),
            actor(
                "2026-12-03T10:03:00.000Z",
                "presstuner",
                "command_executed",
                Some("u2"),
                None,
            ),
        ]);
        let stored: Vec<ScopedSketch> = p
            .iter()
            .filter(|p| p.2 == USER)
            .map(|p| ScopedSketch {
                scope: p.1.clone(),
                regs: p.3.clone(),
            })
            .collect();
        let edge = EdgeActor {
            service: "pluid".into(),
            event_type: "app_open".into(),
            user_id: Some("u2".into()),
            session_id: None,
        };
        let d = Distinct::merge(USER, &stored, &[edge]).unwrap();
        assert_eq!(d.count(["s:pluid"]), 2);
        assert_eq!(d.count(["s:presstuner"]), 2);
        assert_eq!(d.count_all_services(), 2);
        assert_eq!(d.count(["t:app_open", "t:command_executed"]), 2);
        assert_eq!(d.count(["t:nothing"]), 0);
    }

    #[test]
    fn a_corrupt_stored_sketch_fails_the_read() {
        let bad = ScopedSketch {
            scope: "s:pluid".into(),
            regs: "not a sketch".into(),
        };
        assert!(Distinct::merge(USER, &[bad], &[]).is_err());
    }
}
