//! Statements over the sketches of distinct users and sessions (migration
//! 0015, `crate::sketch`): each write appends small parts, a compaction
//! merges them into hour sketches and local day and month sketches of each
//! zone (`2026-03-04` and `2026-03` in UTC, `2026-03-04@540` and
//! `2026-03@540` in Seoul: `sketch::containing_in`), and a read fetches
//! the fewest sketches that cover its range, plus the identifiers of the
//! sub-hour edges, which no sketch covers.

/// Appends a write's parts. Bind: JSON `[[hour, scope, kind, regs], ...]`.
pub const INSERT_SKETCH_PARTS: &str = "\
INSERT INTO sketch_parts (hour, scope, kind, regs)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1)";

/// The sketches of `kind` and the scopes `?2` for the periods `?3` (whole
/// months, days and hours of a range: `sketch::cover`), and every part not yet
/// compacted of the range's whole hours `[?4, ?5)`. Merging a part twice
/// changes nothing, so a part already merged into a sketch read here is harmless.
/// Binds: ?1 kind, ?2 JSON scopes, ?3 JSON periods, ?4 first whole hour, ?5 end hour.
pub const SKETCHES_OF_RANGE: &str = "\
SELECT s.scope AS scope, s.regs AS regs FROM json_each(?2) AS sc
  CROSS JOIN json_each(?3) AS p CROSS JOIN sketches AS s
  ON s.kind = ?1 AND s.scope = sc.value AND s.period = p.value
UNION ALL
SELECT t.scope, t.regs FROM json_each(?2) AS sc CROSS JOIN sketch_parts AS t
  ON t.kind = ?1 AND t.scope = sc.value AND t.hour >= ?4 AND t.hour < ?5";

/// The distinct actors of the sub-hour edges of a range (no sketch covers
/// less than an hour). Bind: JSON `[[start, end], ...]`.
pub const EDGE_ACTORS: &str = "\
SELECT DISTINCT e.service AS service, e.event_type AS event_type, e.user_id AS user_id, e.session_id AS session_id
FROM json_each(?1) AS seg CROSS JOIN funnel_events AS e
  ON e.ts >= json_extract(seg.value, '$[0]') AND e.ts < json_extract(seg.value, '$[1]')
WHERE e.user_id IS NOT NULL OR e.session_id IS NOT NULL";

/// The oldest parts, for a compaction. Bind: how many.
pub const OLDEST_SKETCH_PARTS: &str = "SELECT id, hour, scope, kind, regs FROM sketch_parts ORDER BY id LIMIT ?1";

/// Stored sketches by key. Bind: JSON `[[kind, scope, period], ...]`.
pub const SKETCHES_BY_KEY: &str = "\
SELECT s.kind AS kind, s.scope AS scope, s.period AS period, s.regs AS regs FROM json_each(?1) AS k
CROSS JOIN sketches AS s ON s.kind = k.value ->> 0 AND s.scope = k.value ->> 1 AND s.period = k.value ->> 2";

/// A compaction's first statement: fails (rolling its write back) unless
/// every part it merged is still there. Binds: ?1 JSON part ids, ?2 their number.
pub const GUARD_SKETCH_PARTS: &str = "\
INSERT INTO sketch_compaction_guard (ok)
SELECT (SELECT COUNT(*) FROM sketch_parts WHERE id IN (SELECT value FROM json_each(?1))) = ?2";

/// Leaves the guard table empty again.
pub const CLEAR_SKETCH_GUARD: &str = "DELETE FROM sketch_compaction_guard";

/// Writes merged sketches. Bind: JSON `[[kind, scope, period, regs], ...]`.
pub const UPSERT_SKETCHES: &str = "\
INSERT INTO sketches (kind, scope, period, regs)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) WHERE true
ON CONFLICT (kind, scope, period) DO UPDATE SET regs = excluded.regs";

/// Deletes merged parts. Bind: JSON part ids.
pub const DELETE_SKETCH_PARTS: &str = "DELETE FROM sketch_parts WHERE id IN (SELECT value FROM json_each(?1))";

/// Forgets every sketch and part: the first step of a rebuild from the rows.
pub const CLEAR_SKETCHES: [&str; 2] = ["DELETE FROM sketches", "DELETE FROM sketch_parts"];

/// A page of the rows' actors in id order, for a rebuild. Binds: ?1 after id, ?2 limit.
pub const ACTORS_AFTER: &str = "\
SELECT id, ts, service, event_type, user_id, session_id FROM funnel_events
WHERE id > ?1 ORDER BY id LIMIT ?2";
