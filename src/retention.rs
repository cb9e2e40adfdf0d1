//! Retention: events older than `RETENTION_DAYS` (default 400, the longest
//! range a read accepts) are deleted by the scheduled handler in bounded
//! chunks. The rollups follow through their delete triggers, in the same
//! statement's transaction, so they stay exact.

use chrono::{DateTime, Duration, Utc};

use crate::config::ConfigError;

pub const DEFAULT_RETENTION_DAYS: i64 = 400;
/// Rows per DELETE statement: small enough to keep each statement short.
pub const CHUNK_ROWS: i64 = 5_000;
/// Statements per run (D1 allows 50 queries per invocation on the free plan);
/// what is left waits for the next run.
pub const MAX_CHUNKS_PER_RUN: usize = 40;

/// `RETENTION_DAYS`: a whole number of days from 1 to 3650.
pub fn retention_days(raw: Option<&str>) -> Result<i64, ConfigError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_RETENTION_DAYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or(ConfigError::InvalidVar("RETENTION_DAYS")),
    }
}

/// Events with `ts` before this (stored form) are past retention.
pub fn cutoff(now: DateTime<Utc>, days: i64) -> String {
    crate::time::to_stored(now - Duration::days(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_400_days_unless_configured_within_bounds() {
        assert_eq!(retention_days(None), Ok(400));
        assert_eq!(retention_days(Some(" 30 ")), Ok(30));
        assert_eq!(retention_days(Some("1")), Ok(1));
        assert_eq!(retention_days(Some("3650")), Ok(3650));
        for bad in ["0", "3651", "-5", "ten", "1.5"] {
            assert_eq!(
                retention_days(Some(bad)),
                Err(ConfigError::InvalidVar("RETENTION_DAYS")),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_cutoff_is_that_many_days_before_now() {
        let now = crate::time::parse_rfc3339("2026-03-15T12:00:00Z").unwrap();
        assert_eq!(cutoff(now, 400), "2025-02-08T12:00:00.000Z");
    }
}
