//! A batch from plan to response.
//!
//! [`plan`] normalises every event and decides what to insert and what to
//! quarantine; storage inserts and reports which `(source, event_id)` pairs
//! were new; [`respond`] turns that into the API's per-event results (docs/api.md).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::normalize::{normalize, EventRow, Normalized, QuarantineRow, RequestContext};
use super::sampling;
use crate::catalog::quotas::{self, QuotaAction};
use crate::catalog::validate::Issue;

#[derive(Debug, Clone, PartialEq)]
enum Planned {
    /// Index into [`Plan::rows`].
    Insert(usize),
    /// With the index of its copy in [`Plan::quarantine`].
    Rejected(Vec<Issue>, usize),
    /// Same `(source, event_id)` as an earlier event of this batch.
    DuplicateInBatch,
    /// Valid, and left out by its type's sampling rate.
    SampledOut,
}

/// A row that uses a quota action: stored only while the user is under the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct MeteredRow {
    /// Index into [`Plan::rows`].
    pub row: usize,
    pub action: &'static QuotaAction,
    pub user_id: String,
    pub tenant_id: Option<String>,
}

/// `(source, event_id)`.
pub type Key = (String, String);

/// What storage reports about a planned batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreOutcome {
    /// Rows that were new.
    pub inserted: HashSet<Key>,
    /// Metered rows refused because the user was at the limit.
    pub quota_limited: HashSet<Key>,
    /// Usage after the batch, per metered `(user, action)`.
    pub quotas: Vec<QuotaState>,
    /// The batch's subjects that were erased with suppression: their events were stored nowhere.
    pub suppressed: HashSet<Subject>,
    /// Nothing was stored yet: the rows went to the queue, whose consumer stores them.
    pub queued: bool,
}

/// `(kind, value)`: `("email_fingerprint", <64 hex>)` or `("user_id", <id>)`,
/// the two ways an erasure names a person.
pub type Subject = (String, String);

fn subject(kind: &str, value: Option<&str>) -> Option<Subject> {
    value.map(|v| (kind.to_string(), v.to_string()))
}

/// The subjects an event row names.
fn row_subjects(row: &EventRow) -> [Option<Subject>; 2] {
    [
        subject("email_fingerprint", row.email_fingerprint.as_deref()),
        subject("user_id", row.user_id.as_deref()),
    ]
}

/// The subjects a quarantined copy names (its address is already a fingerprint).
fn quarantine_subjects_of(q: &QuarantineRow) -> [Option<Subject>; 2] {
    let event: Value = serde_json::from_str(&q.event_json).unwrap_or(Value::Null);
    let user = ["user_id", "userId", "sub"]
        .iter()
        .find_map(|k| event.get(*k).and_then(Value::as_str));
    [
        subject(
            "email_fingerprint",
            event.get("email_fingerprint").and_then(Value::as_str),
        ),
        subject("user_id", user),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QuotaState {
    pub user_id: String,
    pub action: String,
    pub used: i64,
    pub limit: i64,
    pub remaining: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct PlannedEvent {
    event_id: String,
    planned: Planned,
    warnings: Vec<Issue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Valid events to store, each `(source, event_id)` at most once.
    pub rows: Vec<EventRow>,
    /// The rows among [`Plan::rows`] that use a quota action.
    pub metered: Vec<MeteredRow>,
    pub quarantine: Vec<QuarantineRow>,
    /// The subjects each quarantined copy names, read once from the copy.
    quarantine_subjects: Vec<[Option<Subject>; 2]>,
    /// Valid events received and kept per `(UTC day, event type)`: the volume before sampling.
    pub volume: BTreeMap<(String, String), (i64, i64)>,
    events: Vec<PlannedEvent>,
    request_warnings: Vec<String>,
}

impl Plan {
    /// Rows stored without a quota check.
    pub fn unmetered_rows(&self) -> Vec<&EventRow> {
        let metered: HashSet<usize> = self.metered.iter().map(|m| m.row).collect();
        self.rows
            .iter()
            .enumerate()
            .filter(|(i, _)| !metered.contains(i))
            .map(|(_, r)| r)
            .collect()
    }

    /// The subjects whose suppression would explain why an event was not
    /// stored: those of rows the inserts did not take (`inserted` lacks their
    /// key) and of quarantined copies, each once. Empty for a batch whose rows
    /// were all new and valid, the common case: then nothing is looked up.
    pub fn subjects_not_stored(&self, inserted: &HashSet<Key>) -> Vec<Subject> {
        // Every row new (the common case): no key is rebuilt to look it up.
        let all_stored = inserted.len() >= self.rows.len();
        let mut all: Vec<Subject> = self
            .rows
            .iter()
            .filter(|row| !all_stored && !inserted.contains(&(row.source.clone(), row.event_id.clone())))
            .flat_map(row_subjects)
            .chain(self.quarantine_subjects.iter().flatten().cloned())
            .flatten()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The plan of a queued message: its rows and quarantine copies to write
    /// as ingest would have (no metered row ever goes through the queue; the
    /// volume counters are written apart, once per message).
    pub fn from_queued(rows: Vec<EventRow>, quarantine: Vec<QuarantineRow>) -> Plan {
        Plan {
            rows,
            metered: Vec::new(),
            quarantine_subjects: quarantine.iter().map(quarantine_subjects_of).collect(),
            quarantine,
            volume: BTreeMap::new(),
            events: Vec::new(),
            request_warnings: Vec::new(),
        }
    }

    /// `[[day, event_type, received, kept], ...]` for the volume upsert.
    pub fn volume_rows(&self) -> Vec<(String, String, i64, i64)> {
        self.volume
            .iter()
            .map(|((d, t), (r, k))| (d.clone(), t.clone(), *r, *k))
            .collect()
    }
}

pub fn plan(
    events: &[Value],
    ctx: &RequestContext,
    request_warnings: Vec<String>,
    new_event_id: &mut dyn FnMut() -> String,
) -> Plan {
    let mut rows = Vec::new();
    let mut metered = Vec::new();
    let mut quarantine = Vec::new();
    let mut quarantine_subjects = Vec::new();
    let mut volume: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut seen = HashSet::new();
    let planned = events
        .iter()
        .map(|raw| match normalize(raw, ctx, new_event_id) {
            Normalized::Valid { mut row, warnings } => {
                let event_id = row.event_id.clone();
                let planned = if seen.insert((row.source.clone(), event_id.clone())) {
                    // Only metered types need their properties read back (for a conditional action).
                    let action = if quotas::is_metered_type(&row.event_type) {
                        let properties: Option<Value> =
                            row.payload_json.as_deref().and_then(|p| serde_json::from_str(p).ok());
                        quotas::action_for(&row.event_type, properties.as_ref())
                    } else {
                        None
                    };
                    // A metered event is always kept: usage must never be sampled away.
                    let kept = action.is_some() || sampling::keep(&row.source, &row.event_id, row.sample_rate);
                    let day = row.ts.get(..10).unwrap_or_default().to_string();
                    let counts = volume.entry((day, row.event_type.clone())).or_default();
                    counts.0 += 1;
                    if kept {
                        counts.1 += 1;
                        if let Some(action) = action {
                            row.sample_rate = 1.0;
                            metered.push(MeteredRow {
                                row: rows.len(),
                                action,
                                user_id: row.user_id.clone().unwrap_or_default(),
                                tenant_id: row.tenant_id.clone(),
                            });
                        }
                        rows.push(row);
                        Planned::Insert(rows.len() - 1)
                    } else {
                        Planned::SampledOut
                    }
                } else {
                    Planned::DuplicateInBatch
                };
                PlannedEvent {
                    event_id,
                    planned,
                    warnings,
                }
            }
            Normalized::Rejected {
                event_id,
                errors,
                warnings,
                quarantine: q,
                ..
            } => {
                quarantine_subjects.push(quarantine_subjects_of(&q));
                quarantine.push(q);
                PlannedEvent {
                    event_id,
                    planned: Planned::Rejected(errors, quarantine.len() - 1),
                    warnings,
                }
            }
        })
        .collect();
    Plan {
        rows,
        metered,
        quarantine,
        quarantine_subjects,
        volume,
        events: planned,
        request_warnings,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Duplicate,
    SampledOut,
    Rejected,
    QuotaLimited,
    /// The subject was erased with suppression: stored nowhere, counted as processed.
    Suppressed,
    /// Valid, and handed to the queue while the database could not take the
    /// batch: stored later, once per `(source, event_id)`. Counted as processed.
    Queued,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventResult {
    pub index: usize,
    pub status: Status,
    pub event_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Issue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Issue>,
}

/// The body of an ingest answer: per-event results and their totals.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IngestBody {
    /// No event was rejected or refused.
    pub success: bool,
    /// Events accepted, queued, found to be duplicates, sampled out or suppressed.
    pub processed: usize,
    /// Events rejected or refused for their quota.
    pub failed: usize,
    pub results: Vec<EventResult>,
    /// `events[i]: message` for every error, for a quick look.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Usage after the batch, per metered user and action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<Vec<QuotaState>>,
    /// On a 402 or 422 the body is a problem: its RFC 9457 members sit beside the results.
    #[serde(flatten)]
    pub problem: ProblemMembers,
}

/// The RFC 9457 members of an ingest answer that is a problem (402, 422);
/// absent from a 200.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProblemMembers {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl From<crate::error::Problem> for ProblemMembers {
    fn from(p: crate::error::Problem) -> ProblemMembers {
        ProblemMembers {
            type_uri: Some(p.type_uri),
            title: Some(p.title),
            status: Some(p.status),
            detail: Some(p.detail),
            code: Some(p.code),
        }
    }
}

/// The HTTP answer to an ingest request whose batch reached storage.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestResponse {
    pub status: u16,
    /// 4xx answers are problem+json (with the results as extension members).
    pub is_problem: bool,
    pub body: IngestBody,
}

impl IngestResponse {
    /// The body as JSON, as the sender receives it.
    pub fn json(&self) -> Value {
        serde_json::to_value(&self.body).unwrap_or_default()
    }
}

/// Builds the response once storage has said which rows were new (no quota in play).
pub fn respond(plan: &Plan, inserted: &HashSet<Key>) -> IngestResponse {
    respond_with(
        plan,
        &StoreOutcome {
            inserted: inserted.clone(),
            ..Default::default()
        },
    )
}

/// Builds the response from everything storage reported.
pub fn respond_with(plan: &Plan, outcome: &StoreOutcome) -> IngestResponse {
    let inserted = &outcome.inserted;
    let is_suppressed =
        |subjects: &[Option<Subject>; 2]| subjects.iter().flatten().any(|s| outcome.suppressed.contains(s));
    let usage: HashMap<(&str, &str), &QuotaState> = outcome
        .quotas
        .iter()
        .map(|q| ((q.user_id.as_str(), q.action.as_str()), q))
        .collect();
    let metered: HashMap<usize, &MeteredRow> = plan.metered.iter().map(|m| (m.row, m)).collect();
    let mut quota_refusals = 0usize;
    let mut results = Vec::with_capacity(plan.events.len());
    let mut errors = Vec::new();
    let mut warnings = plan.request_warnings.clone();
    let (mut processed, mut failed) = (0usize, 0usize);
    for (index, ev) in plan.events.iter().enumerate() {
        let (status, event_errors) = match &ev.planned {
            Planned::Insert(i) => {
                let row = &plan.rows[*i];
                let key = (row.source.clone(), row.event_id.clone());
                if outcome.queued {
                    (Status::Queued, Vec::new())
                } else if inserted.contains(&key) {
                    (Status::Accepted, Vec::new())
                } else if is_suppressed(&row_subjects(row)) {
                    (Status::Suppressed, Vec::new())
                } else if outcome.quota_limited.contains(&key) {
                    quota_refusals += 1;
                    let m = metered.get(i);
                    let state = m.and_then(|m| usage.get(&(m.user_id.as_str(), m.action.name)));
                    let action = m.map_or("", |m| m.action.name);
                    let (used, limit) = state.map_or((0, 0), |s| (s.used, s.limit));
                    let issue = Issue::new(
                        "quota_exceeded",
                        "event_type",
                        quotas::exceeded_message(action, used, limit),
                    );
                    (Status::QuotaLimited, vec![issue])
                } else {
                    (Status::Duplicate, Vec::new())
                }
            }
            Planned::DuplicateInBatch => (Status::Duplicate, Vec::new()),
            Planned::SampledOut => (Status::SampledOut, Vec::new()),
            Planned::Rejected(_, q) if is_suppressed(&plan.quarantine_subjects[*q]) => (Status::Suppressed, Vec::new()),
            Planned::Rejected(errs, _) => (Status::Rejected, errs.clone()),
        };
        match status {
            Status::Rejected | Status::QuotaLimited => failed += 1,
            _ => processed += 1,
        }
        errors.extend(event_errors.iter().map(|e| format!("events[{index}]: {}", e.message)));
        warnings.extend(ev.warnings.iter().map(|w| format!("events[{index}]: {}", w.message)));
        results.push(EventResult {
            index,
            status,
            event_id: ev.event_id.clone(),
            errors: event_errors,
            warnings: ev.warnings.clone(),
        });
    }
    let mut body = IngestBody {
        success: failed == 0,
        processed,
        failed,
        results,
        errors,
        warnings,
        quota: (!outcome.quotas.is_empty()).then(|| outcome.quotas.clone()),
        problem: ProblemMembers::default(),
    };
    if processed > 0 {
        // Queued and none stored (a queued batch stores nothing at once): 202.
        let queued = body.results.iter().any(|r| r.status == Status::Queued);
        return IngestResponse {
            status: if queued { 202 } else { 200 },
            is_problem: false,
            body,
        };
    }
    let problem = if quota_refusals > 0 {
        crate::error::Problem::new(
            402,
            "quota_exceeded",
            "Payment Required",
            "Every event was refused and at least one for its monthly quota; see results[].errors and quota.",
        )
    } else {
        crate::error::Problem::new(
            422,
            "all_events_rejected",
            "Unprocessable Content",
            "Every event in the batch was rejected; see results[].errors. They are kept in the quarantine.",
        )
    };
    let status = problem.status;
    body.problem = problem.into();
    IngestResponse {
        status,
        is_problem: true,
        body,
    }
}

#[cfg(test)]
mod tests;
