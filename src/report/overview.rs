//! The ops console's overview: totals, revenue, per-service snapshots with
//! health, a daily timeline per service, and the recent feed.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::event::EventView;
use super::money::{self, CurrencyAmount};
use super::summary::DailyBucket;
use crate::catalog::{self, SERVICES};
use crate::sketch::distinct::{self, Distinct};

/// Top event types listed per service.
pub const TOP_EVENTS: usize = 5;
/// Events in the recent feed.
pub const RECENT_EVENTS: usize = 20;
/// A service that sent nothing for this long is `quiet`; never is `silent`.
pub const QUIET_AFTER_HOURS: i64 = 24;

/// Totals over the range: events exactly (weighted by 1/sample rate), users
/// and sessions as estimates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    pub events: i64,
    /// Distinct `user_id`s across every service: an estimate (HyperLogLog
    /// sketches, standard error 0.8 %); a user of two services counts once.
    pub users: i64,
    /// Distinct `session_id`s across every service: an estimate, like `users`.
    pub sessions: i64,
    /// Events of the range's part that falls today.
    pub today: i64,
}

/// One service's totals over the range (see [`tally`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ServiceRow {
    pub service: String,
    pub events: i64,
    pub users: i64,
    pub sessions: i64,
    pub today: Option<i64>,
}

/// A row of [`crate::storage::sql::COUNTS_BY_SERVICE_AND_TYPE`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceTypeCount {
    pub service: String,
    pub event_type: String,
    pub n: i64,
    /// How many of the `n` failed (weighted like `n`).
    pub failed: i64,
}

/// A row of [`crate::storage::sql::FIRST_LAST_SEEN`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Seen {
    pub event_type: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TypeCount {
    pub event_type: String,
    pub count: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Sent an event in the last [`QUIET_AFTER_HOURS`].
    Live,
    Quiet,
    /// Never sent an event.
    Silent,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceSnapshot {
    pub service: &'static str,
    pub health: Health,
    pub last_seen: Option<String>,
    pub events: i64,
    /// Distinct `user_id`s of the service: an estimate (HyperLogLog sketches, standard error 0.8 %).
    pub users: i64,
    /// Distinct `session_id`s of the service: an estimate, like `users`.
    pub sessions: i64,
    pub today: i64,
    /// The service's money KPIs over the range, one sum per currency, won first.
    pub revenue: Vec<CurrencyAmount>,
    pub top_events: Vec<TypeCount>,
    /// Events of the range that failed (`success = false`, an `error_code`,
    /// or a `*_fail`/`*_failed` type); `failures / events` is the error rate.
    pub failures: i64,
    /// The types with failures, most failures first (up to [`TOP_EVENTS`]);
    /// `count` is their failed events.
    pub failing_types: Vec<TypeCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub from: String,
    pub to: String,
    pub tz: String,
    pub today_from: String,
    pub totals: Totals,
    /// Every service's revenue over the range, one sum per currency (won first, always
    /// present), never converted or added across currencies.
    pub revenue: Vec<CurrencyAmount>,
    pub services: Vec<ServiceSnapshot>,
    pub timeline: Vec<DailyBucket>,
    pub recent: Vec<EventView>,
}

/// Everything read from storage for one overview.
pub struct Inputs {
    pub totals: Totals,
    pub services: Vec<ServiceRow>,
    pub type_counts: Vec<ServiceTypeCount>,
    pub seen: Vec<Seen>,
    /// Revenue per service and currency (the catalog's money KPIs).
    pub revenue: HashMap<&'static str, Vec<CurrencyAmount>>,
    pub timeline: Vec<DailyBucket>,
    pub recent: Vec<EventView>,
}

/// The totals and per-service rows of the snapshot: events from the counts
/// per service and type (the range's and today's), distinct users and
/// sessions from the sketches (estimates: a user active in two services counts
/// once in the totals).
pub fn tally(
    counts: &[ServiceTypeCount],
    today: &[ServiceTypeCount],
    users: &Distinct,
    sessions: &Distinct,
) -> (Totals, Vec<ServiceRow>) {
    let mut rows: BTreeMap<&str, ServiceRow> = BTreeMap::new();
    for (c, is_today) in counts.iter().map(|c| (c, false)).chain(today.iter().map(|c| (c, true))) {
        let row = rows.entry(&c.service).or_insert_with(|| ServiceRow {
            service: c.service.clone(),
            ..ServiceRow::default()
        });
        if is_today {
            *row.today.get_or_insert(0) += c.n;
        } else {
            row.events += c.n;
        }
    }
    let mut services: Vec<ServiceRow> = rows.into_values().collect();
    for s in &mut services {
        let scope = distinct::service_scope(&s.service);
        s.users = users.count([scope.as_str()]);
        s.sessions = sessions.count([scope.as_str()]);
    }
    let totals = Totals {
        events: counts.iter().map(|c| c.n).sum(),
        users: users.count_all_services(),
        sessions: sessions.count_all_services(),
        today: today.iter().map(|c| c.n).sum(),
    };
    (totals, services)
}

/// The last time any event type of `service` was stored.
fn last_seen(service: &str, seen: &[Seen]) -> Option<String> {
    seen.iter()
        .filter(|s| catalog::find(&s.event_type).is_some_and(|d| d.service == service))
        .filter_map(|s| s.last_seen.clone())
        .max()
}

/// `now_stored` and `quiet_before` are stored-form timestamps.
pub fn health(last_seen: Option<&str>, quiet_before: &str) -> Health {
    match last_seen {
        None => Health::Silent,
        Some(t) if t >= quiet_before => Health::Live,
        Some(_) => Health::Quiet,
    }
}

pub fn build(range: (String, String, String), today_from: String, quiet_before: &str, input: Inputs) -> Overview {
    let mut by_service: HashMap<&str, &ServiceRow> = HashMap::new();
    for row in &input.services {
        by_service.insert(&row.service, row);
    }
    let mut top: BTreeMap<&str, Vec<TypeCount>> = BTreeMap::new();
    let mut failing: BTreeMap<&str, Vec<TypeCount>> = BTreeMap::new();
    for c in &input.type_counts {
        top.entry(&c.service).or_default().push(TypeCount {
            event_type: c.event_type.clone(),
            count: c.n,
        });
        if c.failed > 0 {
            failing.entry(&c.service).or_default().push(TypeCount {
                event_type: c.event_type.clone(),
                count: c.failed,
            });
        }
    }
    let most_first = |list: &mut Vec<TypeCount>| {
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.event_type.cmp(&b.event_type)));
    };
    let services = SERVICES
        .iter()
        .map(|&service| {
            let row = by_service.get(service).copied().cloned().unwrap_or_default();
            let mut top_events = top.remove(service).unwrap_or_default();
            most_first(&mut top_events);
            top_events.truncate(TOP_EVENTS);
            let mut failing_types = failing.remove(service).unwrap_or_default();
            let failures = failing_types.iter().map(|t| t.count).sum();
            most_first(&mut failing_types);
            failing_types.truncate(TOP_EVENTS);
            let last = last_seen(service, &input.seen);
            ServiceSnapshot {
                service,
                health: health(last.as_deref(), quiet_before),
                last_seen: last,
                events: row.events,
                users: row.users,
                sessions: row.sessions,
                today: row.today.unwrap_or(0),
                revenue: input
                    .revenue
                    .get(service)
                    .cloned()
                    .unwrap_or_else(|| money::per_currency(&[])),
                top_events,
                failures,
                failing_types,
            }
        })
        .collect();
    Overview {
        from: range.0,
        to: range.1,
        tz: range.2,
        today_from,
        totals: input.totals,
        revenue: money::add(&input.revenue.values().cloned().collect::<Vec<_>>()),
        services,
        timeline: input.timeline,
        recent: input.recent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            totals: Totals {
                events: 10,
                users: 3,
                sessions: 4,
                today: 2,
            },
            services: vec![ServiceRow {
                service: "presstuner".into(),
                events: 7,
                users: 2,
                sessions: 3,
                today: Some(1),
            }],
            type_counts: (0..7)
                .map(|i| ServiceTypeCount {
                    service: "presstuner".into(),
                    event_type: format!("t{i}"),
                    n: i,
                    // t2 and t5 failed once and twice.
                    failed: [0, 0, 1, 0, 0, 2, 0][i as usize],
                })
                .collect(),
            seen: vec![
                Seen {
                    event_type: "purchase_completed".into(),
                    first_seen: Some("2026-03-01T00:00:00.000Z".into()),
                    last_seen: Some("2026-03-10T00:00:00.000Z".into()),
                },
                Seen {
                    event_type: "app_open".into(),
                    first_seen: Some("2026-02-01T00:00:00.000Z".into()),
                    last_seen: Some("2026-02-02T00:00:00.000Z".into()),
                },
            ],
            revenue: HashMap::from([(
                "presstuner",
                money::per_currency(&[
                    money::MoneyRow {
                        currency: "USD".into(),
                        amount: 12.5,
                        estimated: 0,
                    },
                    money::MoneyRow {
                        currency: "KRW".into(),
                        amount: 39_000.0,
                        estimated: 0,
                    },
                ]),
            )]),
            timeline: vec![],
            recent: vec![],
        }
    }

    #[test]
    fn every_service_has_a_snapshot_with_health_top_events_and_revenue() {
        let range = ("a".to_string(), "b".to_string(), "UTC".to_string());
        let o = build(range, "t".into(), "2026-03-09T12:00:00.000Z", inputs());
        assert_eq!(o.services.len(), SERVICES.len());
        let pt = o.services.iter().find(|s| s.service == "presstuner").unwrap();
        assert_eq!(pt.health, Health::Live);
        assert_eq!(pt.top_events.len(), TOP_EVENTS);
        assert_eq!(pt.top_events[0].event_type, "t6");
        let sums = |list: &[CurrencyAmount]| -> Vec<(String, f64)> {
            list.iter().map(|c| (c.currency.clone(), c.amount)).collect()
        };
        let expected = vec![("KRW".to_string(), 39_000.0), ("USD".to_string(), 12.5)];
        assert_eq!(sums(&pt.revenue), expected);
        assert_eq!(pt.failures, 3, "every failed event counts, top type or not");
        let failing: Vec<_> = pt
            .failing_types
            .iter()
            .map(|t| (t.event_type.as_str(), t.count))
            .collect();
        assert_eq!(failing, [("t5", 2), ("t2", 1)], "most failures first");
        let pluid = o.services.iter().find(|s| s.service == "pluid").unwrap();
        assert_eq!((pluid.health, pluid.events), (Health::Quiet, 0));
        assert_eq!(
            sums(&pluid.revenue),
            [("KRW".to_string(), 0.0)],
            "won first even at zero"
        );
        let easypick = o.services.iter().find(|s| s.service == "easypick").unwrap();
        assert_eq!(easypick.health, Health::Silent);
        assert_eq!(sums(&o.revenue), expected);
    }
}
