//! Sampling volume counters, monthly usage and quota guards, overrides.

use super::Bind;
use crate::catalog::quotas::{QuotaAction, PLAN_SOURCE};

/// Adds a batch's valid events received and kept per `(day, type)`. Binds: JSON `[[day, type, received, kept], ...]`.
pub const UPSERT_VOLUME: &str = "\
INSERT INTO event_volume (day, event_type, received, kept)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
FROM json_each(?1) WHERE true
ON CONFLICT (day, event_type) DO UPDATE SET received = received + excluded.received, kept = kept + excluded.kept";

/// Received and kept valid events per type over `[from day, to day]` (inclusive UTC days).
pub const VOLUME_BY_TYPE: &str = "\
SELECT event_type AS key, SUM(received) AS received, SUM(kept) AS kept FROM event_volume
WHERE day >= ? AND day <= ? GROUP BY event_type";

// The quota statements share one binding ([`QuotaBinds`]), so usage and
// limits are computed the same way everywhere: the guard of ingest can never
// disagree with the usage API. SQL names each parameter through `qp!`, and
// `QuotaBinds::binds` is the one place that puts values in that order.
macro_rules! qp {
    (row) => {
        "?1"
    };
    (month_start) => {
        "?2"
    };
    (month_end) => {
        "?3"
    };
    (action_types) => {
        "?4"
    };
    (only_when_path) => {
        "?5"
    };
    (only_when_value) => {
        "?6"
    };
    (user) => {
        "?7"
    };
    (tenant) => {
        "?8"
    };
    (action) => {
        "?9"
    };
    (free_limit) => {
        "?10"
    };
    (pro_limit) => {
        "?11"
    };
    (team_limit) => {
        "?12"
    };
    (plan_event) => {
        "?13"
    };
    (plan_path) => {
        "?14"
    };
    (cancel_path) => {
        "?15"
    };
    (cancel_value) => {
        "?16"
    };
    (pending_value) => {
        "?17"
    };
}

/// The events that count toward the action's quota in the month: one
/// definition for the guard, a user's usage and the per-user listing.
macro_rules! counted_events {
    () => {
        concat!(
            "event_type IN (SELECT value FROM json_each(",
            qp!(action_types),
            ")) AND ts >= ",
            qp!(month_start),
            " AND ts < ",
            qp!(month_end),
            " AND (",
            qp!(only_when_path),
            " IS NULL OR json_extract(payload_json, ",
            qp!(only_when_path),
            ") = ",
            qp!(only_when_value),
            ")"
        )
    };
}

/// A user's usage of the action in the month.
macro_rules! usage_count {
    ($user:expr) => {
        concat!(
            "(SELECT COUNT(*) FROM funnel_events WHERE user_id = ",
            $user,
            " AND ",
            counted_events!(),
            ")"
        )
    };
}

/// The user's monthly limit: their override, else their tenant's (the event's
/// tenant, else the user's latest), else their plan's (see
/// [`crate::catalog::quotas::PLAN_SOURCE`]), else the free plan's.
macro_rules! quota_limit {
    ($user:expr) => {
        concat!(
            "COALESCE(",
            "(SELECT monthly_limit FROM quota_overrides WHERE subject_kind = 'user' AND subject_id = ",
            $user,
            " AND action = ",
            qp!(action),
            "), ",
            "(SELECT monthly_limit FROM quota_overrides WHERE subject_kind = 'tenant' AND action = ",
            qp!(action),
            " AND subject_id = COALESCE(",
            qp!(tenant),
            ", (SELECT tenant_id FROM funnel_events WHERE user_id = ",
            $user,
            " AND tenant_id IS NOT NULL ORDER BY ts DESC, id DESC LIMIT 1))), ",
            "(SELECT CASE WHEN json_extract(payload_json, ",
            qp!(cancel_path),
            ") = ",
            qp!(cancel_value),
            " THEN ",
            qp!(free_limit),
            " WHEN json_extract(payload_json, ",
            qp!(plan_path),
            ") = 'team' THEN ",
            qp!(team_limit),
            " WHEN json_extract(payload_json, ",
            qp!(plan_path),
            ") = 'pro' THEN ",
            qp!(pro_limit),
            " ELSE ",
            qp!(free_limit),
            " END",
            " FROM funnel_events WHERE user_id = ",
            $user,
            " AND event_type = ",
            qp!(plan_event),
            // A checkout that was only started grants nothing: the plan is the latest one paid for (or cancelled).
            " AND json_extract(payload_json, ",
            qp!(cancel_path),
            ") IS NOT ",
            qp!(pending_value),
            " ORDER BY ts DESC, id DESC LIMIT 1), ",
            qp!(free_limit),
            ")"
        )
    };
}

/// Stores one metered row only while the user is under the limit. D1 runs a
/// batch's statements one after another in one transaction, so each metered
/// row sees every row stored before it: concurrent ingests cannot overshoot.
pub const INSERT_METERED_EVENT: &str = concat!(
    insert_event_rows!(qp!(row)),
    row_not_suppressed!(),
    " AND ",
    usage_count!(qp!(user)),
    " < ",
    quota_limit!(qp!(user)),
    " ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
);

/// A user's usage and limit of one action in a month: one row `user_id, action, used, limit`.
pub const QUOTA_STATE: &str = concat!(
    "SELECT ",
    qp!(user),
    " AS user_id, ",
    qp!(action),
    " AS action, ",
    usage_count!(qp!(user)),
    " AS used, ",
    quota_limit!(qp!(user)),
    " AS \"limit\""
);

/// The quota month (`YYYY-MM`) of a stored UTC timestamp. Months start at
/// midnight on the 1st in Seoul ([`crate::catalog::quotas::MONTH_TIME_ZONE`]),
/// which has kept UTC+9 without daylight saving time since 1988; migration
/// 0018's triggers spell the same expression.
macro_rules! quota_month {
    ($ts:expr) => {
        concat!("substr(datetime(", $ts, ", '+9 hours'), 1, 7)")
    };
}

/// The lowest limit any user of the action can have unless a user override
/// names them: the plans' limits and every tenant override of the action.
macro_rules! limit_floor {
    () => {
        concat!(
            "MIN(",
            qp!(free_limit),
            ", ",
            qp!(pro_limit),
            ", ",
            qp!(team_limit),
            ", COALESCE((SELECT MIN(monthly_limit) FROM quota_overrides WHERE subject_kind = 'tenant' AND action = ",
            qp!(action),
            "), ",
            qp!(free_limit),
            "))"
        )
    };
}

/// The quota months of `[month_start, month_end)` (whole quota months) among `usage_totals`.
macro_rules! totals_in_months {
    () => {
        concat!(
            "t.action = ",
            qp!(action),
            " AND t.month >= ",
            quota_month!(qp!(month_start)),
            " AND t.month < ",
            quota_month!(qp!(month_end))
        )
    };
}

/// The users at or over their limit of the action in each quota month of
/// `[month_start, month_end)` (whole quota months: one, or a history's range):
/// rows `month, user_id, action, used, limit` by month, most used first.
/// Usage comes from `usage_rollup` (migration 0018), which counts what
/// `counted_events!` counts; the limit is the guard's. Only users who may be
/// at their limit are looked at: those whose use reaches [`limit_floor!`], and
/// those a user override names (`CROSS JOIN` keeps the months outermost and
/// `+t.month` stops SQLite from turning the months' range into a range over
/// the users: each month is one index seek). `row`, `user`, `tenant`, `action_types` and
/// `only_when_*` are unused here (SQLite numbers parameters up to the highest).
pub const QUOTA_USERS_AT_LIMIT: &str = concat!(
    "SELECT c.month AS month, c.user_id AS user_id, ",
    qp!(action),
    " AS action, c.used AS used, c.\"limit\" AS \"limit\" FROM (SELECT m.month AS month, m.user_id AS user_id, m.used AS used, ",
    quota_limit!("m.user_id"),
    " AS \"limit\" FROM (",
    "SELECT g.month AS month, g.user_id AS user_id, g.used AS used ",
    "FROM usage_totals AS t CROSS JOIN usage_rollup AS g ON g.action = t.action AND g.month = +t.month WHERE ",
    totals_in_months!(),
    " AND g.used >= ",
    limit_floor!(),
    " UNION SELECT g.month, g.user_id, g.used ",
    "FROM usage_totals AS t CROSS JOIN quota_overrides AS o ON o.subject_kind = 'user' AND o.action = t.action ",
    "CROSS JOIN usage_rollup AS g ON g.action = t.action AND g.month = +t.month AND g.user_id = o.subject_id WHERE ",
    totals_in_months!(),
    " AND g.used >= o.monthly_limit) AS m) AS c",
    " WHERE c.used >= c.\"limit\" ORDER BY c.month, c.used DESC, c.user_id"
);

/// Per action and quota month of `[?2, ?3)` (whole quota months): the users
/// with usage and their summed use. Binds: JSON action names, start, end.
pub const USAGE_TOTALS: &str = concat!(
    "SELECT action, month, users, used FROM usage_totals
WHERE action IN (SELECT value FROM json_each(?1)) AND month >= ",
    quota_month!("?2"),
    " AND month < ",
    quota_month!("?3")
);

/// After a write's inserts (the last of [`super::ROLL_UP_NEW_ROWS`], reading
/// the same rows above `rollup_mark`): adds each new counted event to its user's month
/// of each action that counts it, one grouped upsert. `CROSS JOIN` keeps the
/// new rows' rowid range as the outer loop.
pub const ROLL_UP_USAGE: &str = concat!(
    "INSERT INTO usage_rollup (action, month, user_id, used)
SELECT q.action, ",
    quota_month!("e.ts"),
    ", e.user_id, COUNT(*)
FROM funnel_events AS e CROSS JOIN quota_action_types AS q ON q.event_type = e.event_type
WHERE e.id > (SELECT last_id FROM rollup_mark WHERE k = 1) AND e.user_id IS NOT NULL
  AND (q.only_when_path IS NULL OR json_extract(e.payload_json, q.only_when_path) = q.only_when_value)
GROUP BY 1, 2, 3
ON CONFLICT (action, month, user_id) DO UPDATE SET used = used + excluded.used"
);

/// The counted types of each action as migration 0018 stored them: rows
/// `action, event_type, only_when_path, only_when_value`.
pub const QUOTA_ACTION_TYPES: &str = "\
SELECT action, event_type, only_when_path, only_when_value FROM quota_action_types ORDER BY action, event_type";

/// Which of the given keys are stored. Binds: JSON `[[source, event_id], ...]`.
pub const EXISTING_KEYS: &str = "\
SELECT source, event_id FROM funnel_events
WHERE (source, event_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))";

/// Sets (or replaces) an override. Binds: kind, subject id, action, limit, updated_at.
pub const UPSERT_QUOTA_OVERRIDE: &str = "\
INSERT INTO quota_overrides (subject_kind, subject_id, action, monthly_limit, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (subject_kind, subject_id, action) DO UPDATE SET monthly_limit = excluded.monthly_limit,
  updated_at = excluded.updated_at";

/// Removes an override. Binds: kind, subject id, action.
pub const DELETE_QUOTA_OVERRIDE: &str =
    "DELETE FROM quota_overrides WHERE subject_kind = ?1 AND subject_id = ?2 AND action = ?3";

/// Every override.
pub const LIST_QUOTA_OVERRIDES: &str = "\
SELECT subject_kind, subject_id, action, monthly_limit, updated_at FROM quota_overrides
ORDER BY subject_kind, subject_id, action";

/// The binding of [`INSERT_METERED_EVENT`], [`QUOTA_STATE`] and [`QUOTA_USERS_AT_LIMIT`]:
/// the values behind each `qp!` name.
pub struct QuotaBinds<'a> {
    /// The metered row (a JSON array of one event row); inserts only.
    pub row: Option<String>,
    pub month: (&'a str, &'a str),
    pub action: &'a QuotaAction,
    pub user_id: Option<&'a str>,
    /// The event's tenant, which picks a tenant override before the user's latest tenant.
    pub tenant_id: Option<&'a str>,
}

impl QuotaBinds<'_> {
    /// The values in `qp!` order: `?1` first.
    pub fn binds(self) -> Vec<Bind> {
        let (path, value) = match self.action.only_when {
            Some((prop, value)) => (Bind::text(format!("$.{prop}")), Bind::text(value)),
            None => (Bind::Null, Bind::Null),
        };
        let plan = &PLAN_SOURCE;
        vec![
            Bind::opt_text(self.row),                          // row
            Bind::text(self.month.0),                          // month_start
            Bind::text(self.month.1),                          // month_end
            Bind::json(self.action.events),                    // action_types
            path,                                              // only_when_path
            value,                                             // only_when_value
            Bind::opt_text(self.user_id),                      // user
            Bind::opt_text(self.tenant_id),                    // tenant
            Bind::text(self.action.name),                      // action
            Bind::Int(self.action.limits.free),                // free_limit
            Bind::Int(self.action.limits.pro),                 // pro_limit
            Bind::Int(self.action.limits.team),                // team_limit
            Bind::text(plan.event_type),                       // plan_event
            Bind::text(format!("$.{}", plan.plan_property)),   // plan_path
            Bind::text(format!("$.{}", plan.cancel_property)), // cancel_path
            Bind::text(plan.cancel_value),                     // cancel_value
            Bind::text(plan.pending_value),                    // pending_value
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `?N` a quota statement uses has a value in [`QuotaBinds::binds`], and
    /// each `qp!` name sits at the position its comment in `binds` says.
    #[test]
    fn quota_statements_use_only_the_parameters_the_bind_builder_fills() {
        let names = [
            qp!(row),
            qp!(month_start),
            qp!(month_end),
            qp!(action_types),
            qp!(only_when_path),
            qp!(only_when_value),
            qp!(user),
            qp!(tenant),
            qp!(action),
            qp!(free_limit),
            qp!(pro_limit),
            qp!(team_limit),
            qp!(plan_event),
            qp!(plan_path),
            qp!(cancel_path),
            qp!(cancel_value),
            qp!(pending_value),
        ];
        let action = &crate::catalog::quotas::ACTIONS[0];
        let binds = QuotaBinds {
            row: None,
            month: ("a", "b"),
            action,
            user_id: Some("u"),
            tenant_id: None,
        }
        .binds();
        assert_eq!(binds.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            assert_eq!(*name, format!("?{}", i + 1));
        }
        for sql in [INSERT_METERED_EVENT, QUOTA_STATE, QUOTA_USERS_AT_LIMIT] {
            let highest = (1..=40).filter(|n| sql.contains(&format!("?{n}"))).max().unwrap();
            assert!(highest <= binds.len(), "{sql}");
        }
        assert_eq!(binds[6], Bind::text("u"));
        assert_eq!(binds[12], Bind::text(PLAN_SOURCE.event_type));
    }

    /// `quota_month!` adds a fixed 9 hours: true only while Seoul keeps UTC+9
    /// all year (no daylight saving time since 1988). Checked daily to 2100.
    #[test]
    fn the_quota_month_time_zone_has_a_fixed_nine_hour_offset() {
        use chrono::{Datelike, Duration, Offset, TimeZone};
        let zone = crate::catalog::quotas::MONTH_TIME_ZONE;
        let mut t = chrono::Utc.with_ymd_and_hms(1989, 1, 1, 0, 0, 0).unwrap();
        while t.year() <= 2100 {
            let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
            assert_eq!(offset, 9 * 3600, "{t}");
            t += Duration::hours(23);
        }
        assert!(quota_month!("ts").contains("'+9 hours'"));
    }
}
