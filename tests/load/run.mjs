#!/usr/bin/env node
// Bounded load test with retries and storage faults (loopback only; stops by itself).
//
//   node tests/load/run.mjs            # LOAD_SECONDS=60 (half steady, half with faults)
//
// Starts its own worker (fresh D1, random secrets). Clients send signed
// batches of BATCH events concurrently, and every batch is sent twice (the
// gateway's retry). In the second half a second process takes SQLite's
// exclusive lock on the D1 file for 1.5 s out of every 3 s, so D1 fails
// underneath the worker (SQLITE_BUSY) and recovers. A batch D1 cannot take
// goes to the worker's queue (202, its events `queued`), whose consumer stores
// it once D1 answers again. Afterwards the run waits for the consumer to
// drain, reads the database directly and fails unless: no batch was refused
// on both tries (the traffic holds no metered event, so none may see a 503),
// every accepted or queued event is stored exactly once, nothing is stored
// twice, any 503 came with Retry-After and problem+json and stored nothing
// unless a retry took it, and the worker accepts batches again once D1 is back.
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { applyMigrations, d1File, lockD1Periodically, prebuiltConfig, startWorker } from "../e2e/worker.mjs";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 6);
const BATCH = Number(process.env.LOAD_BATCH ?? 50);
// `direct` (default) or `queue`: the worker's INGEST_MODE, to compare the two.
const MODE = process.env.LOAD_INGEST_MODE ?? "direct";

const work = mkdtempSync(join(tmpdir(), "funnel-load-"));
const secret = randomBytes(24).toString("hex");
const apiKey = randomBytes(24).toString("hex");
const envFile = join(work, "load.env");
writeFileSync(envFile, `INTERNAL_API_KEY=${apiKey}\nINGEST_HMAC_SECRET=${secret}\nEMAIL_FINGERPRINT_KEY=${randomBytes(24).toString("hex")}\nINGEST_MODE=${MODE}\n`);
const persistDir = join(work, "state");
const tenant = `load_${randomBytes(6).toString("hex")}`;

const stats = { batches: 0, requests: 0, sent: 0, accepted: 0, duplicate_answers: 0, queued_answers: 0, unavailable: 0, other: 0 };
const acceptedIds = new Set();
const queuedIds = new Set(); // answered `queued` (and never `accepted`): the consumer must store them
const refusedBatches = []; // batches whose two attempts both failed: [ids]
const problems = [];

function signed(body) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

async function post(url, body) {
  stats.requests++;
  const res = await fetch(`${url}/internal/funnel-events/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-funnel-signature": signed(body) },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status === 503) {
    stats.unavailable++;
    if (!res.headers.get("retry-after")) problems.push("a 503 without Retry-After");
    if (!(res.headers.get("content-type") ?? "").startsWith("application/problem+json")) problems.push("a 503 that is not problem+json");
    return null;
  }
  if (res.status === 202) stats.queued_answers++;
  if (res.status !== 200 && res.status !== 202) {
    stats.other++;
    problems.push(`unexpected ${res.status}: ${text.slice(0, 200)}`);
    return null;
  }
  return JSON.parse(text);
}

async function client(url, n, until) {
  let seq = 0;
  while (Date.now() < until) {
    const ids = Array.from({ length: BATCH }, (_, i) => `c${n}_b${seq}_e${i}`);
    seq++;
    const body = JSON.stringify({ events: ids.map((event_id) => ({ event_type: "app_open", event_id, tenant_id: tenant, user_id: `u${n}` })) });
    stats.batches++;
    stats.sent += ids.length;
    let anyAnswer = false;
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await post(url, body);
      if (!answer) continue;
      anyAnswer = true;
      for (const r of answer.results) {
        if (r.status === "accepted") {
          if (acceptedIds.has(r.event_id)) problems.push(`${r.event_id} accepted twice`);
          acceptedIds.add(r.event_id);
          stats.accepted++;
        } else if (r.status === "duplicate") {
          stats.duplicate_answers++;
        } else if (r.status === "queued") {
          queuedIds.add(r.event_id);
        } else {
          problems.push(`${r.event_id}: ${r.status}`);
        }
      }
    }
    if (!anyAnswer) refusedBatches.push(ids);
  }
}

function storedCounts() {
  const script = [
    "import json, sqlite3, sys",
    "c = sqlite3.connect(sys.argv[1])",
    "rows = c.execute('SELECT event_id, COUNT(*) FROM funnel_events WHERE tenant_id = ? GROUP BY event_id', (sys.argv[2],)).fetchall()",
    "print(json.dumps(rows))",
  ].join("\n");
  const out = spawnSync("python3", ["-c", script, d1File(persistDir), tenant], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`reading D1 failed: ${out.error ?? out.stderr}`);
  return new Map(JSON.parse(out.stdout));
}

let worker;
let faults;
let status = 1;
try {
  process.env.FUNNEL_WRANGLER_CONFIG = prebuiltConfig();
  applyMigrations(persistDir);
  worker = await startWorker({ persistDir, envFile });
  const half = (SECONDS * 1000) / 2;
  console.log(`load: ${CLIENTS} clients × batches of ${BATCH}, each sent twice; ${SECONDS / 2}s steady, ${SECONDS / 2}s with D1 faults; INGEST_MODE=${MODE}`);
  let until = Date.now() + half;
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(worker.url, n, until)));
  const steady = { ...stats };
  faults = lockD1Periodically(persistDir);
  until = Date.now() + half;
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(worker.url, CLIENTS + n, until)));
  await faults.stop();
  faults = undefined;

  // D1 is back: the worker must accept again by itself.
  const probe = JSON.stringify({ events: [{ event_type: "app_open", event_id: "after_faults", tenant_id: tenant }] });
  const recovered = await post(worker.url, probe);
  const recoveredAs = MODE === "queue" ? "queued" : "accepted";
  if (!recovered || recovered.results[0].status !== recoveredAs) problems.push("the worker did not recover after D1 came back");
  else (MODE === "queue" ? queuedIds : acceptedIds).add("after_faults");

  // Every queued event is stored once the consumer has drained the queue (its retries wait 5 s).
  const expected = new Set([...acceptedIds, ...queuedIds]);
  const drainStart = Date.now();
  let stored = storedCounts();
  while ([...expected].some((id) => !stored.has(id)) && Date.now() - drainStart < 120_000) {
    await new Promise((r) => setTimeout(r, 1000));
    stored = storedCounts();
  }
  const drainSeconds = (Date.now() - drainStart) / 1000;
  worker.stop();
  worker = undefined;
  await new Promise((r) => setTimeout(r, 500));

  stored = storedCounts();
  const twice = [...stored].filter(([, n]) => n > 1).map(([id]) => id);
  const lost = [...expected].filter((id) => !stored.has(id));
  const partial = refusedBatches.filter((ids) => ids.some((id) => stored.has(id)));
  const report = {
    mode: MODE,
    seconds: SECONDS,
    requests_per_second: Math.round(stats.requests / SECONDS),
    batches: stats.batches,
    requests: stats.requests,
    events_sent: stats.sent,
    accepted: acceptedIds.size,
    duplicate_answers: stats.duplicate_answers,
    answered_202: stats.queued_answers,
    queued_not_accepted: [...queuedIds].filter((id) => !acceptedIds.has(id)).length,
    drain_seconds: drainSeconds,
    answered_503: stats.unavailable,
    batches_refused_twice: refusedBatches.length,
    stored: stored.size,
    stored_twice: twice.length,
    lost: lost.length,
    refused_batches_partly_stored: partial.length,
    steady_phase_accepted: steady.accepted,
  };
  console.table(report);
  if (stats.queued_answers === 0 && SECONDS >= 6) problems.push("the fault phase queued no batch: faults were not injected");
  if (refusedBatches.length) problems.push(`${refusedBatches.length} batches refused on both tries (no metered event: the queue should have taken them)`);
  if (twice.length) problems.push(`${twice.length} events stored twice`);
  if (lost.length) problems.push(`${lost.length} accepted or queued events not stored, e.g. ${lost.slice(0, 3)}`);
  if (partial.length) problems.push(`${partial.length} refused batches were partly stored`);
  if (stored.size !== expected.size) problems.push(`stored ${stored.size} ≠ accepted or queued ${expected.size}`);
  const unique = [...new Set(problems)];
  if (unique.length) console.error(`load: FAILED\n  ${unique.slice(0, 20).join("\n  ")}`);
  else console.log("load: no batch refused; every accepted or queued event stored exactly once; none twice; recovered");
  status = unique.length ? 1 : 0;
} catch (e) {
  console.error(`load: ${e.stack ?? e}`);
} finally {
  faults?.stop();
  worker?.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
