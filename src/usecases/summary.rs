//! `GET /internal/funnel-events/summary`: the catalog's KPIs and zero-filled
//! daily counts per event type, in one round trip.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::catalog::kpis::KPIS;
use crate::error::AppResult;
use crate::query::params::Params;
use crate::query::range::TimeRange;
use crate::report::money;
use crate::report::summary::{self, DailyBucket, DailyRate, KpiValue};
use crate::store::{EventStore, Span};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub tz: String,
    /// Every KPI of the catalog by id, in the catalog's declared order (the
    /// funnel's steps first), which a client reading the object keeps.
    #[serde(serialize_with = "in_declared_order")]
    pub kpis: BTreeMap<&'static str, KpiValue>,
    /// Events per type over the range (weighted by 1/sample_rate).
    pub totals: BTreeMap<String, i64>,
    /// Types whose counts are estimates: sampled rows weigh 1/sample_rate.
    pub estimated: Vec<String>,
    pub daily: Vec<DailyBucket>,
    /// Every ratio KPI of the catalog per local day of the range (same days as `daily`):
    /// its numerator and denominator that day, and their quotient (null when the denominator is 0).
    pub daily_rates: BTreeMap<&'static str, Vec<DailyRate>>,
}

/// The KPIs as a JSON object whose members follow [`KPIS`]' order.
fn in_declared_order<S: Serializer>(kpis: &BTreeMap<&'static str, KpiValue>, out: S) -> Result<S::Ok, S::Error> {
    let mut map = out.serialize_map(Some(kpis.len()))?;
    for kpi in KPIS {
        if let Some(value) = kpis.get(kpi.id) {
            map.serialize_entry(kpi.id, value)?;
        }
    }
    map.end()
}

pub async fn summary<S: EventStore>(store: &S, params: &Params, now: DateTime<Utc>) -> AppResult<Summary> {
    // An edge inside an archived hour takes the whole hour: its rows are gone.
    let range = super::archive::whole_archived_edges(store, TimeRange::parse(params, now)?).await?;
    let days = range.buckets(params.get("bucket"))?;
    let measures = summary::measured();
    let rows = store.summary_rows(&Span::from(&range), &days, &measures).await?;

    let daily = summary::daily_counts(&rows.days);
    let mut values: HashMap<&str, summary::Measured> = HashMap::new();
    for (id, m) in &measures {
        if let Some(v) = summary::from_daily(m, &rows.days) {
            values.insert(id, v);
        }
    }
    // Measures the day rollup cannot answer came with their own statement's value.
    for (id, row) in &rows.measured {
        let estimate = row.is_estimate();
        values.insert(
            id,
            summary::Measured {
                value: row.value.clone(),
                estimate,
            },
        );
    }
    // Money: one sum per currency, won first (never added across currencies).
    for (id, rows) in &rows.money {
        let sums = money::per_currency(rows);
        values.insert(
            id,
            summary::Measured {
                value: serde_json::to_value(sums).expect("plain values always serialize"),
                estimate: rows.iter().any(|r| r.estimated != 0),
            },
        );
    }
    Ok(Summary {
        from: range.from_stored(),
        to: range.to_stored(),
        tz: range.tz.name().to_string(),
        kpis: summary::evaluate(&values),
        totals: summary::totals(&daily),
        estimated: summary::estimated_keys(&daily),
        daily: summary::zero_filled(&days, &daily),
        daily_rates: summary::daily_rates(&days, &rows.days),
    })
}
