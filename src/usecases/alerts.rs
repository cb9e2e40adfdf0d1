//! Alerts: the every-minute cron's run ([`run`]: read what the rules need
//! from the rollups, evaluate, open and resolve incidents, post what is
//! owed to the webhooks) and `GET /internal/alerts` ([`list`]).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::catalog::alerts::{AlertKind, AlertRule, ALERT_RULES};
use crate::catalog::{self, quotas};
use crate::config::AlertWebhooks;
use crate::error::AppResult;
use crate::notify::{Notifier, Post};
use crate::report::alerts::{self, Finding, Incident, NoticeKind, Readings};
use crate::security::signature;
use crate::store::{EventStore, FailureQuery, Span, StoreResult};
use crate::time::to_stored;

/// `GET /internal/alerts` lists incidents resolved this many days back.
pub const RECENT_DAYS: i64 = 7;
/// ... at most this many of them.
pub const RECENT_LIMIT: usize = 100;
/// A message not delivered this long after its incident opened (or resolved) is given up.
pub const RETRY_HOURS: i64 = 24;
/// Messages one run sends at most (the rest wait for the next run).
pub const NOTICES_PER_RUN: usize = 50;

/// Reads what `rules` need: last-seen seeks, hourly rollup sums, the
/// quarantine's received index, the usage rollup. Never scans events.
pub async fn readings<S: EventStore>(store: &S, rules: &[AlertRule], now: DateTime<Utc>) -> StoreResult<Readings> {
    let mut out = Readings::default();
    let has = |f: fn(&AlertKind) -> bool| rules.iter().any(|r| f(&r.kind));
    if has(|k| matches!(k, AlertKind::ServiceSilent { .. })) {
        let types: Vec<&str> = catalog::EVENTS.iter().map(|e| e.name).collect();
        let seen = store.last_seen_by_type(&types).await?;
        for def in catalog::EVENTS {
            let last = seen.iter().find(|(t, _)| t == def.name).and_then(|(_, l)| l.clone());
            match out.last_seen.iter_mut().find(|(s, _)| s == def.service) {
                Some((_, latest)) => *latest = (*latest).clone().max(last),
                None => out.last_seen.push((def.service.to_string(), last)),
            }
        }
    }
    let failure_types = catalog::failure_types();
    let rate_rules: Vec<(&AlertRule, FailureQuery)> = rules
        .iter()
        .filter_map(|r| match r.kind {
            AlertKind::FailureRate {
                events,
                window_hours,
                limit,
                ..
            } => {
                let (window_start, end, baseline_start) = alerts::failure_hours(now, window_hours, limit);
                Some((
                    r,
                    FailureQuery {
                        types: events,
                        failure_types: &failure_types,
                        window_start,
                        end,
                        baseline_start,
                    },
                ))
            }
            _ => None,
        })
        .collect();
    let queries: Vec<FailureQuery> = rate_rules.iter().map(|(_, q)| q.clone()).collect();
    let counts = store.failure_counts(&queries).await?;
    out.failures = rate_rules.iter().map(|(r, _)| r.name).zip(counts).collect();
    for r in rules {
        if let AlertKind::QuarantineGrowth { window_minutes, .. } = r.kind {
            let n = store
                .quarantined_since(&to_stored(now - Duration::minutes(window_minutes)))
                .await?;
            out.quarantined.push((r.name, n));
        }
    }
    if has(|k| matches!(k, AlertKind::UsersAtQuota { .. })) {
        let (from, to) = quotas::month_of(now);
        let month = Span {
            from: to_stored(from),
            to: to_stored(to),
        };
        let per_action = store.usage_by_months(&[month], quotas::ACTIONS).await?;
        out.at_limit = per_action
            .into_iter()
            .next()
            .unwrap_or_default()
            .iter()
            .map(|m| (m.action.name.to_string(), m.at_limit.len() as i64))
            .collect();
    }
    Ok(out)
}

/// What one run did, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRun {
    pub firing: usize,
    pub opened: usize,
    pub resolved: usize,
    pub sent: usize,
    /// Messages a webhook refused or could not take (retried next run).
    pub failed: usize,
}

impl std::fmt::Display for AlertRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "alerts: {} firing, {} opened, {} resolved; {} messages sent, {} failed (retried next run)",
            self.firing, self.opened, self.resolved, self.sent, self.failed
        )
    }
}

/// Evaluates `rules`, opens and resolves incidents, then posts every owed
/// message to every webhook (none configured: nothing is posted, incidents
/// are still recorded). A message is marked delivered once every webhook
/// took it; otherwise the next run sends it again.
pub async fn run<S: EventStore>(
    store: &S,
    rules: &[AlertRule],
    webhooks: &AlertWebhooks,
    notifier: Option<&dyn Notifier>,
    now: DateTime<Utc>,
) -> AppResult<AlertRun> {
    let readings = readings(store, rules, now).await?;
    let findings: Vec<Finding> = rules.iter().flat_map(|r| alerts::evaluate(r, &readings, now)).collect();
    let open = store.open_incidents().await?;
    let changes = alerts::changes(&findings, &open);
    let stamp = to_stored(now);
    store
        .record_alert_changes(&changes.open, &changes.resolve, &stamp)
        .await?;
    let mut out = AlertRun {
        firing: findings.iter().filter(|f| f.firing).count(),
        opened: changes.open.len(),
        resolved: changes.resolve.len(),
        ..AlertRun::default()
    };
    let Some(notifier) = notifier.filter(|_| !webhooks.urls.is_empty()) else {
        return Ok(out);
    };
    let owed = store
        .owed_incidents(&to_stored(now - Duration::hours(RETRY_HOURS)), NOTICES_PER_RUN)
        .await?;
    let mut undelivered: Vec<i64> = Vec::new();
    for (incident, kind) in alerts::notices(&owed) {
        // A resolve message never goes out before its incident's firing message.
        if undelivered.contains(&incident.id) {
            continue;
        }
        if deliver(notifier, webhooks, incident, kind, now).await {
            store.mark_notified(incident.id, kind, &stamp).await?;
            out.sent += 1;
        } else {
            undelivered.push(incident.id);
            out.failed += 1;
        }
    }
    Ok(out)
}

/// Posts one message to every webhook, signed; whether all of them took it.
async fn deliver(
    notifier: &dyn Notifier,
    webhooks: &AlertWebhooks,
    incident: &Incident,
    kind: NoticeKind,
    now: DateTime<Utc>,
) -> bool {
    let body = alerts::message(incident, kind).to_string();
    let signed = signature::header_value(webhooks.secret.as_bytes(), now.timestamp(), body.as_bytes());
    let mut all = true;
    for url in &webhooks.urls {
        let post = Post {
            url: url.clone(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (signature::HEADER.into(), signed.clone()),
            ],
            body: body.clone(),
        };
        if let Err(e) = notifier.post(post).await {
            // The URL holds a token: only the cause is logged.
            log::warn!("alert {} ({kind:?}) not delivered: {e}", incident.id);
            all = false;
        }
    }
    all
}

/// `GET /internal/alerts`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// Open incidents, oldest first.
    pub open: Vec<Incident>,
    /// Incidents resolved in the last 7 days, latest first, 100 at most.
    pub recent: Vec<Incident>,
    /// The declared rules.
    pub rules: Vec<AlertRule>,
    /// How many webhooks the incidents are posted to (0: recorded only).
    pub webhooks: usize,
}

pub async fn list<S: EventStore>(store: &S, webhooks: usize, now: DateTime<Utc>) -> AppResult<AlertList> {
    let since = to_stored(now - Duration::days(RECENT_DAYS));
    Ok(AlertList {
        open: store.open_incidents().await?,
        recent: store.recent_incidents(&since, RECENT_LIMIT).await?,
        rules: ALERT_RULES.to_vec(),
        webhooks,
    })
}
