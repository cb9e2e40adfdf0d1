//! [`EventStore`] over any [`SqlBackend`]: which statements each use case
//! runs, with which binds, in which batch, and the type each result decodes
//! into. D1 and SQLite share all of it.

use std::collections::HashSet;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::backend::{Batch, Results, Slot, SqlBackend, StorageError};
use super::{json_chunks, sql, Bind, Statement, MAX_BOUND_JSON_BYTES};
use crate::archive::hour::ArchivedHour;
use crate::catalog::kpis::Measure;
use crate::catalog::quotas::QuotaAction;
use crate::ingest::batch::{Plan, QuotaState, StoreOutcome};
use crate::ingest::normalize::EventRow;
use crate::query::cursor::Position;
use crate::query::filter::EventFilter;
use crate::query::range::Day;
use crate::report::alerts::{FailureCounts, Finding, Incident, NoticeKind};
use crate::report::event::StoredEvent;
use crate::report::funnel::{Breakdown, ErrorRow, StepRow};
use crate::report::money::MoneyRow;
use crate::report::quarantine::{QuarantinedEvent, ReplayPlan};
use crate::report::summary;
use crate::report::usage::{ActionMonth, ActionUsage, Override, SubjectKind};
use crate::sketch::distinct::{self, Distinct};
use crate::store::{
    ActorRow, ArchiveRewrite, AuditEntry, AuditQuery, AuditRow, CatalogRows, ErasedRows, Erasure, EventStore,
    FailureQuery, JobState, MeasureRow, OverrideRow, OverviewRows, QuarantineQuery, SketchKey, SketchPartRow, Span,
    StoreResult, StoredSketch, SummaryRows, SweepEventRow, SweepQuarantineRow,
};

/// The event store over a SQL backend.
#[derive(Clone)]
pub struct SqlStore<B> {
    backend: B,
}

impl<B: SqlBackend> SqlStore<B> {
    pub fn new(backend: B) -> SqlStore<B> {
        SqlStore { backend }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Runs one statement whose rows nobody reads.
    async fn exec(&self, s: Statement) -> StoreResult<()> {
        let mut batch = Batch::new();
        batch.push(s);
        batch.run(&self.backend).await.map(drop)
    }

    async fn all<T: serde::de::DeserializeOwned>(&self, s: Statement) -> StoreResult<Vec<T>> {
        let mut batch = Batch::new();
        let slot = batch.push(s);
        batch.run(&self.backend).await?.rows(slot)
    }
}

/// The key every insert returns.
#[derive(Deserialize)]
struct InsertedKey {
    source: String,
    event_id: String,
}

/// A row of [`sql::QUOTA_STATE`].
#[derive(Deserialize)]
struct QuotaRow {
    user_id: String,
    action: String,
    used: i64,
    limit: i64,
}

/// A row of [`sql::SUPPRESSED_AMONG`].
#[derive(Deserialize)]
struct Suppressed {
    subject_kind: String,
    subject: String,
}

/// A row of [`sql::USAGE_TOTALS`].
#[derive(Deserialize)]
struct UsageTotalsRow {
    action: String,
    month: String,
    users: i64,
    used: i64,
}

/// A row of [`sql::QUOTA_USERS_AT_LIMIT`]: one user's usage of one action in one month.
#[derive(Deserialize)]
struct MonthUserRow {
    month: String,
    #[serde(flatten)]
    usage: ActionUsage,
}

/// The quota month (`YYYY-MM`) that starts at the stored timestamp `start`.
fn quota_month_label(start: &str) -> String {
    crate::time::parse_rfc3339(start)
        .map(|t| {
            t.with_timezone(&crate::catalog::quotas::MONTH_TIME_ZONE)
                .format("%Y-%m")
                .to_string()
        })
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// The binds of the daily statements over `days`.
fn day_binds(days: &[Day]) -> [Bind; 3] {
    let b = summary::days_json(days);
    [Bind::Text(b.hours), Bind::Text(b.raw), Bind::Text(b.zone_days)]
}

/// Before a write's event inserts: remember where the new rows will start.
fn mark_new_rows(batch: &mut Batch) {
    batch.push(Statement::new(sql::MARK_NEW_ROWS));
}

/// After them, in the same transaction: add the rows really inserted to the
/// rollups, and the sketch parts of `rows` (every row the write offered: a
/// duplicate's identifiers are already in a sketch, and adding one twice changes nothing).
/// A rollup that nothing in the write can change is skipped: each statement
/// in a batch costs a round of D1's work even when it matches no row, which a
/// one-event request feels.
fn roll_up_new_rows<'a>(batch: &mut Batch, rows: impl Iterator<Item = &'a EventRow>) -> StoreResult<()> {
    let rows: Vec<&EventRow> = rows.collect();
    let any = |f: &dyn Fn(&EventRow) -> bool| rows.iter().any(|r| f(r));
    batch.push(Statement::new(sql::ROLL_UP_EVENTS));
    batch.push(Statement::new(sql::ROLL_UP_DAYS));
    if any(&|r| sql::ROLLUP_PROPERTIES.iter().any(|(t, _)| *t == r.event_type)) {
        batch.push(Statement::new(sql::ROLL_UP_PROPERTIES));
        batch.push(Statement::new(sql::ROLL_UP_PROPERTY_DAYS));
    }
    if any(&|r| r.payload_json.as_deref().is_some_and(|p| p.contains("\"amount\""))) {
        batch.push(Statement::new(sql::ROLL_UP_CURRENCIES));
    }
    if any(&|r| {
        crate::catalog::quotas::ACTIONS
            .iter()
            .any(|a| a.events.contains(&r.event_type.as_str()))
    }) {
        batch.push(Statement::new(sql::ROLL_UP_USAGE));
    }
    let parts = crate::sketch::distinct::parts(rows.into_iter().map(Into::into));
    for chunk in chunks(&parts)? {
        batch.push(Statement::with(sql::INSERT_SKETCH_PARTS, [Bind::Text(chunk)]));
    }
    Ok(())
}

/// The statements reading distinct counts of a range from the sketches: per
/// kind, the stored sketches and parts of `scopes` that cover the range's
/// whole hours, and once, the actors of its sub-hour edges.
struct SketchReads {
    kinds: Vec<(&'static str, Slot)>,
    edges: Slot,
}

impl SketchReads {
    /// `zone`: read local days and months of this zone (`report::summary::zone_of_days`; 0 is UTC).
    fn push(
        batch: &mut Batch,
        (from, to): (&str, &str),
        zone: i64,
        scopes: &[String],
        kinds: &[&'static str],
    ) -> SketchReads {
        let (cover, hours) = match (crate::time::parse_rfc3339(from), crate::time::parse_rfc3339(to)) {
            (Some(f), Some(t)) => {
                let hours = crate::query::range::split_by_hours(f, t).hours.unwrap_or_default();
                (crate::sketch::cover_in(f, t, zone), hours)
            }
            _ => (Default::default(), Default::default()),
        };
        let periods: Vec<&String> = cover.months.iter().chain(&cover.days).chain(&cover.hours).collect();
        let raw: Vec<[&String; 2]> = cover.raw.iter().map(|(s, e)| [s, e]).collect();
        let kinds = kinds
            .iter()
            .map(|&kind| {
                let s = Statement::with(
                    sql::SKETCHES_OF_RANGE,
                    [
                        Bind::text(kind),
                        Bind::json(scopes),
                        Bind::json(&periods),
                        Bind::text(&hours.0),
                        Bind::text(&hours.1),
                    ],
                );
                (kind, batch.push(s))
            })
            .collect();
        let edges = batch.push(Statement::with(sql::EDGE_ACTORS, [Bind::json(&raw)]));
        SketchReads { kinds, edges }
    }

    fn read(self, results: &mut Results) -> StoreResult<Vec<(&'static str, Distinct)>> {
        let edges: Vec<distinct::EdgeActor> = results.rows(self.edges)?;
        let mut out = Vec::new();
        for (kind, slot) in self.kinds {
            let stored: Vec<distinct::ScopedSketch> = results.rows(slot)?;
            let merged = Distinct::merge(kind, &stored, &edges).map_err(|e| StorageError::Decode(e.0))?;
            out.push((kind, merged));
        }
        Ok(out)
    }
}

fn chunks<T: serde::Serialize>(rows: &[T]) -> StoreResult<Vec<String>> {
    json_chunks(rows, MAX_BOUND_JSON_BYTES).map_err(|e| StorageError::Decode(e.to_string()))
}

impl<B: SqlBackend> EventStore for SqlStore<B> {
    async fn ping(&self) -> StoreResult<()> {
        self.exec(Statement::new(sql::HEALTH_PROBE)).await
    }

    async fn write_batch(&self, plan: &Plan, month: &Span) -> StoreResult<StoreOutcome> {
        let mut batch = Batch::new();
        let mut inserts = Vec::new();
        let storing = !plan.rows.is_empty();
        if storing {
            mark_new_rows(&mut batch);
        }
        for chunk in chunks(&plan.unmetered_rows())? {
            inserts.push(batch.push(Statement::with(
                sql::INSERT_EVENTS_UNLESS_SUPPRESSED,
                [Bind::Text(chunk)],
            )));
        }
        for m in &plan.metered {
            let row = serde_json::to_string(&[&plan.rows[m.row]]).map_err(|e| StorageError::Decode(e.to_string()))?;
            let binds = sql::QuotaBinds {
                row: Some(row),
                month: (&month.from, &month.to),
                action: m.action,
                user_id: Some(&m.user_id),
                tenant_id: m.tenant_id.as_deref(),
            };
            inserts.push(batch.push(Statement::with(sql::INSERT_METERED_EVENT, binds.binds())));
        }
        if storing {
            roll_up_new_rows(&mut batch, plan.rows.iter())?;
        }
        for chunk in chunks(&plan.quarantine)? {
            batch.push(Statement::with(sql::INSERT_QUARANTINE, [Bind::Text(chunk)]));
        }
        if !plan.volume.is_empty() {
            batch.push(Statement::with(sql::UPSERT_VOLUME, [Bind::json(&plan.volume_rows())]));
        }
        // After the inserts, in the same transaction: what the metered rows became.
        let mut existing = None;
        let mut states = Vec::new();
        if !plan.metered.is_empty() {
            let keys: Vec<[&str; 2]> = plan
                .metered
                .iter()
                .map(|m| [plan.rows[m.row].source.as_str(), plan.rows[m.row].event_id.as_str()])
                .collect();
            existing = Some(batch.push(Statement::with(sql::EXISTING_KEYS, [Bind::json(&keys)])));
            let mut subjects: Vec<(&str, &QuotaAction, Option<&str>)> = Vec::new();
            for m in &plan.metered {
                if !subjects.iter().any(|s| s.0 == m.user_id && s.1.name == m.action.name) {
                    subjects.push((&m.user_id, m.action, m.tenant_id.as_deref()));
                }
            }
            for (user, action, tenant) in subjects {
                let binds = sql::QuotaBinds {
                    row: None,
                    month: (&month.from, &month.to),
                    action,
                    user_id: Some(user),
                    tenant_id: tenant,
                };
                states.push(batch.push(Statement::with(sql::QUOTA_STATE, binds.binds())));
            }
        }
        let mut results = batch.run(&self.backend).await?;

        let mut outcome = StoreOutcome::default();
        for slot in inserts {
            outcome.inserted.extend(
                results
                    .rows::<InsertedKey>(slot)?
                    .into_iter()
                    .map(|k| (k.source, k.event_id)),
            );
        }
        // Why a row was not stored (a duplicate, or its subject suppressed) is
        // asked only for the rows the guarded inserts refused and for quarantined
        // copies: a batch of new, valid events binds no subject list at all.
        // Asked after the transaction, which is sound because suppressions are
        // only ever added: a subject suppressed when the insert ran still is.
        let subjects = plan.subjects_not_stored(&outcome.inserted);
        if !subjects.is_empty() {
            let pairs: Vec<[&str; 2]> = subjects.iter().map(|(k, v)| [k.as_str(), v.as_str()]).collect();
            outcome.suppressed = self
                .all::<Suppressed>(Statement::with(sql::SUPPRESSED_AMONG, [Bind::json(&pairs)]))
                .await?
                .into_iter()
                .map(|s| (s.subject_kind, s.subject))
                .collect();
        }
        if let Some(slot) = existing {
            let stored: HashSet<(String, String)> = results
                .rows::<InsertedKey>(slot)?
                .into_iter()
                .map(|k| (k.source, k.event_id))
                .collect();
            for m in &plan.metered {
                let row = &plan.rows[m.row];
                let key = (row.source.clone(), row.event_id.clone());
                if !stored.contains(&key) {
                    outcome.quota_limited.insert(key);
                }
            }
        }
        for slot in states {
            for state in results.rows::<QuotaRow>(slot)? {
                outcome.quotas.push(QuotaState {
                    remaining: (state.limit - state.used).max(0),
                    user_id: state.user_id,
                    action: state.action,
                    used: state.used,
                    limit: state.limit,
                });
            }
        }
        Ok(outcome)
    }

    async fn count_queued_volume(
        &self,
        message_id: &str,
        volume: &[crate::ingest::queued::VolumeRow],
        now: &str,
        prune_before: &str,
    ) -> StoreResult<bool> {
        let mut batch = Batch::new();
        batch.push(Statement::with(
            sql::UPSERT_QUEUED_VOLUME,
            [Bind::json(volume), Bind::text(message_id)],
        ));
        let receipt = batch.push(Statement::with(
            sql::INSERT_QUEUE_RECEIPT,
            [Bind::text(message_id), Bind::text(now)],
        ));
        batch.push(Statement::with(sql::PRUNE_QUEUE_RECEIPTS, [Bind::text(prune_before)]));
        Ok(batch.run(&self.backend).await?.take(receipt)?.changes > 0)
    }

    async fn write_prepared_rows(&self, rows_json: String) -> StoreResult<usize> {
        let mut batch = Batch::new();
        mark_new_rows(&mut batch);
        let slot = batch.push(Statement::with(sql::INSERT_EVENTS, [Bind::Text(rows_json)]));
        for s in sql::ROLL_UP_NEW_ROWS {
            batch.push(Statement::new(s));
        }
        Ok(batch.run(&self.backend).await?.rows::<InsertedKey>(slot)?.len())
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<&Position>,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.all(sql::list_events(filter, after, limit)).await
    }

    async fn event_positions_at(
        &self,
        filter: &EventFilter,
        after: Option<&Position>,
        skip: usize,
    ) -> StoreResult<Vec<Position>> {
        self.all(sql::event_positions_at(filter, after, skip)).await
    }

    async fn trace_events(&self, trace_id: &str, max: usize) -> StoreResult<Vec<StoredEvent>> {
        self.all(sql::trace_events(trace_id, max)).await
    }

    async fn summary_rows(
        &self,
        span: &Span,
        days: &[Day],
        measures: &[(&'static str, &'static Measure)],
    ) -> StoreResult<SummaryRows> {
        let mut batch = Batch::new();
        let day_slot = batch.push(Statement::with(sql::DAILY_ROLLUP_BY_TYPE, day_binds(days)));
        // Distinct users of named types come from the sketches (estimates).
        let sketched: Vec<_> = measures
            .iter()
            .filter(|(_, m)| sql::from_sketches(m))
            .map(|(id, m)| {
                let scopes: Vec<String> = m.events().iter().map(|t| distinct::type_scope(t)).collect();
                let zone = summary::zone_of_days(days);
                let reads = SketchReads::push(&mut batch, (&span.from, &span.to), zone, &scopes, &[distinct::USER]);
                (*id, scopes, reads)
            })
            .collect();
        // The day rollup answers counts and amounts of named types; the rest get a statement each.
        let (money, single): (Vec<_>, Vec<_>) = measures
            .iter()
            .filter(|(_, m)| !sql::in_event_rollup(m) && !sql::from_sketches(m))
            .map(|(id, m)| {
                (
                    *id,
                    matches!(m, Measure::Money { .. }),
                    batch.push(sql::measure_over_days(m, &span.from, &span.to, days)),
                )
            })
            .partition(|(_, is_money, _)| *is_money);
        let mut results = batch.run(&self.backend).await?;
        let mut rows = SummaryRows {
            days: results.rows(day_slot)?,
            ..SummaryRows::default()
        };
        for (id, _, slot) in single {
            if let Some(row) = results.first::<MeasureRow>(slot)? {
                rows.measured.push((id, row));
            }
        }
        for (id, _, slot) in money {
            rows.money.push((id, results.rows::<MoneyRow>(slot)?));
        }
        for (id, scopes, reads) in sketched {
            let users = reads.read(&mut results)?.pop().map(|(_, d)| d).unwrap_or_default();
            let value = users.count(scopes.iter().map(String::as_str));
            rows.measured.push((
                id,
                MeasureRow {
                    value: value.into(),
                    min_rate: None,
                    estimated: Some(1),
                },
            ));
        }
        Ok(rows)
    }

    async fn overview_rows(
        &self,
        filter: &EventFilter,
        today: &str,
        recent: usize,
        revenue: &[(&'static str, &'static Measure)],
        buckets: &[Day],
    ) -> StoreResult<OverviewRows> {
        let (from, to) = (filter.range.from_stored(), filter.range.to_stored());
        let names: Vec<&str> = crate::catalog::EVENTS.iter().map(|e| e.name).collect();
        let failure_types = Bind::json(&crate::catalog::failure_types());

        let mut batch = Batch::new();
        let counts = |days: &[Day]| {
            let [hours, raw, zone_days] = day_binds(days);
            Statement::with(
                sql::COUNTS_BY_SERVICE_AND_TYPE,
                [hours, raw, zone_days, failure_types.clone()],
            )
        };
        let days = filter.range.days();
        let type_counts = batch.push(counts(&days));
        // Today's part of the range, when the range reaches today: its last day(s).
        let from_today: Vec<Day> = days
            .iter()
            .filter(|d| crate::time::to_stored(d.start).as_str() >= today)
            .cloned()
            .collect();
        let today_counts = (!from_today.is_empty()).then(|| batch.push(counts(&from_today)));
        let scopes: Vec<String> = crate::catalog::SERVICES
            .iter()
            .map(|s| distinct::service_scope(s))
            .collect();
        let zone = summary::zone_of_days(&filter.range.days());
        let sketches = SketchReads::push(
            &mut batch,
            (&from, &to),
            zone,
            &scopes,
            &[distinct::USER, distinct::SESSION],
        );
        let seen = batch.push(Statement::with(sql::FIRST_LAST_SEEN, [Bind::json(&names)]));
        let daily = batch.push(Statement::with(sql::DAILY_COUNTS_BY_SERVICE, day_binds(buckets)));
        let recent_slot = batch.push(sql::list_events(filter, None, recent));
        let revenue_slots: Vec<_> = revenue
            .iter()
            .map(|(service, m)| (*service, batch.push(sql::measure(m, &from, &to))))
            .collect();
        let mut results = batch.run(&self.backend).await?;
        let mut rows = OverviewRows {
            type_counts: results.rows(type_counts)?,
            today_counts: match today_counts {
                Some(slot) => results.rows(slot)?,
                None => Vec::new(),
            },
            distinct: sketches.read(&mut results)?,
            seen: results.rows(seen)?,
            daily_by_service: results.rows(daily)?,
            recent: results.rows(recent_slot)?,
            revenue: Vec::new(),
        };
        for (service, slot) in revenue_slots {
            rows.revenue.push((service, results.rows::<MoneyRow>(slot)?));
        }
        Ok(rows)
    }

    async fn funnel_rows(
        &self,
        span: &Span,
        steps: &[&str],
        by: Option<Breakdown>,
    ) -> StoreResult<(Vec<StepRow>, Vec<ErrorRow>)> {
        let (from, to) = (Bind::text(&span.from), Bind::text(&span.to));
        let mut batch = Batch::new();
        let step_slot = batch.push(sql::funnel_steps(&span.from, &span.to, steps, by));
        let error_slot = batch.push(Statement::with(sql::FUNNEL_ERRORS, [from, to, Bind::json(steps)]));
        let mut results = batch.run(&self.backend).await?;
        Ok((results.rows(step_slot)?, results.rows(error_slot)?))
    }

    async fn catalog_rows(&self, span: &Span, types: &[&str]) -> StoreResult<CatalogRows> {
        let range = || [Bind::text(&span.from), Bind::text(&span.to)];
        // Volume is kept per UTC day: the days the span touches.
        let days = [Bind::text(&span.from[..10]), Bind::text(&span.to[..10])];
        let mut batch = Batch::new();
        let seen = batch.push(Statement::with(sql::FIRST_LAST_SEEN, [Bind::json(types)]));
        let counts = batch.push(Statement::with(
            sql::COUNTS_BY_TYPE,
            sql::hour_split(&span.from, &span.to),
        ));
        let rejections = batch.push(Statement::with(sql::REJECTIONS_BY_TYPE, range()));
        let volume = batch.push(Statement::with(sql::VOLUME_BY_TYPE, days));
        let mut results = batch.run(&self.backend).await?;
        Ok(CatalogRows {
            seen: results.rows(seen)?,
            counts: results.rows(counts)?,
            rejections: results.rows(rejections)?,
            volume: results.rows(volume)?,
        })
    }

    async fn list_quarantine(&self, q: &QuarantineQuery<'_>) -> StoreResult<Vec<QuarantinedEvent>> {
        self.all(sql::list_quarantine(q)).await
    }

    async fn pending_for_replay(&self, limit: usize) -> StoreResult<Vec<QuarantinedEvent>> {
        self.all(Statement::with(sql::QUARANTINE_PENDING_NEXT, [Bind::Int(limit as i64)]))
            .await
    }

    async fn apply_replay(&self, plan: &ReplayPlan, replayed_at: &str) -> StoreResult<usize> {
        let mut batch = Batch::new();
        let mut inserts = Vec::new();
        if !plan.rows.is_empty() {
            mark_new_rows(&mut batch);
        }
        for chunk in chunks(&plan.rows)? {
            inserts.push(batch.push(Statement::with(sql::INSERT_EVENTS, [Bind::Text(chunk)])));
        }
        if !plan.rows.is_empty() {
            roll_up_new_rows(&mut batch, plan.rows.iter())?;
        }
        if !plan.passed_ids.is_empty() {
            batch.push(Statement::with(
                sql::QUARANTINE_MARK_REPLAYED,
                [Bind::text(replayed_at), Bind::json(&plan.passed_ids)],
            ));
        }
        if !plan.still_failing.is_empty() {
            batch.push(Statement::with(
                sql::QUARANTINE_UPDATE_ERRORS,
                [Bind::json(&plan.still_failing), Bind::text(replayed_at)],
            ));
        }
        let mut results = batch.run(&self.backend).await?;
        let mut inserted = 0;
        for slot in inserts {
            inserted += results.rows::<InsertedKey>(slot)?.len();
        }
        Ok(inserted)
    }

    async fn pending_quarantine_count(&self) -> StoreResult<i64> {
        let rows: Vec<Count> = self.all(Statement::new(sql::QUARANTINE_PENDING_COUNT)).await?;
        Ok(rows.first().map_or(0, |c| c.n))
    }

    async fn usage_of_user(
        &self,
        user_id: &str,
        month: &Span,
        actions: &'static [QuotaAction],
    ) -> StoreResult<Vec<ActionUsage>> {
        let mut batch = Batch::new();
        let slots: Vec<_> = actions
            .iter()
            .map(|action| {
                let binds = sql::QuotaBinds {
                    row: None,
                    month: (&month.from, &month.to),
                    action,
                    user_id: Some(user_id),
                    tenant_id: None,
                };
                batch.push(Statement::with(sql::QUOTA_STATE, binds.binds()))
            })
            .collect();
        let mut results = batch.run(&self.backend).await?;
        let mut lines = Vec::new();
        for slot in slots {
            lines.extend(results.rows::<ActionUsage>(slot)?);
        }
        Ok(lines)
    }

    async fn usage_by_months(
        &self,
        months: &[Span],
        actions: &'static [QuotaAction],
    ) -> StoreResult<Vec<Vec<ActionMonth>>> {
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Ok(Vec::new());
        };
        // One batch covers every month: the totals, and per action the users at their limit.
        let mut batch = Batch::new();
        let names: Vec<&str> = actions.iter().map(|a| a.name).collect();
        let totals = batch.push(Statement::with(
            sql::USAGE_TOTALS,
            [Bind::json(&names), Bind::text(&first.from), Bind::text(&last.to)],
        ));
        let at_limit: Vec<_> = actions
            .iter()
            .map(|action| {
                let binds = sql::QuotaBinds {
                    row: None,
                    month: (&first.from, &last.to),
                    action,
                    user_id: None,
                    tenant_id: None,
                };
                batch.push(Statement::with(sql::QUOTA_USERS_AT_LIMIT, binds.binds()))
            })
            .collect();
        let mut results = batch.run(&self.backend).await?;
        let labels: Vec<String> = months.iter().map(|m| quota_month_label(&m.from)).collect();
        let mut per_month: Vec<Vec<ActionMonth>> = labels
            .iter()
            .map(|_| {
                actions
                    .iter()
                    .map(|action| ActionMonth {
                        action,
                        users: 0,
                        used: 0,
                        at_limit: Vec::new(),
                    })
                    .collect()
            })
            .collect();
        let entry = |month: &str, action: &str| {
            let m = labels.iter().position(|l| l == month)?;
            let a = actions.iter().position(|a| a.name == action)?;
            Some((m, a))
        };
        for t in results.rows::<UsageTotalsRow>(totals)? {
            if let Some((m, a)) = entry(&t.month, &t.action) {
                per_month[m][a].users = usize::try_from(t.users).unwrap_or(0);
                per_month[m][a].used = t.used;
            }
        }
        for slot in at_limit {
            for row in results.rows::<MonthUserRow>(slot)? {
                if let Some((m, a)) = entry(&row.month, &row.usage.action) {
                    per_month[m][a].at_limit.push(row.usage);
                }
            }
        }
        Ok(per_month)
    }

    async fn list_overrides(&self) -> StoreResult<Vec<OverrideRow>> {
        self.all(Statement::new(sql::LIST_QUOTA_OVERRIDES)).await
    }

    async fn set_override(&self, o: &Override, updated_at: &str) -> StoreResult<()> {
        let statement = Statement::with(
            sql::UPSERT_QUOTA_OVERRIDE,
            [
                Bind::text(o.subject_kind.as_str()),
                Bind::text(&o.subject_id),
                Bind::text(o.action),
                Bind::Int(o.monthly_limit),
                Bind::text(updated_at),
            ],
        );
        self.exec(statement).await
    }

    async fn delete_override(&self, kind: SubjectKind, subject_id: &str, action: &str) -> StoreResult<bool> {
        let mut batch = Batch::new();
        let slot = batch.push(Statement::with(
            sql::DELETE_QUOTA_OVERRIDE,
            [Bind::text(kind.as_str()), Bind::text(subject_id), Bind::text(action)],
        ));
        Ok(batch.run(&self.backend).await?.take(slot)?.changes > 0)
    }

    async fn expired_events(&self, before: &str, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        self.all(Statement::with(
            sql::EXPIRED_EVENTS,
            [Bind::text(before), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn archived_hours_of(&self, hours: &[String]) -> StoreResult<Vec<ArchivedHour>> {
        self.all(Statement::with(sql::ARCHIVED_HOURS_OF, [Bind::json(hours)]))
            .await
    }

    async fn archived_hours_in(&self, from: &str, to: &str, limit: usize) -> StoreResult<Vec<ArchivedHour>> {
        self.all(Statement::with(
            sql::ARCHIVED_HOURS_IN_RANGE,
            [Bind::text(from), Bind::text(to), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn commit_archived(&self, hours: &[ArchivedHour], ids: &[i64]) -> StoreResult<u64> {
        let mut batch = Batch::new();
        batch.push(Statement::with(sql::RECORD_ARCHIVED_HOURS, [Bind::json(hours)]));
        batch.push(Statement::with(sql::RECORD_ARCHIVED_SUBJECTS, [Bind::json(ids)]));
        let deleted = batch.push(Statement::with(sql::DELETE_ARCHIVED_EVENTS, [Bind::json(ids)]));
        Ok(batch.run(&self.backend).await?.take(deleted)?.changes)
    }

    async fn event_ids_between(&self, from: &str, to: &str) -> StoreResult<Vec<i64>> {
        #[derive(Deserialize)]
        struct Id {
            id: i64,
        }
        let rows: Vec<Id> = self
            .all(Statement::with(
                sql::EVENT_IDS_BETWEEN,
                [Bind::text(from), Bind::text(to)],
            ))
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    async fn prune_expired(&self, cutoff: &str) -> StoreResult<()> {
        let mut batch = Batch::new();
        for q in sql::PRUNE_EXPIRED {
            batch.push(Statement::with(q, [Bind::text(cutoff)]));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn append_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        let statement = Statement::with(
            sql::INSERT_AUDIT,
            [
                Bind::text(&e.at),
                Bind::text(&e.key_name),
                Bind::text(&e.route),
                Bind::text(&e.kind),
                Bind::opt_text(e.subject.as_deref()),
                e.rows.map_or(Bind::Null, Bind::Int),
            ],
        );
        self.exec(statement).await
    }

    async fn list_audit(&self, q: &AuditQuery<'_>) -> StoreResult<Vec<AuditRow>> {
        self.all(sql::list_audit(
            (&q.span.from, &q.span.to),
            q.key_name,
            q.subject,
            q.after,
            q.limit,
        ))
        .await
    }

    async fn prune_audit(&self, cutoff: &str) -> StoreResult<u64> {
        let mut batch = Batch::new();
        let slot = batch.push(Statement::with(sql::PRUNE_AUDIT, [Bind::text(cutoff)]));
        Ok(batch.run(&self.backend).await?.take(slot)?.changes)
    }

    async fn create_erasure(&self, e: &Erasure) -> StoreResult<()> {
        let mut batch = Batch::new();
        batch.push(Statement::with(
            sql::INSERT_ERASURE,
            [
                Bind::text(&e.id),
                Bind::text(&e.subject_kind),
                Bind::text(&e.subject),
                Bind::Int(i64::from(e.suppress)),
                Bind::text(&e.requested_at),
                Bind::text(&e.requested_by),
            ],
        ));
        if e.suppress {
            batch.push(Statement::with(
                sql::INSERT_SUPPRESSION,
                [
                    Bind::text(&e.subject_kind),
                    Bind::text(&e.subject),
                    Bind::text(&e.id),
                    Bind::text(&e.requested_at),
                ],
            ));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn erase_step(&self, e: &Erasure, chunk: i64, now: &str) -> StoreResult<ErasedRows> {
        let (debit_sql, events_sql, quarantine_sql) = if e.subject_kind == "user_id" {
            (
                sql::DEBIT_ERASED_EVENTS_BY_USER,
                sql::ERASE_EVENTS_BY_USER,
                sql::ERASE_QUARANTINE_BY_USER,
            )
        } else {
            (
                sql::DEBIT_ERASED_EVENTS_BY_FINGERPRINT,
                sql::ERASE_EVENTS_BY_FINGERPRINT,
                sql::ERASE_QUARANTINE_BY_FINGERPRINT,
            )
        };
        let mut batch = Batch::new();
        batch.push(Statement::with(debit_sql, [Bind::text(&e.subject), Bind::Int(chunk)]));
        batch.push(Statement::new(sql::CLEAR_ARCHIVE_DEBITS));
        let events = batch.push(Statement::with(events_sql, [Bind::text(&e.subject), Bind::Int(chunk)]));
        let quarantine = batch.push(Statement::with(
            quarantine_sql,
            [Bind::text(&e.subject), Bind::Int(chunk)],
        ));
        let mut results = batch.run(&self.backend).await?;
        // Counted by the ids returned: D1's `changes` includes the delete triggers' writes.
        let erased = ErasedRows {
            events: results.take(events)?.decode::<IgnoredAny>()?.len() as u64,
            quarantine: results.take(quarantine)?.decode::<IgnoredAny>()?.len() as u64,
        };
        let done = (erased.events as i64) < chunk && (erased.quarantine as i64) < chunk;
        let progress = Statement::with(
            sql::RECORD_ERASURE_PROGRESS,
            [
                Bind::text(&e.id),
                Bind::Int(erased.events as i64),
                Bind::Int(erased.quarantine as i64),
                if done { Bind::text(now) } else { Bind::Null },
            ],
        );
        self.exec(progress).await?;
        Ok(erased)
    }

    async fn get_erasure(&self, id: &str) -> StoreResult<Option<Erasure>> {
        let rows: Vec<Erasure> = self.all(Statement::with(sql::GET_ERASURE, [Bind::text(id)])).await?;
        Ok(rows.into_iter().next())
    }

    async fn archived_hours_of_subject(
        &self,
        kind: &str,
        subject: &str,
        limit: usize,
    ) -> StoreResult<Vec<ArchivedHour>> {
        self.all(Statement::with(
            sql::ARCHIVED_HOURS_OF_SUBJECT,
            [Bind::text(kind), Bind::text(subject), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn archive_rewrites_of(&self, hours: &[String]) -> StoreResult<Vec<ArchiveRewrite>> {
        self.all(Statement::with(sql::ARCHIVE_REWRITES_OF, [Bind::json(hours)]))
            .await
    }

    async fn begin_archive_rewrite(&self, r: &ArchiveRewrite, removed: &[StoredEvent]) -> StoreResult<()> {
        let mut batch = Batch::new();
        batch.push(Statement::with(
            sql::RECORD_ARCHIVE_REWRITE,
            [
                Bind::text(&r.hour),
                Bind::text(&r.erasure_id),
                Bind::Int(r.rows),
                Bind::Int(r.bytes),
                Bind::text(&r.sha256),
            ],
        ));
        if !removed.is_empty() {
            // The columns the rollups' debit reads, in the stored form.
            let debits: Vec<serde_json::Value> = removed
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "ts": e.ts, "event_type": e.event_type, "user_id": e.user_id,
                        "success": e.success, "error_code": e.error_code,
                        "payload_json": e.payload_json, "sample_rate": e.sample_rate,
                    })
                })
                .collect();
            batch.push(Statement::with(sql::DEBIT_ARCHIVED_EVENTS, [Bind::json(&debits)]));
            batch.push(Statement::new(sql::CLEAR_ARCHIVE_DEBITS));
            batch.push(Statement::with(
                sql::COUNT_ARCHIVED_ERASED,
                [Bind::text(&r.erasure_id), Bind::Int(removed.len() as i64)],
            ));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn finish_archive_rewrite(&self, e: &Erasure, manifest: &ArchivedHour, now: &str) -> StoreResult<()> {
        let mut batch = Batch::new();
        batch.push(Statement::with(
            sql::RECORD_ARCHIVED_HOURS,
            [Bind::json(std::slice::from_ref(manifest))],
        ));
        batch.push(Statement::with(
            sql::FORGET_ARCHIVE_REWRITE,
            [Bind::text(&manifest.hour)],
        ));
        batch.push(Statement::with(
            sql::UNINDEX_ARCHIVED_SUBJECT,
            [
                Bind::text(&manifest.hour),
                Bind::text(&e.subject_kind),
                Bind::text(&e.subject),
            ],
        ));
        batch.push(Statement::with(
            sql::FINISH_ERASURE_IF_ARCHIVE_CLEAN,
            [Bind::text(&e.id), Bind::text(now)],
        ));
        batch.run(&self.backend).await.map(drop)
    }

    async fn unfinished_erasures(&self, limit: usize) -> StoreResult<Vec<Erasure>> {
        self.all(sql::unfinished_erasures(limit)).await
    }

    async fn job_state(&self, job: &str) -> StoreResult<JobState> {
        let rows: Vec<JobState> = self.all(Statement::with(sql::GET_JOB, [Bind::text(job)])).await?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    async fn record_job(
        &self,
        job: &str,
        after_id: i64,
        changed: i64,
        finished_at: Option<&str>,
        now: &str,
    ) -> StoreResult<()> {
        let statement = Statement::with(
            sql::RECORD_JOB,
            [
                Bind::text(job),
                Bind::Int(after_id),
                Bind::Int(changed),
                Bind::opt_text(finished_at),
                Bind::text(now),
            ],
        );
        self.exec(statement).await
    }

    async fn sweep_events_page(&self, after_id: i64, limit: usize) -> StoreResult<Vec<SweepEventRow>> {
        self.all(Statement::with(
            sql::SWEEP_EVENTS_PAGE,
            [Bind::Int(after_id), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn sweep_events_write(&self, rows: &[SweepEventRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let tuples: Vec<(i64, &Option<String>, &Option<String>)> =
            rows.iter().map(|r| (r.id, &r.error_message, &r.payload_json)).collect();
        self.exec(Statement::with(sql::SWEEP_EVENTS_WRITE, [Bind::json(&tuples)]))
            .await
    }

    async fn sweep_quarantine_page(&self, after_id: i64, limit: usize) -> StoreResult<Vec<SweepQuarantineRow>> {
        self.all(Statement::with(
            sql::SWEEP_QUARANTINE_PAGE,
            [Bind::Int(after_id), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn sweep_quarantine_write(&self, rows: &[SweepQuarantineRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let tuples: Vec<(i64, &String)> = rows.iter().map(|r| (r.id, &r.event_json)).collect();
        self.exec(Statement::with(sql::SWEEP_QUARANTINE_WRITE, [Bind::json(&tuples)]))
            .await
    }

    async fn oldest_sketch_parts(&self, limit: usize) -> StoreResult<Vec<SketchPartRow>> {
        self.all(Statement::with(sql::OLDEST_SKETCH_PARTS, [Bind::Int(limit as i64)]))
            .await
    }

    async fn sketches_by_key(&self, keys: &[SketchKey]) -> StoreResult<Vec<StoredSketch>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.all(Statement::with(sql::SKETCHES_BY_KEY, [Bind::json(keys)]))
            .await
    }

    async fn write_compaction(&self, merged: &[StoredSketch], part_ids: &[i64]) -> StoreResult<()> {
        let mut batch = Batch::new();
        batch.push(Statement::with(
            sql::GUARD_SKETCH_PARTS,
            [Bind::json(part_ids), Bind::Int(part_ids.len() as i64)],
        ));
        batch.push(Statement::new(sql::CLEAR_SKETCH_GUARD));
        let rows: Vec<[&str; 4]> = merged
            .iter()
            .map(|s| [s.kind.as_str(), s.scope.as_str(), s.period.as_str(), s.regs.as_str()])
            .collect();
        for chunk in chunks(&rows)? {
            batch.push(Statement::with(sql::UPSERT_SKETCHES, [Bind::Text(chunk)]));
        }
        batch.push(Statement::with(sql::DELETE_SKETCH_PARTS, [Bind::json(part_ids)]));
        batch.run(&self.backend).await.map(drop)
    }

    async fn clear_sketches(&self) -> StoreResult<()> {
        let mut batch = Batch::new();
        for s in sql::CLEAR_SKETCHES {
            batch.push(Statement::new(s));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn actors_after(&self, after_id: i64, limit: usize) -> StoreResult<Vec<ActorRow>> {
        self.all(Statement::with(
            sql::ACTORS_AFTER,
            [Bind::Int(after_id), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn append_sketch_parts(&self, parts: &[distinct::Part]) -> StoreResult<()> {
        let mut batch = Batch::new();
        for chunk in chunks(parts)? {
            batch.push(Statement::with(sql::INSERT_SKETCH_PARTS, [Bind::Text(chunk)]));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn last_seen_by_type(&self, types: &[&str]) -> StoreResult<Vec<(String, Option<String>)>> {
        #[derive(Deserialize)]
        struct Row {
            event_type: String,
            last_seen: Option<String>,
        }
        let rows: Vec<Row> = self
            .all(Statement::with(sql::LAST_SEEN_BY_TYPE, [Bind::json(types)]))
            .await?;
        Ok(rows.into_iter().map(|r| (r.event_type, r.last_seen)).collect())
    }

    async fn failure_counts(&self, queries: &[FailureQuery<'_>]) -> StoreResult<Vec<FailureCounts>> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Batch::new();
        let slots: Vec<_> = queries
            .iter()
            .map(|q| {
                batch.push(Statement::with(
                    sql::FAILURE_COUNTS,
                    [
                        Bind::json(q.types),
                        Bind::text(&q.window_start),
                        Bind::text(&q.end),
                        Bind::text(&q.baseline_start),
                        Bind::json(q.failure_types),
                    ],
                ))
            })
            .collect();
        let mut results = batch.run(&self.backend).await?;
        slots
            .into_iter()
            .map(|slot| {
                Ok(results
                    .rows::<FailureCounts>(slot)?
                    .into_iter()
                    .next()
                    .unwrap_or_default())
            })
            .collect()
    }

    async fn quarantined_since(&self, since: &str) -> StoreResult<i64> {
        let rows: Vec<Count> = self
            .all(Statement::with(sql::QUARANTINED_SINCE, [Bind::text(since)]))
            .await?;
        Ok(rows.first().map_or(0, |c| c.n))
    }

    async fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
        self.all(Statement::new(sql::OPEN_INCIDENTS)).await
    }

    async fn recent_incidents(&self, since: &str, limit: usize) -> StoreResult<Vec<Incident>> {
        self.all(Statement::with(
            sql::RECENT_INCIDENTS,
            [Bind::text(since), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn record_alert_changes(&self, open: &[&Finding], resolve: &[i64], now: &str) -> StoreResult<()> {
        if open.is_empty() && resolve.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        for f in open {
            batch.push(Statement::with(
                sql::OPEN_INCIDENT,
                [
                    Bind::text(f.rule),
                    Bind::text(&f.scope),
                    Bind::text(now),
                    Bind::Real(f.value),
                    Bind::Real(f.threshold),
                    Bind::text(&f.summary),
                ],
            ));
        }
        if !resolve.is_empty() {
            batch.push(Statement::with(
                sql::RESOLVE_INCIDENTS,
                [Bind::json(resolve), Bind::text(now)],
            ));
        }
        batch.run(&self.backend).await.map(drop)
    }

    async fn owed_incidents(&self, since: &str, limit: usize) -> StoreResult<Vec<Incident>> {
        self.all(Statement::with(
            sql::OWED_INCIDENTS,
            [Bind::text(since), Bind::Int(limit as i64)],
        ))
        .await
    }

    async fn mark_notified(&self, id: i64, kind: NoticeKind, at: &str) -> StoreResult<()> {
        let sql = match kind {
            NoticeKind::Firing => sql::MARK_NOTIFIED,
            NoticeKind::Resolved => sql::MARK_RESOLVE_NOTIFIED,
        };
        self.exec(Statement::with(sql, [Bind::Int(id), Bind::text(at)])).await
    }

    async fn rebuild_rollups(&self) -> StoreResult<()> {
        let mut batch = Batch::new();
        for s in sql::CLEAR_ROLLUPS.into_iter().chain(sql::ROLL_UP_NEW_ROWS) {
            batch.push(Statement::new(s));
        }
        batch.run(&self.backend).await.map(drop)
    }
}
