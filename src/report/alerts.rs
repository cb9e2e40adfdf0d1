//! Alert maths, platform-free: each rule of [`crate::catalog::alerts`] over
//! its readings (rollup counts, last-seen times) gives one [`Finding`] per
//! scope; the incident state machine ([`changes`]) opens an incident once per
//! firing (rule, scope) and resolves it when the finding clears; [`notices`]
//! lists what is still to be sent; [`message`] is the webhook's body.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::alerts::{AlertKind, AlertRule, RateLimit};

/// Weighted events and failures of a failure-rate rule: in its window, and in
/// the baseline hours before it (zero for a fixed limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct FailureCounts {
    pub window_events: f64,
    pub window_failed: f64,
    pub baseline_events: f64,
    pub baseline_failed: f64,
}

/// What the rules read, gathered by the use case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    /// Each catalog service's latest stored event (stored form), `None` when it never sent.
    pub last_seen: Vec<(String, Option<String>)>,
    /// Per failure-rate rule (by name).
    pub failures: Vec<(&'static str, FailureCounts)>,
    /// Per quarantine-growth rule (by name): rows quarantined in its window.
    pub quarantined: Vec<(&'static str, i64)>,
    /// Per quota action: users at their limit this quota month.
    pub at_limit: Vec<(String, i64)>,
}

/// One rule's verdict for one scope (a service, an action, or `""`).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub scope: String,
    pub firing: bool,
    /// Minutes silent, percent failed, or a count.
    pub value: f64,
    /// The value at which it fires (a rate fires above it, the others at it).
    pub threshold: f64,
    /// One English sentence for the webhook and the console.
    pub summary: String,
}

/// `[window_start, end)` and `baseline_start` as rollup hours (`YYYY-MM-DDTHH`):
/// the window is the current UTC hour and the `window_hours - 1` before it.
pub fn failure_hours(now: DateTime<Utc>, window_hours: i64, limit: RateLimit) -> (String, String, String) {
    let hour = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H").to_string();
    let window_start = now - Duration::hours(window_hours - 1);
    let baseline = match limit {
        RateLimit::Above { .. } => 0,
        RateLimit::AboveBaseline { baseline_hours, .. } => baseline_hours,
    };
    (
        hour(window_start),
        hour(now + Duration::hours(1)),
        hour(window_start - Duration::hours(baseline)),
    )
}

/// Share of `failed` in `events`, in percent; `None` without events.
pub fn percent(failed: f64, events: f64) -> Option<f64> {
    (events > 0.0).then(|| 100.0 * failed / events)
}

/// Whether a failure rate fires: `(firing, rate %, threshold %)`.
pub fn failure_rate(counts: &FailureCounts, min_events: i64, limit: RateLimit) -> (bool, f64, f64) {
    let rate = percent(counts.window_failed, counts.window_events).unwrap_or(0.0);
    let enough = counts.window_events.round() >= min_events as f64;
    match limit {
        RateLimit::Above { percent } => (enough && rate > percent, rate, percent),
        RateLimit::AboveBaseline {
            factor, min_percent, ..
        } => {
            // No baseline traffic is a 0 % baseline: then only `min_percent` holds the rate back.
            let baseline = percent(counts.baseline_failed, counts.baseline_events).unwrap_or(0.0);
            let threshold = (factor * baseline).max(min_percent);
            (
                enough && rate > factor * baseline && rate >= min_percent,
                rate,
                threshold,
            )
        }
    }
}

/// Minutes since `last_seen` (stored form); `None` when it never sent or cannot be read.
pub fn minutes_silent(last_seen: Option<&str>, now: DateTime<Utc>) -> Option<i64> {
    let t = crate::time::parse_rfc3339(last_seen?)?;
    Some((now - t).num_minutes().max(0))
}

/// Every finding of `rule` over `readings`.
pub fn evaluate(rule: &AlertRule, readings: &Readings, now: DateTime<Utc>) -> Vec<Finding> {
    let finding = |scope: &str, firing: bool, value: f64, threshold: f64, summary: String| Finding {
        rule: rule.name,
        scope: scope.to_string(),
        firing,
        value,
        threshold,
        summary,
    };
    match rule.kind {
        AlertKind::ServiceSilent { minutes } => readings
            .last_seen
            .iter()
            .map(|(service, last)| {
                let silent = minutes_silent(last.as_deref(), now);
                let value = silent.unwrap_or(0);
                let summary = match last {
                    Some(t) => format!("{service} sent no event for {value} minutes (since {t}; limit {minutes})"),
                    None => format!("{service} never sent an event"),
                };
                finding(
                    service,
                    silent.is_some_and(|m| m >= minutes),
                    value as f64,
                    minutes as f64,
                    summary,
                )
            })
            .collect(),
        AlertKind::FailureRate {
            events,
            window_hours,
            min_events,
            limit,
        } => {
            let counts = lookup(&readings.failures, rule.name).unwrap_or_default();
            let (firing, rate, threshold) = failure_rate(&counts, min_events, limit);
            let baseline = match limit {
                RateLimit::Above { .. } => String::new(),
                RateLimit::AboveBaseline { baseline_hours, .. } => format!(
                    "; baseline {:.1} % over the {baseline_hours} h before",
                    percent(counts.baseline_failed, counts.baseline_events).unwrap_or(0.0)
                ),
            };
            let summary = format!(
                "{}: {rate:.1} % failed over the last {window_hours} h ({:.0} of {:.0} events{baseline}; fires above {threshold:.1} %)",
                events.join(", "),
                counts.window_failed,
                counts.window_events,
            );
            vec![finding("", firing, rate, threshold, summary)]
        }
        AlertKind::QuarantineGrowth {
            window_minutes,
            at_least,
        } => {
            let n = lookup(&readings.quarantined, rule.name).unwrap_or(0);
            let summary = format!("{n} events quarantined in the last {window_minutes} minutes (fires at {at_least})");
            vec![finding("", n >= at_least, n as f64, at_least as f64, summary)]
        }
        AlertKind::UsersAtQuota { at_least } => readings
            .at_limit
            .iter()
            .map(|(action, n)| {
                let summary = format!("{action}: {n} users at their monthly limit (fires at {at_least})");
                finding(action, *n >= at_least, *n as f64, at_least as f64, summary)
            })
            .collect(),
    }
}

fn lookup<T: Copy>(list: &[(&'static str, T)], rule: &str) -> Option<T> {
    list.iter().find(|(name, _)| *name == rule).map(|(_, v)| *v)
}

/// An incident as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: i64,
    pub rule: String,
    /// The service or quota action the incident is about; empty for rules with one scope.
    pub scope: String,
    pub opened_at: String,
    /// Null while open.
    pub resolved_at: Option<String>,
    /// The rule's value when the incident opened (minutes, percent or a count).
    pub value: f64,
    pub threshold: f64,
    pub summary: String,
    /// When every webhook took the firing message (null: not yet, or no webhook configured).
    pub notified_at: Option<String>,
    /// When every webhook took the resolve message.
    pub resolve_notified_at: Option<String>,
}

/// What a run changes: the findings that open an incident, the incidents that resolve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes<'a> {
    pub open: Vec<&'a Finding>,
    pub resolve: Vec<i64>,
}

/// The state machine: a firing finding without an open incident of its
/// (rule, scope) opens one; an open incident stays open (and is never
/// re-opened or re-notified) while its finding fires, and resolves once no
/// finding of its (rule, scope) fires (cleared, or the rule or scope is gone).
pub fn changes<'a>(findings: &'a [Finding], open: &[Incident]) -> Changes<'a> {
    let is_open = |f: &Finding| open.iter().any(|i| i.rule == f.rule && i.scope == f.scope);
    let fires = |i: &Incident| {
        findings
            .iter()
            .any(|f| f.firing && f.rule == i.rule && f.scope == i.scope)
    };
    Changes {
        open: findings.iter().filter(|f| f.firing && !is_open(f)).collect(),
        resolve: open.iter().filter(|i| !fires(i)).map(|i| i.id).collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Firing,
    Resolved,
}

/// The messages still owed, oldest incident first: the firing message of each
/// incident not yet notified, and the resolve message of each resolved one
/// whose firing message went out (in this run or before).
pub fn notices(incidents: &[Incident]) -> Vec<(&Incident, NoticeKind)> {
    let mut out = Vec::new();
    for i in incidents {
        if i.notified_at.is_none() {
            out.push((i, NoticeKind::Firing));
        }
        if i.resolved_at.is_some() && i.resolve_notified_at.is_none() {
            out.push((i, NoticeKind::Resolved));
        }
    }
    out
}

/// The webhook body: Slack's `text`, plus the incident as structured fields.
pub fn message(incident: &Incident, kind: NoticeKind) -> serde_json::Value {
    let scope = if incident.scope.is_empty() {
        String::new()
    } else {
        format!(" [{}]", incident.scope)
    };
    let text = match kind {
        NoticeKind::Firing => format!(
            ":rotating_light: funnel alert {}{scope} since {}: {}",
            incident.rule, incident.opened_at, incident.summary
        ),
        NoticeKind::Resolved => format!(
            ":white_check_mark: funnel alert {}{scope} resolved at {} (open since {})",
            incident.rule,
            incident.resolved_at.as_deref().unwrap_or(""),
            incident.opened_at
        ),
    };
    serde_json::json!({
        "text": text,
        "status": kind,
        "incident": {
            "id": incident.id,
            "rule": incident.rule,
            "scope": incident.scope,
            "opened_at": incident.opened_at,
            "resolved_at": incident.resolved_at,
            "value": incident.value,
            "threshold": incident.threshold,
            "summary": incident.summary,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Text;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 12, 30, 0).unwrap()
    }

    const LABEL: Text = Text { ko: "k", en: "e" };

    fn rule(kind: AlertKind) -> AlertRule {
        AlertRule {
            name: "r",
            label: LABEL,
            kind,
        }
    }

    fn counts(window_events: f64, window_failed: f64, baseline_events: f64, baseline_failed: f64) -> FailureCounts {
        FailureCounts {
            window_events,
            window_failed,
            baseline_events,
            baseline_failed,
        }
    }

    #[test]
    fn a_service_is_silent_from_its_limit_on_and_never_when_it_never_sent() {
        let r = rule(AlertKind::ServiceSilent { minutes: 60 });
        let readings = Readings {
            last_seen: vec![
                ("a".into(), Some("2026-03-10T11:30:00.000Z".into())),
                ("b".into(), Some("2026-03-10T11:30:01.000Z".into())),
                ("c".into(), None),
            ],
            ..Readings::default()
        };
        let f = evaluate(&r, &readings, now());
        let firing: Vec<(&str, bool, f64)> = f.iter().map(|f| (f.scope.as_str(), f.firing, f.value)).collect();
        assert_eq!(firing, [("a", true, 60.0), ("b", false, 59.0), ("c", false, 0.0)]);
        assert!(
            f[0].summary.contains("a sent no event for 60 minutes"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn a_fixed_failure_rate_fires_only_above_its_limit_and_with_enough_events() {
        let limit = RateLimit::Above { percent: 20.0 };
        assert_eq!(
            failure_rate(&counts(10.0, 3.0, 0.0, 0.0), 10, limit),
            (true, 30.0, 20.0)
        );
        assert!(
            !failure_rate(&counts(10.0, 2.0, 0.0, 0.0), 10, limit).0,
            "exactly at the limit"
        );
        assert!(
            !failure_rate(&counts(9.0, 9.0, 0.0, 0.0), 10, limit).0,
            "too few events"
        );
        assert!(!failure_rate(&counts(0.0, 0.0, 0.0, 0.0), 10, limit).0, "no events");
    }

    #[test]
    fn a_baseline_failure_rate_fires_above_factor_times_its_trailing_rate_and_its_floor() {
        let limit = RateLimit::AboveBaseline {
            factor: 2.0,
            baseline_hours: 168,
            min_percent: 10.0,
        };
        // Baseline 10 %: fires above 20 %.
        assert_eq!(
            failure_rate(&counts(100.0, 21.0, 1000.0, 100.0), 20, limit),
            (true, 21.0, 20.0)
        );
        assert!(!failure_rate(&counts(100.0, 20.0, 1000.0, 100.0), 20, limit).0);
        // Baseline 2 %: twice is 4 %, but the floor is 10 %.
        assert!(!failure_rate(&counts(100.0, 9.0, 1000.0, 20.0), 20, limit).0);
        assert_eq!(
            failure_rate(&counts(100.0, 10.0, 1000.0, 20.0), 20, limit),
            (true, 10.0, 10.0)
        );
        // No baseline traffic is a 0 % baseline.
        assert!(failure_rate(&counts(100.0, 10.0, 0.0, 0.0), 20, limit).0);
        assert!(
            !failure_rate(&counts(19.0, 19.0, 0.0, 0.0), 20, limit).0,
            "too few events"
        );
    }

    #[test]
    fn failure_windows_are_whole_utc_hours_ending_with_the_current_one() {
        let (start, end, base) = failure_hours(now(), 2, RateLimit::Above { percent: 1.0 });
        assert_eq!(
            (start.as_str(), end.as_str(), base.as_str()),
            ("2026-03-10T11", "2026-03-10T13", "2026-03-10T11")
        );
        let limit = RateLimit::AboveBaseline {
            factor: 2.0,
            baseline_hours: 24,
            min_percent: 1.0,
        };
        assert_eq!(failure_hours(now(), 2, limit).2, "2026-03-09T11");
    }

    #[test]
    fn quarantine_growth_and_users_at_quota_fire_at_their_count() {
        let q = AlertRule {
            name: "q",
            label: LABEL,
            kind: AlertKind::QuarantineGrowth {
                window_minutes: 60,
                at_least: 100,
            },
        };
        let with = |n| Readings {
            quarantined: vec![("q", n)],
            ..Readings::default()
        };
        assert!(evaluate(&q, &with(100), now())[0].firing);
        assert!(!evaluate(&q, &with(99), now())[0].firing);
        let u = rule(AlertKind::UsersAtQuota { at_least: 5 });
        let readings = Readings {
            at_limit: vec![("compile".into(), 5), ("workflow_run".into(), 4)],
            ..Readings::default()
        };
        let f = evaluate(&u, &readings, now());
        assert_eq!(
            f.iter().map(|f| (f.scope.as_str(), f.firing)).collect::<Vec<_>>(),
            [("compile", true), ("workflow_run", false)]
        );
    }

    fn incident(id: i64, rule: &str, scope: &str) -> Incident {
        Incident {
            id,
            rule: rule.into(),
            scope: scope.into(),
            opened_at: "2026-03-10T12:00:00.000Z".into(),
            resolved_at: None,
            value: 1.0,
            threshold: 1.0,
            summary: "s".into(),
            notified_at: None,
            resolve_notified_at: None,
        }
    }

    fn finding(rule: &'static str, scope: &str, firing: bool) -> Finding {
        Finding {
            rule,
            scope: scope.into(),
            firing,
            value: 0.0,
            threshold: 0.0,
            summary: String::new(),
        }
    }

    #[test]
    fn an_incident_opens_once_per_rule_and_scope_and_resolves_when_it_clears() {
        let findings = [
            finding("silent", "a", true),
            finding("silent", "b", true),
            finding("silent", "c", false),
            finding("rate", "", false),
        ];
        // Nothing open: both firing scopes open, nothing resolves.
        let c = changes(&findings, &[]);
        assert_eq!(c.open.iter().map(|f| f.scope.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(c.resolve.is_empty());
        // `a` already open stays open (not reopened); `rate` cleared; a rule no longer declared resolves.
        let open = [
            incident(1, "silent", "a"),
            incident(2, "rate", ""),
            incident(3, "gone", ""),
        ];
        let c = changes(&findings, &open);
        assert_eq!(c.open.iter().map(|f| f.scope.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(c.resolve, [2, 3]);
    }

    #[test]
    fn notices_owe_one_firing_and_one_resolve_message_per_incident() {
        let mut fresh = incident(1, "r", "");
        let mut told = incident(2, "r", "x");
        told.notified_at = Some("t".into());
        let mut resolved = incident(3, "r", "y");
        resolved.notified_at = Some("t".into());
        resolved.resolved_at = Some("t2".into());
        let mut done = resolved.clone();
        done.id = 4;
        done.resolve_notified_at = Some("t3".into());
        let all = [fresh.clone(), told, resolved, done];
        let owed: Vec<(i64, NoticeKind)> = notices(&all).iter().map(|(i, k)| (i.id, *k)).collect();
        assert_eq!(owed, [(1, NoticeKind::Firing), (3, NoticeKind::Resolved)]);
        // Never told, and already cleared: both messages, firing first.
        fresh.resolved_at = Some("t2".into());
        let owed: Vec<NoticeKind> = notices(std::slice::from_ref(&fresh)).iter().map(|(_, k)| *k).collect();
        assert_eq!(owed, [NoticeKind::Firing, NoticeKind::Resolved]);
    }

    #[test]
    fn the_message_is_slack_text_with_the_incident_as_fields() {
        let mut i = incident(7, "service_silent", "pluid");
        let m = message(&i, NoticeKind::Firing);
        assert_eq!(m["status"], "firing");
        assert!(m["text"].as_str().unwrap().contains("service_silent [pluid]"));
        assert_eq!(m["incident"]["id"], 7);
        i.resolved_at = Some("2026-03-10T13:00:00.000Z".into());
        let m = message(&i, NoticeKind::Resolved);
        assert_eq!(m["status"], "resolved");
        assert!(m["text"]
            .as_str()
            .unwrap()
            .contains("resolved at 2026-03-10T13:00:00.000Z"));
    }
}
