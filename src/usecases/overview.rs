//! `GET /api/overview`: the ops console's first screen, in one round trip.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::catalog::kpis::{Formula, Measure, Unit, KPIS};
use crate::error::AppResult;
use crate::query::filter::EventFilter;
use crate::query::params::Params;
use crate::query::range::{start_of_day, TimeRange};
use crate::report::links::LinkBases;
use crate::report::money::{self, MoneyRow};
use crate::report::overview::{self, Inputs, Overview, QUIET_AFTER_HOURS, RECENT_EVENTS};
use crate::report::summary;
use crate::sketch::distinct;
use crate::store::EventStore;
use crate::time::to_stored;

/// Revenue is whatever the catalog declares as money, per service (and per currency).
pub fn revenue_measures() -> Vec<(&'static str, &'static Measure)> {
    KPIS.iter()
        .filter(|k| k.unit == Unit::Money)
        .filter_map(|k| match (&k.formula, k.service) {
            (Formula::Measure(m @ Measure::Money { .. }), Some(service)) => Some((service, m)),
            _ => None,
        })
        .collect()
}

pub async fn overview<S: EventStore>(
    store: &S,
    params: &Params,
    links: &LinkBases,
    now: DateTime<Utc>,
) -> AppResult<Overview> {
    // An edge inside an archived hour takes the whole hour: its rows are gone.
    let range = super::archive::whole_archived_edges(store, TimeRange::parse(params, now)?).await?;
    let today = to_stored(start_of_day(range.tz, now.with_timezone(&range.tz).date_naive()));
    // The timeline's buckets: local days, or hours (`bucket=hour`, a console's one-day view).
    let buckets = range.buckets(params.get("bucket"))?;
    let everything = EventFilter::everything(range);
    let rows = store
        .overview_rows(&everything, &today, RECENT_EVENTS, &revenue_measures(), &buckets)
        .await?;

    let mut by_service: HashMap<&'static str, Vec<MoneyRow>> = HashMap::new();
    for (service, sums) in rows.revenue {
        by_service.entry(service).or_default().extend(sums);
    }
    let revenue = by_service
        .into_iter()
        .map(|(service, rows)| (service, money::per_currency(&rows)))
        .collect();
    let mut recent = rows.recent;
    recent.truncate(RECENT_EVENTS);
    let kind = |k: &str| {
        rows.distinct
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, d)| d.clone())
            .unwrap_or_default()
    };
    let (totals, services) = overview::tally(
        &rows.type_counts,
        &rows.today_counts,
        &kind(distinct::USER),
        &kind(distinct::SESSION),
    );
    let inputs = Inputs {
        totals,
        services,
        type_counts: rows.type_counts,
        seen: rows.seen,
        revenue,
        timeline: summary::zero_filled(&buckets, &rows.daily_by_service),
        recent: recent.into_iter().map(|e| e.into_view(links)).collect(),
    };
    let quiet_before = to_stored(now - Duration::hours(QUIET_AFTER_HOURS));
    let span = (range.from_stored(), range.to_stored(), range.tz.name().to_string());
    Ok(overview::build(span, today, &quiet_before, inputs))
}
