// Retention: the scheduled handler (triggered through wrangler dev's
// --test-scheduled endpoint) deletes events past RETENTION_DAYS (400) in
// chunks, keeps the rest, leaves the rollups equal to a recount, and
// compacts the distinct-count sketch parts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

import { BASE, ingestSigned, uid } from "./client.mjs";
import { d1File } from "./worker.mjs";

function sqlite(script, ...args) {
  const r = spawnSync("python3", ["-c", script, d1File(process.env.FUNNEL_D1_DIR), ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("the daily cron deletes events older than 400 days in chunks and keeps the rollups exact", async () => {
  const tag = uid("old");
  // 12,000 events made 401–500 days old (past retention) and 300 made 399 days old (kept):
  // stored through ingest, then moved back in time as the demo does (the update keeps the rollups).
  for (let start = 0; start < 12300; start += 500) {
    const events = [];
    for (let i = start; i < Math.min(start + 500, 12300); i++) {
      events.push({ event_type: "app_open", event_id: `${tag}_${i < 12000 ? "old" : "kept"}_${i}`, user_id: `u${i % 50}` });
    }
    const res = await ingestSigned({ events });
    assert.equal(res.status, 200, res.text);
  }
  sqlite(`
import json, sqlite3, sys
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1], timeout=30)
now = datetime.now(timezone.utc)
def ts(days, i): return (now - timedelta(days=days, seconds=i)).strftime('%Y-%m-%dT%H:%M:%S.000Z')
ids = dict(db.execute("SELECT event_id, id FROM funnel_events WHERE event_id LIKE ? || '_%'", (sys.argv[2],)))
moves = [(ts(401 + i % 100, i), ids[sys.argv[2] + '_old_' + str(i)]) for i in range(12000)]
moves += [(ts(399, i), ids[sys.argv[2] + '_kept_' + str(i)]) for i in range(12000, 12300)]
db.executemany("UPDATE funnel_events SET ts = ? WHERE id = ?", moves)
db.commit()
print(json.dumps(len(moves)))`, tag);

  const res = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
  assert.equal(res.status, 200, await res.text());

  const state = sqlite(`
import json, sqlite3, sys
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1], timeout=30)
cutoff = (datetime.now(timezone.utc) - timedelta(days=400)).strftime('%Y-%m-%dT%H:%M:%S.000Z')
q = lambda s, *a: db.execute(s, a).fetchone()[0]
print(json.dumps({
  "old": q("SELECT COUNT(*) FROM funnel_events WHERE event_id LIKE ? || '_old_%'", sys.argv[2]),
  "kept": q("SELECT COUNT(*) FROM funnel_events WHERE event_id LIKE ? || '_kept_%'", sys.argv[2]),
  "expired": q("SELECT COUNT(*) FROM funnel_events WHERE ts < ?", cutoff),
  "recount": q("SELECT CAST(ROUND(COALESCE(SUM(1.0 / sample_rate), 0)) AS INTEGER) FROM funnel_events"),
  "rolled": q("SELECT CAST(ROUND(COALESCE(SUM(n), 0)) AS INTEGER) FROM event_rollup"),
  "old_rollup_hours": q("SELECT COUNT(*) FROM event_rollup WHERE hour < substr(?, 1, 13)", cutoff),
  "sketch_parts": q("SELECT COUNT(*) FROM sketch_parts"),
  "sketches": q("SELECT COUNT(*) FROM sketches"),
}))`, tag);
  // The daily run compacts the sketch parts the ingest wrote, too.
  assert.equal(state.sketch_parts, 0);
  assert.ok(state.sketches > 0);
  assert.deepEqual(
    { old: state.old, kept: state.kept, expired: state.expired, old_rollup_hours: state.old_rollup_hours },
    { old: 0, kept: 300, expired: 0, old_rollup_hours: 0 },
  );
  assert.equal(state.rolled, state.recount, "the rollup equals a recount after the deletes");
});
