//! KPIs, declared next to the events they measure.
//!
//! A KPI is a [`Measure`] (count, sum of a numeric property, distinct count,
//! most frequent value of a property) or a [`Formula::Ratio`] of two other
//! KPIs. Handlers never hard-code a KPI: the summary API evaluates this list.

use serde::Serialize;

use super::Text;

/// Which events of the listed types a count keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Any,
    /// `success = 1`.
    Success,
    /// `success = 0`.
    Failure,
}

/// A stored identifier column a distinct count can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    UserId,
    SessionId,
    AnonymousId,
    EmailFingerprint,
    TraceId,
    TenantId,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::UserId => "user_id",
            Column::SessionId => "session_id",
            Column::AnonymousId => "anonymous_id",
            Column::EmailFingerprint => "email_fingerprint",
            Column::TraceId => "trace_id",
            Column::TenantId => "tenant_id",
        }
    }
}

/// One number (or, for `Top`, one value) computed from the stored rows of a range.
/// `events` lists event types; an empty list means every event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    Count {
        events: &'static [&'static str],
        outcome: Outcome,
    },
    /// Sum of the numeric property `properties.<property>`.
    Sum {
        events: &'static [&'static str],
        property: &'static str,
    },
    Distinct {
        events: &'static [&'static str],
        column: Column,
    },
    /// The most frequent value of the string property `properties.<property>`.
    Top {
        events: &'static [&'static str],
        property: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Formula {
    Measure(Measure),
    /// `numerator / denominator`, both ids of KPIs that are measures; null when the denominator is 0.
    Ratio {
        numerator: &'static str,
        denominator: &'static str,
    },
}

/// How a KPI's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    /// Korean won, a whole number.
    Krw,
    /// A fraction in 0..=1, shown as a percentage.
    Ratio,
    /// A property value (for `Top`).
    Text,
}

/// The console screen a KPI belongs to (the seeds' lenses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lens {
    /// The auth/commerce funnel seed's KPI cards.
    Funnel,
    Revenue,
    Engagement,
    Workspace,
    Content,
    /// The event dictionary seed's monthly usage per action.
    Usage,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Kpi {
    /// Stable snake_case key of the summary's `kpis` object.
    pub id: &'static str,
    pub lens: Lens,
    /// The service the KPI describes; `None` for cross-service KPIs.
    pub service: Option<&'static str>,
    pub label: Text,
    pub unit: Unit,
    pub formula: Formula,
}

pub fn find(id: &str) -> Option<&'static Kpi> {
    KPIS.iter().find(|k| k.id == id)
}

/// Every KPI of the three seeds.
pub static KPIS: &[Kpi] = &[];
