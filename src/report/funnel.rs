//! Funnel counting: how many subjects reached each declared step, in order,
//! and why the others dropped off.
//!
//! A subject is a trace. A step sent without a trace counts for its user's
//! trace when the user was seen on one (the latest such trace), else for the
//! user alone. A subject reaches step `k` when it reached `k − 1` and has a
//! step-`k` event no earlier than the time it reached `k − 1`. Drop-off is
//! broken down by the subject's latest `error_code` in the range ("none"
//! when it has none).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::catalog::funnels::Funnel;
use crate::catalog::Text;

/// A row of [`crate::storage::sql::FUNNEL_STEPS`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StepRow {
    pub trace_id: Option<String>,
    pub user_id: Option<String>,
    pub event_type: String,
    pub first_ts: String,
    pub last_ts: String,
    /// With a breakdown: the group's value on these events (the largest, when they differ).
    #[serde(default, rename = "group_value")]
    pub group: Option<String>,
}

/// A row of [`crate::storage::sql::FUNNEL_ERRORS`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorRow {
    pub trace_id: Option<String>,
    pub user_id: Option<String>,
    pub error_code: String,
    pub last_ts: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorShare {
    pub error_code: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StepResult {
    pub index: usize,
    pub event: &'static str,
    pub label: Text,
    pub count: u64,
    /// `count / previous step's count`; null for the first step or when the previous is 0.
    pub conversion_from_previous: Option<f64>,
    pub conversion_from_start: Option<f64>,
    /// Subjects that reached the previous step but not this one.
    pub dropped: u64,
    pub drop_off_by_error: Vec<ErrorShare>,
    /// The traces of up to [`DROPPED_TRACES`] subjects that dropped here, in
    /// order, to open their timelines (subjects known only by a user are not listed).
    pub dropped_traces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FunnelResult {
    pub name: &'static str,
    pub label: Text,
    pub description: Text,
    pub subjects: u64,
    pub steps: Vec<StepResult>,
    pub overall_conversion: Option<f64>,
}

/// Code shown for subjects that dropped off without any error code.
pub const NO_ERROR: &str = "none";
/// Traces listed per step in `dropped_traces`.
pub const DROPPED_TRACES: usize = 20;

fn subject_of(trace: &Option<String>, user: &Option<String>, user_trace: &HashMap<&str, &str>) -> Option<String> {
    match (trace, user) {
        (Some(t), _) => Some(format!("t:{t}")),
        (None, Some(u)) => Some(match user_trace.get(u.as_str()) {
            Some(t) => format!("t:{t}"),
            None => format!("u:{u}"),
        }),
        (None, None) => None,
    }
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

/// Each subject's steps and what explains its drop-off, read once from the rows.
struct Subjects {
    /// subject → per step (earliest, latest) time.
    times: HashMap<String, Vec<Option<(String, String)>>>,
    /// subject → its latest error code.
    last_error: HashMap<String, String>,
    /// subject → its breakdown value: that of its earliest step carrying one.
    group: HashMap<String, String>,
}

fn subjects(funnel: &'static Funnel, steps: &[StepRow], errors: &[ErrorRow]) -> Subjects {
    // The latest trace each user was seen on (by its step time).
    let mut latest: HashMap<&str, (&str, &str)> = HashMap::new();
    for r in steps {
        if let (Some(t), Some(u)) = (&r.trace_id, &r.user_id) {
            let e = latest.entry(u).or_insert((t, &r.first_ts));
            if r.first_ts.as_str() > e.1 {
                *e = (t, &r.first_ts);
            }
        }
    }
    let user_trace: HashMap<&str, &str> = latest.into_iter().map(|(u, (t, _))| (u, t)).collect();

    let n = funnel.steps.len();
    let mut times: HashMap<String, Vec<Option<(String, String)>>> = HashMap::new();
    let mut group: HashMap<String, (usize, String)> = HashMap::new();
    for r in steps {
        let Some(step) = funnel.steps.iter().position(|s| s.event == r.event_type) else {
            continue;
        };
        let Some(subject) = subject_of(&r.trace_id, &r.user_id, &user_trace) else {
            continue;
        };
        if let Some(value) = &r.group {
            let g = group.entry(subject.clone()).or_insert((step, value.clone()));
            if (step, value) < (g.0, &g.1) {
                *g = (step, value.clone());
            }
        }
        let slot = &mut times.entry(subject).or_insert_with(|| vec![None; n])[step];
        *slot = Some(match slot.take() {
            None => (r.first_ts.clone(), r.last_ts.clone()),
            Some((f, l)) => (f.min(r.first_ts.clone()), l.max(r.last_ts.clone())),
        });
    }
    let mut last_error: HashMap<String, (&str, &str)> = HashMap::new();
    for e in errors {
        let Some(subject) = subject_of(&e.trace_id, &e.user_id, &user_trace) else {
            continue;
        };
        let entry = last_error.entry(subject).or_insert((&e.last_ts, &e.error_code));
        if e.last_ts.as_str() > entry.0 {
            *entry = (&e.last_ts, &e.error_code);
        }
    }
    Subjects {
        times,
        last_error: last_error.into_iter().map(|(k, (_, c))| (k, c.to_string())).collect(),
        group: group.into_iter().map(|(k, (_, v))| (k, v)).collect(),
    }
}

pub fn compute(funnel: &'static Funnel, steps: &[StepRow], errors: &[ErrorRow]) -> FunnelResult {
    compute_split(funnel, steps, errors, false).0
}

/// The funnel and, with `split`, its [`breakdown`], from one reading of the
/// rows: each subject is walked through the steps once, then tallied into
/// the whole and into its group, so a breakdown costs about what the funnel costs.
pub fn compute_split(
    funnel: &'static Funnel,
    steps: &[StepRow],
    errors: &[ErrorRow],
    split: bool,
) -> (FunnelResult, Option<Vec<BreakdownGroup>>) {
    let s = subjects(funnel, steps, errors);
    let walked = walk(&s);
    let whole = tally(funnel, &s, walked.iter().copied());
    (whole, split.then(|| groups(funnel, &s, &walked)))
}

/// How deep each subject got: the steps it reached in order, each no earlier
/// than the previous one (its first time there, or else its last).
fn walk(s: &Subjects) -> Vec<(&str, usize)> {
    s.times
        .iter()
        .map(|(subject, steps)| {
            let mut at: Option<&str> = None;
            let mut depth = 0;
            for slot in steps {
                let Some((first, last)) = slot else { break };
                let t = match at {
                    None => first.as_str(),
                    Some(prev) if first.as_str() >= prev => first.as_str(),
                    Some(prev) if last.as_str() >= prev => last.as_str(),
                    Some(_) => break,
                };
                at = Some(t);
                depth += 1;
            }
            (subject.as_str(), depth)
        })
        .collect()
}

/// Counts walked subjects through the funnel's steps, with drop-off reasons.
fn tally<'a>(funnel: &'static Funnel, s: &Subjects, walked: impl Iterator<Item = (&'a str, usize)>) -> FunnelResult {
    let n = funnel.steps.len();
    let mut reached = vec![0u64; n];
    let mut drops: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); n];
    let mut dropped_traces: Vec<Vec<&str>> = vec![Vec::new(); n];
    for (subject, depth) in walked {
        for r in reached.iter_mut().take(depth) {
            *r += 1;
        }
        if depth > 0 && depth < n {
            let code = s.last_error.get(subject).map_or(NO_ERROR, String::as_str);
            *drops[depth].entry(code.to_string()).or_default() += 1;
            if let Some(trace) = subject.strip_prefix("t:") {
                dropped_traces[depth].push(trace);
            }
        }
    }

    let results: Vec<StepResult> = funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut by_error: Vec<ErrorShare> = drops[i]
                .iter()
                .map(|(code, count)| ErrorShare {
                    error_code: code.clone(),
                    count: *count,
                })
                .collect();
            by_error.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.error_code.cmp(&b.error_code)));
            let mut traces = std::mem::take(&mut dropped_traces[i]);
            traces.sort_unstable();
            traces.truncate(DROPPED_TRACES);
            StepResult {
                index: i,
                event: s.event,
                label: s.label,
                count: reached[i],
                conversion_from_previous: if i == 0 { None } else { rate(reached[i], reached[i - 1]) },
                conversion_from_start: rate(reached[i], reached[0]),
                dropped: if i == 0 { 0 } else { reached[i - 1] - reached[i] },
                drop_off_by_error: by_error,
                dropped_traces: traces.into_iter().map(str::to_string).collect(),
            }
        })
        .collect();
    FunnelResult {
        name: funnel.name,
        label: funnel.label,
        description: funnel.description,
        subjects: reached.first().copied().unwrap_or(0),
        overall_conversion: rate(
            reached.last().copied().unwrap_or(0),
            reached.first().copied().unwrap_or(0),
        ),
        steps: results,
    }
}

/// What a funnel is split by: a stored column or a declared string property of its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    EmailDomain,
    Source,
    TenantId,
    Property(&'static str),
}

impl Breakdown {
    /// The `by` parameter: `email_domain`, `source`, `tenant_id`, or a string property one of the
    /// funnel's step types declares (`plan_tier`, `method`, ...).
    pub fn parse(raw: &str, funnel: &Funnel) -> Option<Breakdown> {
        match raw {
            "email_domain" => Some(Breakdown::EmailDomain),
            "source" => Some(Breakdown::Source),
            "tenant_id" => Some(Breakdown::TenantId),
            _ => funnel
                .steps
                .iter()
                .filter_map(|s| crate::catalog::find(s.event))
                .flat_map(|e| e.params.iter())
                .find(|p| p.name == raw && p.kind == crate::catalog::ParamKind::String)
                .map(|p| Breakdown::Property(p.name)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Breakdown::EmailDomain => "email_domain",
            Breakdown::Source => "source",
            Breakdown::TenantId => "tenant_id",
            Breakdown::Property(p) => p,
        }
    }
}

/// Groups a breakdown lists by name; smaller ones are added up as `other`.
pub const BREAKDOWN_GROUPS: usize = 10;

/// One group of a breakdown: the funnel counted over its subjects only.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BreakdownGroup {
    /// The value (an email domain, source, tenant or property value); null for subjects
    /// without one, and for `other`.
    pub value: Option<String>,
    /// True for the group that adds up every value beyond the largest [`BREAKDOWN_GROUPS`].
    pub other: bool,
    pub subjects: u64,
    pub steps: Vec<StepResult>,
    pub overall_conversion: Option<f64>,
}

/// The funnel per value of the breakdown: the [`BREAKDOWN_GROUPS`] values with the most
/// subjects (then by value), subjects without a value, and `other` for the rest.
/// Each subject falls in exactly one group, so the groups' counts add up to the funnel's.
pub fn breakdown(funnel: &'static Funnel, steps: &[StepRow], errors: &[ErrorRow]) -> Vec<BreakdownGroup> {
    compute_split(funnel, steps, errors, true).1.unwrap_or_default()
}

/// The groups of [`breakdown`] from the walked subjects: each subject is put
/// in its group once, then each group is tallied over its own subjects.
fn groups(funnel: &'static Funnel, s: &Subjects, walked: &[(&str, usize)]) -> Vec<BreakdownGroup> {
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for (subject, depth) in walked {
        if let (Some(value), true) = (s.group.get(*subject), *depth > 0) {
            *sizes.entry(value.as_str()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, u64)> = sizes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let top: HashMap<&str, usize> = ranked
        .iter()
        .take(BREAKDOWN_GROUPS)
        .enumerate()
        .map(|(i, (v, _))| (*v, i))
        .collect();
    // Buckets: the top values in rank order, then "no value", then "other".
    let (none, other) = (top.len(), top.len() + 1);
    let mut buckets: Vec<Vec<(&str, usize)>> = vec![Vec::new(); top.len() + 2];
    for &(subject, depth) in walked {
        let bucket = match s.group.get(subject) {
            None => none,
            Some(v) => top.get(v.as_str()).copied().unwrap_or(other),
        };
        buckets[bucket].push((subject, depth));
    }
    let mut values: Vec<&str> = vec![""; top.len()];
    for (v, i) in &top {
        values[*i] = v;
    }
    buckets
        .into_iter()
        .enumerate()
        .filter_map(|(i, members)| {
            let r = tally(funnel, s, members.into_iter());
            // The named groups always show; "no value" and "other" only when they hold someone.
            (i < none || r.subjects > 0).then(|| BreakdownGroup {
                value: (i < none).then(|| values[i].to_string()),
                other: i == other,
                subjects: r.subjects,
                steps: r.steps,
                overall_conversion: r.overall_conversion,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::funnels::FunnelStep;

    const T: Text = Text {
        ko: "단계", en: "step"
    };
    static FUNNEL: Funnel = Funnel {
        name: "test",
        label: T,
        description: T,
        steps: &[
            FunnelStep { event: "a", label: T },
            FunnelStep { event: "b", label: T },
            FunnelStep { event: "c", label: T },
        ],
    };

    fn step(trace: Option<&str>, user: Option<&str>, event: &str, first: &str, last: &str) -> StepRow {
        StepRow {
            trace_id: trace.map(Into::into),
            user_id: user.map(Into::into),
            event_type: event.into(),
            first_ts: first.into(),
            last_ts: last.into(),
            group: None,
        }
    }

    fn error(trace: Option<&str>, code: &str, at: &str) -> ErrorRow {
        ErrorRow {
            trace_id: trace.map(Into::into),
            user_id: None,
            error_code: code.into(),
            last_ts: at.into(),
        }
    }

    #[test]
    fn counts_subjects_per_step_in_order_with_conversion_and_drop_off_by_error() {
        let steps = [
            // t1 completes everything.
            step(Some("t1"), None, "a", "01", "01"),
            step(Some("t1"), None, "b", "02", "02"),
            step(Some("t1"), None, "c", "03", "03"),
            // t2 stops after a, with an error.
            step(Some("t2"), None, "a", "01", "01"),
            // t3 reaches b; its c came before b, so it does not count.
            step(Some("t3"), None, "a", "01", "01"),
            step(Some("t3"), None, "b", "05", "05"),
            step(Some("t3"), None, "c", "04", "04"),
            // t4 skipped a: it never enters the funnel.
            step(Some("t4"), None, "b", "01", "01"),
        ];
        let errors = [
            error(Some("t2"), "otp_expired", "02"),
            error(Some("t2"), "rate_limited", "01"),
        ];
        let r = compute(&FUNNEL, &steps, &errors);
        let counts: Vec<u64> = r.steps.iter().map(|s| s.count).collect();
        assert_eq!(counts, [3, 2, 1]);
        assert_eq!(r.subjects, 3);
        assert_eq!(r.steps[1].dropped, 1);
        assert_eq!(
            r.steps[1].drop_off_by_error,
            [ErrorShare {
                error_code: "otp_expired".into(),
                count: 1
            }],
            "the latest error explains the drop"
        );
        assert_eq!(r.steps[2].drop_off_by_error[0].error_code, NO_ERROR);
        let dropped: Vec<&[String]> = r.steps.iter().map(|s| s.dropped_traces.as_slice()).collect();
        assert_eq!(
            dropped,
            [&[][..], &["t2".to_string()][..], &["t3".to_string()][..]],
            "who dropped where, by trace"
        );
        assert_eq!(r.steps[1].conversion_from_previous, Some(0.6667));
        assert_eq!(r.overall_conversion, Some(0.3333));
    }

    #[test]
    fn a_step_without_a_trace_counts_for_its_users_trace() {
        let steps = [
            step(Some("t1"), Some("u1"), "a", "01", "01"),
            step(Some("t1"), Some("u1"), "b", "02", "02"),
            // The webhook carries the user but no trace.
            step(None, Some("u1"), "c", "03", "03"),
            // A user never seen on a trace is a subject of its own.
            step(None, Some("u2"), "a", "01", "01"),
        ];
        let r = compute(&FUNNEL, &steps, &[]);
        let counts: Vec<u64> = r.steps.iter().map(|s| s.count).collect();
        assert_eq!(counts, [2, 1, 1]);
    }

    #[test]
    fn an_empty_range_has_zero_counts_and_no_rates() {
        let r = compute(&FUNNEL, &[], &[]);
        assert!(r
            .steps
            .iter()
            .all(|s| s.count == 0 && s.conversion_from_start.is_none()));
        assert_eq!(r.overall_conversion, None);
    }

    #[test]
    fn a_breakdown_counts_each_subject_once_in_its_group_the_top_ten_then_the_rest_as_other() {
        let mut steps = Vec::new();
        // Group gN has N+1 subjects (g0..g11: 12 values); half of each group reaches b.
        for g in 0..12 {
            for i in 0..=g {
                let trace = format!("t{g}_{i}");
                let mut a = step(Some(&trace), None, "a", "01", "01");
                a.group = Some(format!("g{g:02}"));
                steps.push(a);
                if i % 2 == 0 {
                    steps.push(step(Some(&trace), None, "b", "02", "02"));
                }
            }
        }
        // A subject whose value comes only with its later step; one with none at all.
        steps.push(step(Some("late"), None, "a", "01", "01"));
        let mut late_b = step(Some("late"), None, "b", "02", "02");
        late_b.group = Some("g11".into());
        steps.push(late_b);
        steps.push(step(Some("bare"), None, "a", "01", "01"));
        let groups = breakdown(&FUNNEL, &steps, &[]);
        let names: Vec<(Option<&str>, bool, u64)> = groups
            .iter()
            .map(|g| (g.value.as_deref(), g.other, g.subjects))
            .collect();
        assert_eq!(names.len(), BREAKDOWN_GROUPS + 2);
        assert_eq!(
            names[0],
            (Some("g11"), false, 13),
            "the late value counts for its subject"
        );
        assert_eq!(names[9], (Some("g02"), false, 3));
        assert_eq!(names[10], (None, false, 1), "subjects without a value");
        assert_eq!(names[11], (None, true, 1 + 2), "g00 and g01 are other");
        let total = compute(&FUNNEL, &steps, &[]);
        for i in 0..2 {
            let sum: u64 = groups.iter().map(|g| g.steps[i].count).sum();
            assert_eq!(sum, total.steps[i].count, "step {i}: groups add up to the funnel");
        }
        assert_eq!(groups[0].steps[1].count, 6 + 1, "six of g11 and the late one reach b");
    }
}
