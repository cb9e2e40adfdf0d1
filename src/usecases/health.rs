//! `GET /api/health`: no key needed; reveals no event data.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::AppResult;
use crate::store::EventStore;
use crate::time::to_stored;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// Always `ok` (a failing database is a 503 problem instead).
    pub status: &'static str,
    pub db: &'static str,
    pub version: &'static str,
    pub time: String,
}

pub async fn check<S: EventStore>(store: &S, now: DateTime<Utc>) -> AppResult<HealthReport> {
    store.ping().await?;
    Ok(HealthReport {
        status: "ok",
        db: "ok",
        version: env!("CARGO_PKG_VERSION"),
        time: to_stored(now),
    })
}
