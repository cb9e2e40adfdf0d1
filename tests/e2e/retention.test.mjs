// Retention through the archive (docs/api.md, "Archive"): the scheduled handler (triggered
// through wrangler dev's --test-scheduled endpoint) writes each UTC hour of events past
// RETENTION_DAYS (400) to the local R2 bucket as gzip NDJSON, verifies it, and only then deletes
// the rows; the rollups stay, so summaries are unchanged; the export over a range reaching past
// the hot window returns every event exactly once; DuckDB reads the objects and counts what the
// summary counts.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { BASE, call, ingestSigned, SECRETS, uid } from "./client.mjs";
import { d1File, ROOT } from "./worker.mjs";

const auth = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };
const DAY = 86_400_000;
const date = (msAgo) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);

function sqlite(script, ...args) {
  const r = spawnSync("python3", ["-c", script, d1File(process.env.FUNNEL_D1_DIR), ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/**
 * Runs a program without blocking the event loop. The slow steps (installing DuckDB, reading the
 * archive) must not block it: while blocked, the pooled keep-alive sockets the worker closes are
 * not noticed, and the next request written to one fails with "fetch failed" (other side closed).
 */
async function run(program, args) {
  try {
    return (await promisify(execFile)(program, args, { encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    assert.fail(`${program} ${args.join(" ")}: ${e.stderr ?? e.message}`);
  }
}

/** Python with the `duckdb` package, in .tools/duckdb-venv (installed from PyPI once). */
async function duckdbPython() {
  const venv = join(ROOT, ".tools", "duckdb-venv");
  const python = join(venv, "bin", "python");
  const has = () => existsSync(python) && spawnSync(python, ["-c", "import duckdb"]).status === 0;
  if (!has()) {
    await run("python3", ["-m", "venv", venv]);
    await run(join(venv, "bin", "pip"), ["install", "-q", "duckdb==2.0.0"]);
  }
  return python;
}

const expired = (tag) => sqlite(`
import json, sqlite3, sys
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1], timeout=30)
cutoff = (datetime.now(timezone.utc) - timedelta(days=400)).strftime('%Y-%m-%dT%H:00:00.000Z')
q = lambda s, *a: db.execute(s, a).fetchone()[0]
print(json.dumps({
  "old": q("SELECT COUNT(*) FROM funnel_events WHERE event_id LIKE ? || '_old_%'", sys.argv[2]),
  "kept": q("SELECT COUNT(*) FROM funnel_events WHERE event_id LIKE ? || '_kept_%'", sys.argv[2]),
  "expired": q("SELECT COUNT(*) FROM funnel_events WHERE ts < ?", cutoff),
  "manifest_rows": q("SELECT COALESCE(SUM(rows), 0) FROM archived_hours"),
  "old_rollup_hours": q("SELECT COUNT(*) FROM event_rollup WHERE hour < substr(?, 1, 13)", cutoff),
}))`, tag);

test("the cron archives expired hours to R2 before deleting them; export, summaries and DuckDB agree across the boundary", async () => {
  const tag = uid("arch");
  // 1,200 events made 401–402 days old (past retention, spread over ~22 hours) and 300 made 399 days
  // old (kept): stored through ingest, then moved back in time as the demo does (the update keeps
  // the rollups).
  for (let start = 0; start < 1500; start += 500) {
    const events = [];
    for (let i = start; i < start + 500; i++) {
      events.push({
        event_type: i % 3 ? "app_open" : "m_otp_send",
        event_id: `${tag}_${i < 1200 ? "old" : "kept"}_${i}`,
        user_id: `${tag}_u${i % 50}`,
        tenant_id: tag,
      });
    }
    const res = await ingestSigned({ events });
    assert.equal(res.status, 200, res.text);
  }
  sqlite(`
import json, sqlite3, sys
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1], timeout=30)
now = datetime.now(timezone.utc)
def ts(days, s): return (now - timedelta(days=days, seconds=s)).strftime('%Y-%m-%dT%H:%M:%S.000Z')
ids = dict(db.execute("SELECT event_id, id FROM funnel_events WHERE event_id LIKE ? || '_%'", (sys.argv[2],)))
moves = [(ts(401 + i % 2, i * 30), ids[sys.argv[2] + '_old_' + str(i)]) for i in range(1200)]
moves += [(ts(399, i), ids[sys.argv[2] + '_kept_' + str(i)]) for i in range(1200, 1500)]
db.executemany("UPDATE funnel_events SET ts = ? WHERE id = ?", moves)
db.commit()
print(json.dumps(len(moves)))`, tag);

  // A range of 400 days reaching past the hot window: 403 to 3 days ago.
  const range = `from=${date(403 * DAY)}&to=${date(3 * DAY)}`;
  const exportCsv = async () => {
    const res = await call(`/internal/funnel-events/export?${range}&tenant_id=${tag}`, { headers: auth });
    assert.equal(res.status, 200, res.text);
    return res.text;
  };
  const summary = async () => {
    const res = await call(`/internal/funnel-events/summary?${range}&tz=UTC`, { headers: auth });
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const [csvBefore, summaryBefore] = [await exportCsv(), await summary()];
  assert.equal(csvBefore.trimEnd().split("\r\n").length, 1 + 1500);

  // Each run archives at most 12 hours: run the daily cron until nothing expired is left.
  let state;
  for (let run = 0; run < 10; run++) {
    const res = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
    assert.equal(res.status, 200, await res.text());
    state = expired(tag);
    if (state.expired === 0) break;
  }
  assert.deepEqual(
    { old: state.old, kept: state.kept, expired: state.expired, manifest_rows: state.manifest_rows },
    { old: 0, kept: 300, expired: 0, manifest_rows: 1200 },
  );
  assert.ok(state.old_rollup_hours > 0, "the rollups of archived hours stay");

  // Summaries still answer from the rollups; the export reads the archive for the old hours.
  assert.deepEqual(await summary(), summaryBefore);
  assert.equal(await exportCsv(), csvBefore, "every event exactly once, in the same order");

  // The manifest, and each object as an analyst downloads it.
  const listing = await call(`/internal/archive/hours?${range}`, { headers: auth });
  assert.equal(listing.status, 200, listing.text);
  assert.equal(listing.body.rows, 1200);
  assert.ok(listing.body.hours.length >= 12, `${listing.body.hours.length} hours`);
  const dir = mkdtempSync(join(tmpdir(), "funnel-archive-"));
  for (const h of listing.body.hours) {
    assert.equal(h.object_key, `events/${h.hour.slice(0, 10).replaceAll("-", "/")}/${h.hour.slice(11)}.ndjson.gz`);
    const res = await fetch(`${BASE}/internal/archive/hours/${h.hour}`, { headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/gzip");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, h.bytes);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), h.sha256);
    assert.equal(res.headers.get("x-archive-sha256"), h.sha256);
    mkdirSync(dirname(join(dir, h.object_key)), { recursive: true });
    writeFileSync(join(dir, h.object_key), bytes);
  }

  // DuckDB reads the objects; its counts per type and day equal the summary's (from the rollups).
  const duck = JSON.parse(await run(await duckdbPython(), [join(ROOT, "scripts", "archive_counts.py"), dir]));
  assert.equal(duck.rows, 1200);
  const days = new Map(summaryBefore.daily.map((d) => [d.date, d.counts]));
  let compared = 0;
  for (const [type, perDay] of Object.entries(duck.counts)) {
    for (const [day, n] of Object.entries(perDay)) {
      assert.equal(days.get(day)?.[type], n, `${type} on ${day}`);
      compared += n;
    }
  }
  assert.equal(compared, 1200);

  // Erasure reaches the archive: one user's 30 events (24 archived, in as many hour objects, and
  // 6 in D1) leave every object and row, and the rollups lose exactly them.
  const subject = `${tag}_u7`;
  const erased = await call("/internal/erasure", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ user_id: subject }),
  });
  assert.equal(erased.status, 200, erased.text);
  let receipt = erased.body;
  // At most 8 hour objects per call: the cron continues it.
  for (let run = 0; run < 10 && !receipt.done; run++) {
    const res = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
    assert.equal(res.status, 200, await res.text());
    receipt = (await call(`/internal/erasure/${receipt.id}`, { headers: auth })).body;
  }
  assert.deepEqual(
    { done: receipt.done, events: receipt.events_deleted, archived: receipt.archived_deleted },
    { done: true, events: 6, archived: 24 },
  );
  const csvAfter = await exportCsv();
  assert.equal(csvAfter.trimEnd().split("\r\n").length, 1 + 1500 - 30);
  assert.ok(!csvAfter.includes(subject), "no exported row holds the erased user");
  const after = await call(`/internal/archive/hours?${range}`, { headers: auth });
  assert.equal(after.body.rows, 1200 - 24);
  const total = (s) => Object.values(s.totals).reduce((a, b) => a + b, 0);
  assert.equal(total(await summary()), total(summaryBefore) - 30);
});
