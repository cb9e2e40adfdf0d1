//! What the cron runs: retention, unfinished erasures, the access log's own
//! retention, sketch compaction, and a step of the PII sweep. Each part runs even when an
//! earlier one failed; failures are reported, and the next run retries.

use chrono::{DateTime, Duration, Utc};

use crate::archive::ArchiveStore;
use crate::config::Config;
use crate::store::EventStore;
use crate::time::to_stored;
use crate::usecases::{erasure, retention, sketches, sweep};

/// What one cron run did, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceRun {
    pub lines: Vec<String>,
}

pub async fn run<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    config: &Config,
    now: DateTime<Utc>,
) -> MaintenanceRun {
    let mut out = MaintenanceRun::default();
    out.lines.push(retention_step(store, archive, config, now).await);
    out.lines
        .push(match erasure::continue_unfinished(store, archive, now).await {
            Ok(n) => format!("erasure: advanced {n} unfinished erasures"),
            Err(e) => format!("erasure stopped (the next run retries): {e}"),
        });
    let cutoff = to_stored(now - Duration::days(config.audit_retention_days));
    out.lines.push(match store.prune_audit(&cutoff).await {
        Ok(n) => format!("audit: dropped {n} entries before {cutoff}"),
        Err(e) => format!("audit pruning stopped (the next run retries): {e}"),
    });
    out.lines.push(compaction(store).await);
    out.lines.push(match sweep::step(store, now).await {
        Ok(s) if s.done => format!(
            "pii sweep: {} rows examined, {} rewritten; every row swept",
            s.examined, s.changed
        ),
        Ok(s) => format!(
            "pii sweep: {} rows examined, {} rewritten; continues next run",
            s.examined, s.changed
        ),
        Err(e) => format!("pii sweep stopped (the next run retries): {e}"),
    });
    out
}

/// One retention run, as a log line. Without an archive bucket nothing is
/// deleted: expired events only ever leave D1 for the archive.
pub async fn retention_step<S: EventStore>(
    store: &S,
    archive: Option<&dyn ArchiveStore>,
    config: &Config,
    now: DateTime<Utc>,
) -> String {
    let Some(archive) = archive else {
        return "retention skipped: no archive bucket bound (ARCHIVE), nothing deleted".into();
    };
    match retention::run(store, archive, config.retention_days, now).await {
        Ok(r) => format!(
            "retention: archived {} hours, deleted {} events before {}; {}",
            r.hours,
            r.deleted,
            r.cutoff,
            if r.done { "done" } else { "more remain for the next run" }
        ),
        Err(e) => format!("retention stopped, the rest stays in D1 (the next run retries): {e}"),
    }
}

/// Steps of sketch compaction per cron run (each merges up to
/// [`sketches::PARTS_PER_STEP`] parts: a day of 500-event batches at 20
/// events a second is about 90,000 parts).
pub const COMPACTION_STEPS: usize = 50;

/// The frequent cron's only work: merge the parts writes appended since the last run.
pub async fn compaction<S: EventStore>(store: &S) -> String {
    match sketches::compact(store, COMPACTION_STEPS).await {
        Ok(n) => format!("sketches: merged {n} parts"),
        Err(e) => format!("sketch compaction stopped (the next run retries): {e:?}"),
    }
}

/// The every-minute cron's only work: the alert rules of the catalog.
pub async fn alerts<S: EventStore>(
    store: &S,
    config: &Config,
    notifier: Option<&dyn crate::notify::Notifier>,
    now: DateTime<Utc>,
) -> String {
    let rules = crate::catalog::alerts::ALERT_RULES;
    match crate::usecases::alerts::run(store, rules, &config.alert_webhooks, notifier, now).await {
        Ok(run) => run.to_string(),
        Err(e) => format!("alerts stopped (the next run retries): {e:?}"),
    }
}
