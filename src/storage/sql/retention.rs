//! Retention: the daily cron's deletes.

/// Deletes up to ?2 of the oldest events before ?1; triggers keep the rollups right.
pub const DELETE_EXPIRED_EVENTS: &str = "\
DELETE FROM funnel_events WHERE id IN (SELECT id FROM funnel_events WHERE ts < ?1 ORDER BY ts LIMIT ?2)";

/// Once no expired event is left: drops emptied rollup hours, old quarantine
/// entries, old volume counters and old sketches. Binds: ?1 the cutoff.
pub const PRUNE_EXPIRED: &[&str] = &[
    "DELETE FROM event_rollup WHERE hour < substr(?1, 1, 13)",
    "DELETE FROM event_day_rollup WHERE day < date(?1, minutes || ' minutes')",
    "DELETE FROM property_rollup WHERE hour < substr(?1, 1, 13)",
    "DELETE FROM property_day_rollup WHERE day < date(?1, minutes || ' minutes')",
    "DELETE FROM currency_rollup WHERE hour < substr(?1, 1, 13)",
    "DELETE FROM event_quarantine WHERE received_at < ?1",
    "DELETE FROM event_volume WHERE day < substr(?1, 1, 10)",
    // Sketches of hours, days and months wholly before the cutoff, and parts of such hours.
    // A zone's day or month key carries `@<minutes>`: its local date is compared (a day early at worst).
    "DELETE FROM sketches WHERE substr(period, 1, instr(period || '@', '@') - 1)
       < substr(?1, 1, instr(period || '@', '@') - 1)",
    "DELETE FROM sketch_parts WHERE hour < substr(?1, 1, 13)",
];
