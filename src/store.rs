//! The storage seam: one async method per thing a use case needs from the
//! database. The use cases in [`crate::usecases`] are written against this
//! trait only; [`crate::storage::SqlStore`] implements it over any SQL
//! backend (D1 in the worker, SQLite natively), so every route's logic runs
//! in `cargo test`.
//!
//! Inputs and outputs are typed values of the core; rows are decoded by
//! column name inside the implementation, one type per statement.

use serde::{Deserialize, Serialize};

use crate::archive::hour::ArchivedHour;
use crate::catalog::kpis::Measure;
use crate::catalog::quotas::QuotaAction;
use crate::ingest::batch::{Plan, StoreOutcome};
use crate::query::cursor::Position;
use crate::query::filter::EventFilter;
use crate::query::range::Day;
use crate::report::alerts::{FailureCounts, Finding, Incident, NoticeKind};
use crate::report::catalog_stats::{KeyCount, Volume};
use crate::report::event::StoredEvent;
use crate::report::funnel::{Breakdown, ErrorRow, StepRow};
use crate::report::money::MoneyRow;
use crate::report::overview::{Seen, ServiceTypeCount};
use crate::report::quarantine::{QuarantinedEvent, ReplayPlan};
use crate::report::summary::{DailyCount, DailyRollup};
use crate::report::usage::{ActionMonth, ActionUsage, Override, SubjectKind};
use crate::sketch::distinct::Distinct;

pub use crate::error::StorageError;

pub type StoreResult<T> = Result<T, StorageError>;

/// A `[from, to)` span in stored timestamp form (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub from: String,
    pub to: String,
}

/// One KPI measure's value as its statement computed it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MeasureRow {
    pub value: serde_json::Value,
    /// Raw statements report the smallest sample rate, rollup ones whether sampled rows took part.
    pub min_rate: Option<f64>,
    pub estimated: Option<i64>,
}

impl MeasureRow {
    /// Sampled rows took part: the value is an estimate.
    pub fn is_estimate(&self) -> bool {
        self.min_rate.is_some_and(|m| m < 1.0) || self.estimated.is_some_and(|e| e != 0)
    }
}

/// What the summary reads: the day rollup (which answers the chart and
/// every count and amount KPI it holds) and, for the KPIs it cannot answer,
/// their own statement's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryRows {
    pub days: Vec<DailyRollup>,
    pub measured: Vec<(&'static str, MeasureRow)>,
    /// Each money measure's sums, one row per currency.
    pub money: Vec<(&'static str, Vec<MoneyRow>)>,
}

/// What the overview reads, in one round trip.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewRows {
    /// Events and failures per service and type over the range.
    pub type_counts: Vec<ServiceTypeCount>,
    /// The same over the range's part that falls today (empty when none does).
    pub today_counts: Vec<ServiceTypeCount>,
    /// Distinct users ([`crate::sketch::distinct::USER`]) and sessions ([`crate::sketch::distinct::SESSION`]) per service scope.
    pub distinct: Vec<(&'static str, Distinct)>,
    pub seen: Vec<Seen>,
    pub daily_by_service: Vec<DailyCount>,
    pub recent: Vec<StoredEvent>,
    /// Each requested revenue measure's sums by service, one row per currency.
    pub revenue: Vec<(&'static str, Vec<MoneyRow>)>,
}

/// What the catalog screen reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogRows {
    pub seen: Vec<Seen>,
    pub counts: Vec<KeyCount>,
    pub rejections: Vec<KeyCount>,
    pub volume: Vec<Volume>,
}

/// One page request of the quarantine list.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineQuery<'a> {
    pub span: &'a Span,
    pub event_type: Option<&'a str>,
    /// Copies whose address is this fingerprint (or, for `@domain` searches, in this domain).
    pub email: Option<&'a crate::security::fingerprint::EmailFilter>,
    /// Copies of this trace (the event's own, or the request's header).
    pub trace_id: Option<&'a str>,
    pub pending_only: bool,
    pub after: Option<&'a Position>,
    pub limit: usize,
}

/// A quota override as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverrideRow {
    pub subject_kind: String,
    pub subject_id: String,
    pub action: String,
    pub monthly_limit: i64,
    pub updated_at: String,
}

/// One access-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: String,
    /// The bearer key's name (never the key).
    pub key_name: String,
    /// `GET /internal/funnel-events`.
    pub route: String,
    /// What was looked up or done: `email_fingerprint`, `email_domain`, `user_id`, `trace`, `export`,
    /// `override`, `replay`, `erasure`, `sweep`.
    pub kind: String,
    /// The fingerprint, domain, user id or trace id (never a raw address).
    pub subject: Option<String>,
    /// Rows returned or changed.
    pub rows: Option<i64>,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// A page request of the access log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery<'a> {
    pub span: &'a Span,
    pub key_name: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub after: Option<&'a Position>,
    pub limit: usize,
}

/// One erasure request and its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Erasure {
    pub id: String,
    /// `email_fingerprint` or `user_id`.
    pub subject_kind: String,
    /// The address's fingerprint, or the user id (never a raw address).
    pub subject: String,
    #[serde(deserialize_with = "flag")]
    pub suppress: bool,
    pub requested_at: String,
    pub requested_by: String,
    pub events_deleted: i64,
    pub quarantine_deleted: i64,
    /// Events removed from archived hour objects.
    pub archived_deleted: i64,
    /// When no row of the subject was left; null while the erasure runs.
    pub finished_at: Option<String>,
}

fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(i64::deserialize(d)? != 0)
}

/// An archived hour's object being rewritten by an erasure: the new object's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArchiveRewrite {
    pub hour: String,
    pub erasure_id: String,
    pub rows: i64,
    pub bytes: i64,
    pub sha256: String,
}

/// Rows one erasure step deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasedRows {
    pub events: u64,
    pub quarantine: u64,
}

/// A resumable job's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct JobState {
    pub after_id: i64,
    pub changed: i64,
    pub finished_at: Option<String>,
}

/// An event's free-text columns, for the PII sweep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SweepEventRow {
    pub id: i64,
    pub error_message: Option<String>,
    pub payload_json: Option<String>,
}

/// A quarantined copy, for the PII sweep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SweepQuarantineRow {
    pub id: i64,
    pub event_json: String,
}

#[allow(async_fn_in_trait)] // the worker is single-threaded: its futures are never `Send`
pub trait EventStore {
    /// Proves the database answers; reads no event data.
    async fn ping(&self) -> StoreResult<()>;

    /// Stores a planned batch in one transaction: unmetered rows (skipping
    /// keys already stored), each metered row behind its quota guard for the
    /// quota `month`, the quarantined rows and the volume counters; reports
    /// which rows were new, which the quota refused, and usage afterwards.
    async fn write_batch(&self, plan: &Plan, month: &Span) -> StoreResult<StoreOutcome>;

    /// Adds a queued message's volume counters unless a message with this id
    /// was already counted, and prunes receipts older than `prune_before`, in
    /// one transaction. Whether they were added now.
    async fn count_queued_volume(
        &self,
        message_id: &str,
        volume: &[crate::ingest::queued::VolumeRow],
        now: &str,
        prune_before: &str,
    ) -> StoreResult<bool>;

    /// The benchmark's floor: stores prepared rows (a JSON array of
    /// serialized event rows) with ingest's statement and nothing else.
    async fn write_prepared_rows(&self, rows_json: String) -> StoreResult<usize>;

    /// One page of the event list, newest first: `limit + 1` rows at most.
    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>>;

    /// Where the list's rows after `after` reach `skip + 1` and `skip + 2`
    /// rows: those rows' positions, of the ones that exist (0, 1 or 2).
    async fn event_positions_at(
        &self,
        filter: &EventFilter,
        after: Option<&Position>,
        skip: usize,
    ) -> StoreResult<Vec<Position>>;

    /// A trace's events, oldest first: `max + 1` at most.
    async fn trace_events(&self, trace_id: &str, max: usize) -> StoreResult<Vec<StoredEvent>>;

    /// The day rollup of `days`, and every measure the rollup cannot answer.
    async fn summary_rows(
        &self,
        span: &Span,
        days: &[Day],
        measures: &[(&'static str, &'static Measure)],
    ) -> StoreResult<SummaryRows>;

    /// The overview's inputs; `today` is the start of today in stored form;
    /// the timeline counts per `buckets` (the range's days, or hours).
    async fn overview_rows(
        &self,
        filter: &EventFilter,
        today: &str,
        recent: usize,
        revenue: &[(&'static str, &'static Measure)],
        buckets: &[Day],
    ) -> StoreResult<OverviewRows>;

    /// Each subject's first and last time at each step type (with its value of `by`, when
    /// given), and every failure's latest time.
    async fn funnel_rows(
        &self,
        span: &Span,
        steps: &[&str],
        by: Option<Breakdown>,
    ) -> StoreResult<(Vec<StepRow>, Vec<ErrorRow>)>;

    /// Per type: first/last seen ever, counts and rejections in the span, volume in its UTC days.
    async fn catalog_rows(&self, span: &Span, types: &[&str]) -> StoreResult<CatalogRows>;

    async fn list_quarantine(&self, query: &QuarantineQuery<'_>) -> StoreResult<Vec<QuarantinedEvent>>;

    /// The pending events a replay checks next (never checked first, then checked longest ago).
    async fn pending_for_replay(&self, limit: usize) -> StoreResult<Vec<QuarantinedEvent>>;

    /// Stores a replay's passing rows and marks every examined entry, in one
    /// transaction. Returns how many rows were new.
    async fn apply_replay(&self, plan: &ReplayPlan, replayed_at: &str) -> StoreResult<usize>;

    async fn pending_quarantine_count(&self) -> StoreResult<i64>;

    /// One user's usage and limit of each action in the month.
    async fn usage_of_user(
        &self,
        user_id: &str,
        month: &Span,
        actions: &'static [QuotaAction],
    ) -> StoreResult<Vec<ActionUsage>>;

    /// Each action's use in each of `months` (consecutive whole quota months,
    /// oldest first): users, summed use and the users at their limit; one list
    /// (one entry per action) per month, in order.
    async fn usage_by_months(
        &self,
        months: &[Span],
        actions: &'static [QuotaAction],
    ) -> StoreResult<Vec<Vec<ActionMonth>>>;

    async fn list_overrides(&self) -> StoreResult<Vec<OverrideRow>>;

    async fn set_override(&self, o: &Override, updated_at: &str) -> StoreResult<()>;

    /// Whether an override existed.
    async fn delete_override(&self, kind: SubjectKind, subject_id: &str, action: &str) -> StoreResult<bool>;

    /// Up to `limit` of the oldest events before `before`, oldest first (retention's archive).
    async fn expired_events(&self, before: &str, limit: usize) -> StoreResult<Vec<StoredEvent>>;

    /// The manifest rows of these hours (`YYYY-MM-DDTHH`), of those archived.
    async fn archived_hours_of(&self, hours: &[String]) -> StoreResult<Vec<ArchivedHour>>;

    /// The archived hours overlapping `[from, to)` (stored instants), newest first.
    async fn archived_hours_in(&self, from: &str, to: &str, limit: usize) -> StoreResult<Vec<ArchivedHour>>;

    /// In one transaction: records the manifest rows of `hours`, then deletes the events
    /// `ids` of those hours (the rollups keep counting them). How many went.
    async fn commit_archived(&self, hours: &[ArchivedHour], ids: &[i64]) -> StoreResult<u64>;

    /// The ids of the events in `[from, to)`.
    async fn event_ids_between(&self, from: &str, to: &str) -> StoreResult<Vec<i64>>;

    /// Once no expired event is left: drops old quarantine entries, old volume
    /// counters and old sketch parts (rollups and sketches stay).
    async fn prune_expired(&self, cutoff: &str) -> StoreResult<()>;

    /// Appends one access-log entry.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// One page of the access log, newest first: `limit + 1` rows at most.
    async fn list_audit(&self, query: &AuditQuery<'_>) -> StoreResult<Vec<AuditRow>>;

    /// Drops access-log entries older than `cutoff`.
    async fn prune_audit(&self, cutoff: &str) -> StoreResult<u64>;

    /// Records an erasure request (and, with `suppress`, its suppression) in one transaction.
    async fn create_erasure(&self, erasure: &Erasure) -> StoreResult<()>;

    /// Deletes up to `chunk` events and `chunk` quarantined copies of the
    /// erasure's subject and records the progress (finished when fewer were left).
    async fn erase_step(&self, erasure: &Erasure, chunk: i64, now: &str) -> StoreResult<ErasedRows>;

    async fn get_erasure(&self, id: &str) -> StoreResult<Option<Erasure>>;

    /// The manifests of up to `limit` archived hours whose objects hold the subject
    /// (the index retention writes), oldest first.
    async fn archived_hours_of_subject(
        &self,
        kind: &str,
        subject: &str,
        limit: usize,
    ) -> StoreResult<Vec<ArchivedHour>>;

    /// The rewrites begun (and not finished) of these hours.
    async fn archive_rewrites_of(&self, hours: &[String]) -> StoreResult<Vec<ArchiveRewrite>>;

    /// Step one of rewriting an hour's object without the subject: in one transaction,
    /// records the new object's manifest and debits the rollups (and the erasure's count) by
    /// `removed` (empty when an earlier run already debited them).
    async fn begin_archive_rewrite(&self, rewrite: &ArchiveRewrite, removed: &[StoredEvent]) -> StoreResult<()>;

    /// Step two, once the new object is verified: its manifest replaces the hour's, the hour
    /// leaves the subject's index, and the erasure finishes when no archived hour of the
    /// subject is left.
    async fn finish_archive_rewrite(&self, erasure: &Erasure, manifest: &ArchivedHour, now: &str) -> StoreResult<()>;

    /// Erasures with rows left, oldest first.
    async fn unfinished_erasures(&self, limit: usize) -> StoreResult<Vec<Erasure>>;

    async fn job_state(&self, job: &str) -> StoreResult<JobState>;

    /// Records a job's step: where it stopped, rows changed, finished or not.
    async fn record_job(
        &self,
        job: &str,
        after_id: i64,
        changed: i64,
        finished_at: Option<&str>,
        now: &str,
    ) -> StoreResult<()>;

    async fn sweep_events_page(&self, after_id: i64, limit: usize) -> StoreResult<Vec<SweepEventRow>>;

    async fn sweep_events_write(&self, rows: &[SweepEventRow]) -> StoreResult<()>;

    async fn sweep_quarantine_page(&self, after_id: i64, limit: usize) -> StoreResult<Vec<SweepQuarantineRow>>;

    async fn sweep_quarantine_write(&self, rows: &[SweepQuarantineRow]) -> StoreResult<()>;

    /// The oldest sketch parts not yet compacted, `limit` at most.
    async fn oldest_sketch_parts(&self, limit: usize) -> StoreResult<Vec<SketchPartRow>>;

    /// The stored sketches of these `(kind, scope, period)` keys.
    async fn sketches_by_key(&self, keys: &[SketchKey]) -> StoreResult<Vec<StoredSketch>>;

    /// In one transaction: writes the merged sketches and deletes the parts
    /// merged into them; changes nothing (and fails) if any of those parts is
    /// already gone (another compaction took it).
    async fn write_compaction(&self, merged: &[StoredSketch], part_ids: &[i64]) -> StoreResult<()>;

    /// Forgets every sketch and part (the first step of a rebuild).
    async fn clear_sketches(&self) -> StoreResult<()>;

    /// A page of stored events' actors in id order, after `after_id`.
    async fn actors_after(&self, after_id: i64, limit: usize) -> StoreResult<Vec<ActorRow>>;

    /// Appends sketch parts (`[hour, scope, kind, regs]`).
    async fn append_sketch_parts(&self, parts: &[crate::sketch::distinct::Part]) -> StoreResult<()>;

    /// Each listed type's latest stored event (an index seek each), `None` when never stored.
    async fn last_seen_by_type(&self, types: &[&str]) -> StoreResult<Vec<(String, Option<String>)>>;

    /// Per query, its types' weighted events and failures in the window and
    /// baseline hours, from the hourly rollup only; in order.
    async fn failure_counts(&self, queries: &[FailureQuery<'_>]) -> StoreResult<Vec<FailureCounts>>;

    /// Rows quarantined at or after `since`.
    async fn quarantined_since(&self, since: &str) -> StoreResult<i64>;

    /// Every open incident, oldest first.
    async fn open_incidents(&self) -> StoreResult<Vec<Incident>>;

    /// Incidents resolved at or after `since`, latest first, `limit` at most.
    async fn recent_incidents(&self, since: &str, limit: usize) -> StoreResult<Vec<Incident>>;

    /// In one transaction: opens an incident per finding (unless one of its
    /// (rule, scope) is open) and resolves the incidents `resolve`, at `now`.
    async fn record_alert_changes(&self, open: &[&Finding], resolve: &[i64], now: &str) -> StoreResult<()>;

    /// Incidents that still owe a message and changed at or after `since`, oldest first.
    async fn owed_incidents(&self, since: &str, limit: usize) -> StoreResult<Vec<Incident>>;

    /// Records that every webhook took an incident's message of this kind.
    async fn mark_notified(&self, id: i64, kind: NoticeKind, at: &str) -> StoreResult<()>;

    /// Recomputes the rollups from every stored row (rows written without
    /// the rollup statements: the bulk loader's). Native tools only: on D1 one
    /// statement over millions of rows would exceed its time limit.
    async fn rebuild_rollups(&self) -> StoreResult<()>;
}

/// What a failure-rate rule reads: its types and rollup hours
/// ([`crate::report::alerts::failure_hours`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FailureQuery<'a> {
    pub types: &'a [&'a str],
    pub failure_types: &'a [&'a str],
    pub window_start: String,
    pub end: String,
    pub baseline_start: String,
}

/// `(kind, scope, period)`.
pub type SketchKey = (String, String, String);

/// A part as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SketchPartRow {
    pub id: i64,
    pub hour: String,
    pub scope: String,
    pub kind: String,
    pub regs: String,
}

/// A compacted sketch as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSketch {
    pub kind: String,
    pub scope: String,
    pub period: String,
    pub regs: String,
}

/// A stored event's id and actors, for a sketch rebuild.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActorRow {
    pub id: i64,
    #[serde(flatten)]
    pub actor: crate::sketch::distinct::Actor,
}
