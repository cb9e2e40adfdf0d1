#!/usr/bin/env node
// The benchmark: `scripts/bench.sh` (installs the toolchain, then runs this).
// Builds the release worker, runs it under `wrangler dev` on loopback with a
// fresh local D1, next to the JavaScript peer (bench/peer/) with its own fresh
// D1, loads both with autocannon, probes every console read at two bulk-loaded
// shapes, runs the core's criterion benchmark, and prints one table where
// every row is measured in the same run as its floor and reported as a ratio
// to it, with its target where it has one; the table also goes to
// bench/last-run.md (docs/benchmarks.md quotes a run and reads it).
// Knobs (environment):
//   BENCH_SECONDS (15)   seconds per ingest row, split over BENCH_ROUNDS (5) interleaved rounds
//   BENCH_READ_SECONDS (5) seconds per read probe; BENCH_READ_TIMEOUT (60) seconds before a read counts as timed out
//   BENCH_CONNECTIONS (4) connections for batches and reads; 1-event ingest uses twice as many
//   BENCH_SHAPES (day:2000000,year:5000000) the read shapes and their sizes
//   BENCH_LEVELS (10000,100000,1000000) the growing read levels (part `reads`)
//   BENCH_PARTS (ingest,peer,shapes,core) any of ingest, peer, shapes, reads, queue, core
//     `queue`: both ingest modes (INGEST_MODE=direct, then queue) and the queue consumer
//     (docs/scaling.md quotes it): `BENCH_PARTS=queue scripts/bench.sh`
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { applyMigrations, d1File, ROOT, startWorker } from "../tests/e2e/worker.mjs";
import { benchSecrets, combine, fmt, loadGenerator } from "./load.mjs";

const began = Date.now();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const READ_SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 5);
const READ_TIMEOUT = Number(process.env.BENCH_READ_TIMEOUT ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
// Cargo's output folder: CARGO_TARGET_DIR when set (a shared cache), else ./target.
const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
const LEVELS = (process.env.BENCH_LEVELS ?? "10000,100000,1000000").split(",").filter(Boolean).map(Number);
const SHAPES = (process.env.BENCH_SHAPES ?? "day:2000000,year:5000000").split(",").filter(Boolean).map((s) => {
  const [name, count] = s.split(":");
  return { name, count: Number(count) };
});
const PARTS = (process.env.BENCH_PARTS ?? "ingest,peer,shapes,core").split(",");
const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const PEER_CONFIG = join(ROOT, "bench", "peer", "wrangler.peer.toml");

const work = mkdtempSync(join(tmpdir(), "funnel-bench-"));
const envFile = join(work, "bench.env");
const { fpKey, ...secrets } = benchSecrets(envFile);
const load = loadGenerator({ ...secrets, fpKey, connections: CONNECTIONS });
const workers = [];
const rows = [];
const log = (msg) => console.log(`bench ${fmt((Date.now() - began) / 1000)} s: ${msg}`);

/** One table row: measurement, throughput, latency, ratio, and its target when it has one. */
function row(name, throughput, latency, ratio, target) {
  let verdict = "";
  if (target) {
    const [op, bound] = [target.slice(0, 1), Number(target.slice(1))];
    const value = Number.parseFloat(ratio);
    const holds = op === "≥" ? value >= bound : value <= bound;
    verdict = holds ? "holds" : `misses by ${fmt(Math.abs(value / bound - 1) * 100)} %`;
  }
  rows.push([name, throughput, latency, ratio, target ? `${target.slice(0, 1)} ${target.slice(1)}` : "", verdict]);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stdout?.slice(-2000)}\n${r.stderr?.slice(-2000)}`);
  return r.stdout.trim();
}

async function startFunnel(persistDir) {
  applyMigrations(persistDir);
  const w = await startWorker({ persistDir, envFile });
  workers.push(w);
  return w;
}

/** The peer: its schema into a fresh local D1, then `wrangler dev` on its own config. */
async function startPeer(persistDir) {
  sh(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--config", PEER_CONFIG,
                "--file", join(ROOT, "bench", "peer", "schema.sql")],
     { env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } });
  const w = await startWorker({ persistDir, envFile, config: PEER_CONFIG });
  workers.push(w);
  return w;
}

function stop(w) {
  w.stop();
  workers.splice(workers.indexOf(w), 1);
}

/** Ingest at 1, 50 and 500 events per request, the funnel worker and the JS
 * peer, against the floor: the seed's table taking 500 prepared rows in one
 * statement (the peer's `POST /floor`). Every insert grows its database and a
 * bigger database makes every insert slower, so all measurements run in
 * interleaved rounds: each sees the same growth, and the ratios compare like
 * with like. */
async function benchIngest() {
  const slice = SECONDS / ROUNDS;
  const withFunnel = PARTS.includes("ingest");
  const withPeer = PARTS.includes("peer");
  const funnel = withFunnel ? await startFunnel(join(work, "ingest-funnel")) : null;
  const peer = withPeer ? await startPeer(join(work, "ingest-peer")) : null;
  log(`ingest: ${[funnel && `funnel at ${funnel.url}`, peer && `peer at ${peer.url}`].filter(Boolean).join(", ")}; ${ROUNDS} rounds of ${slice} s per row`);
  const kinds = {};
  const per = {};
  if (peer) {
    Object.assign(kinds, {
      floor: () => load.floor(peer.url, 500, slice, { peer: true }),
      peer1: () => load.ingest(peer.url, 1, slice, undefined, CONNECTIONS * 2),
      peer50: () => load.ingest(peer.url, 50, slice),
      peer500: () => load.ingest(peer.url, 500, slice),
      peerDiscard1: () => load.ingest(peer.url, 1, slice, "/discard", CONNECTIONS * 2),
      peerDiscard: () => load.ingest(peer.url, 500, slice, "/discard"),
    });
    Object.assign(per, { floor: 500, peer1: 1, peer50: 50, peer500: 500, peerDiscard1: 1, peerDiscard: 500 });
  }
  if (funnel) {
    Object.assign(kinds, {
      funnel1: () => load.ingest(funnel.url, 1, slice, undefined, CONNECTIONS * 2),
      funnel50: () => load.ingest(funnel.url, 50, slice),
      funnel500: () => load.ingest(funnel.url, 500, slice),
      discard: () => load.ingest(funnel.url, 500, slice, "/bench/discard"),
      discard1: () => load.ingest(funnel.url, 1, slice, "/bench/discard", CONNECTIONS * 2),
      ownFloor: () => load.floor(funnel.url, 500, slice),
    });
    Object.assign(per, { funnel1: 1, funnel50: 50, funnel500: 500, discard: 500, discard1: 1, ownFloor: 500 });
  }
  const runs = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, run] of Object.entries(kinds)) runs[kind].push(await run());
    log(`ingest round ${round + 1} of ${ROUNDS}`);
  }
  const m = Object.fromEntries(Object.keys(kinds).map((k) => [k, combine(runs[k], per[k])]));
  // The reference: the new floor when the peer ran, else the funnel's own statement.
  const ref = m.floor ?? m.ownFloor;
  const ratio = (r) => fmt(r.eps / ref.eps, 2);
  const line = (name, r, target) => row(name, `${fmt(r.eps)} ev/s`, `${fmt(r.p50)} / ${fmt(r.p99)}`, ratio(r), target);
  if (m.floor) line("Floor: the seed's table, 500 prepared rows in one statement, no checks (peer `POST /floor`)", m.floor);
  if (m.ownFloor) {
    line(`${m.floor ? "Old floor: " : "Floor: "}the funnel's own table, 500 prepared rows with its own statement (\`/bench/floor\`: its indexes and rollup writes)`, m.ownFloor);
  }
  for (const b of [1, 50, 500]) {
    if (m[`peer${b}`]) line(`JS peer, signed batches of ${b}`, m[`peer${b}`]);
    if (m[`funnel${b}`]) line(`Funnel, signed batches of ${b}`, m[`funnel${b}`], b === 500 && m.floor ? "≥0.75" : undefined);
  }
  if (m.peer1 && m.funnel1) {
    for (const [b, target] of [[500, "≥1.5"], [50, "≥1"], [1, "≥1"]]) {
      row(`Funnel ${b} / JS peer ${b} (events/s)`, "", "", fmt(m[`funnel${b}`].eps / m[`peer${b}`].eps, 2), target);
    }
  }
  if (m.funnel1) row("Funnel 500 vs funnel 1 (events/s)", "", "", `${fmt(m.funnel500.eps / m.funnel1.eps, 0)}×`);
  // Each worker alone (its whole ingest but the D1 call): what the request costs before the database.
  if (m.peerDiscard1) line("JS peer alone: ingest of 1 without D1 (`/discard`)", m.peerDiscard1);
  if (m.discard1) line("Funnel worker alone: ingest of 1 without D1 (`/bench/discard`)", m.discard1);
  if (m.peerDiscard) line("JS peer alone: ingest of 500 without D1 (`/discard`)", m.peerDiscard);
  if (m.discard) line("Funnel worker alone: ingest of 500 without D1 (`/bench/discard`)", m.discard);
  if (funnel) stop(funnel);
  if (peer) stop(peer);
}

/** Stored rows of the worker's local D1 (read beside it through SQLite's WAL). */
function storedEvents(persistDir) {
  const code = "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM funnel_events').fetchone()[0])";
  return Number(sh("python3", ["-c", code, d1File(persistDir)]));
}

/** Both ingest modes with batches of 500, and the queue's consumer. Direct:
 * events/s answered (each answer means stored). Queue: events/s answered 202
 * `queued`, then the consumer: events stored per second from the first send
 * until the last queued event is in D1 (it drains while the load runs, and
 * after). A worker each, one after the other, so they never share the CPU. */
async function benchQueue() {
  const direct = await startFunnel(join(work, "queue-direct"));
  log(`queue: direct mode at ${direct.url}, ${SECONDS} s of batches of 500`);
  const d = combine([await load.ingest(direct.url, 500, SECONDS)], 500);
  stop(direct);
  const line = (name, r) => row(name, `${fmt(r.eps)} ev/s`, `${fmt(r.p50)} / ${fmt(r.p99)}`, "", undefined);
  line("Ingest, INGEST_MODE=direct, signed batches of 500 (answered = stored)", d);

  const persistDir = join(work, "queue-queued");
  const queueEnv = join(work, "queue.env");
  writeFileSync(queueEnv, `${readFileSync(envFile, "utf8")}INGEST_MODE=queue\n`);
  applyMigrations(persistDir);
  const queued = await startWorker({ persistDir, envFile: queueEnv });
  workers.push(queued);
  log(`queue: queue mode at ${queued.url}, ${SECONDS} s of batches of 500`);
  const t0 = performance.now();
  const q = await load.ingest(queued.url, 500, SECONDS);
  // Counted answers; requests in flight when the load stops (at most one per
  // connection) may be queued too, unanswered to the generator.
  const answered = q.ok * 500;
  const inFlight = CONNECTIONS * 500;
  line("Ingest, INGEST_MODE=queue, signed batches of 500 (answered 202 `queued`)", combine([q], 500));
  const drainLimit = Number(process.env.BENCH_DRAIN_SECONDS ?? 600) * 1000;
  const atLoadEnd = storedEvents(persistDir);
  // Drained: at least every answered event stored, and no change for 3 s
  // (the consumer's batches wait at most 1 s).
  let stored = atLoadEnd;
  let lastChange = performance.now();
  while (performance.now() - t0 < SECONDS * 1000 + drainLimit) {
    await new Promise((r) => setTimeout(r, 250));
    const now = storedEvents(persistDir);
    if (now !== stored) [stored, lastChange] = [now, performance.now()];
    if (stored >= answered && performance.now() - lastChange > 3000) break;
  }
  const seconds = (lastChange - t0) / 1000;
  stop(queued);
  if (stored < answered || stored > answered + inFlight) {
    throw new Error(`queue: ${answered} events answered queued (+ up to ${inFlight} in flight), ${stored} stored after ${fmt(seconds)} s`);
  }
  row(`Queue consumer: ${fmt(stored)} queued events into D1, from the first send to the last stored (${fmt(atLoadEnd)} stored when the load ended)`,
      `${fmt(stored / seconds)} ev/s`, `${fmt(seconds, 1)} s`, "", undefined);
}

/** Seoul's calendar date `d` days from today. */
const seoulDay = (d = 0) => new Date(Date.now() + 9 * 3_600_000 + d * 86_400_000).toISOString().slice(0, 10);

/** One read probe: a first request that must answer 200 (so a wrong path or
 * parameter fails the run instead of timing an error; it also warms the
 * worker), then autocannon for READ_SECONDS. A read whose second request
 * takes over a quarter of that is timed by three sequential tries instead
 * (their median and worst), which gives it fewer samples but no queue. A
 * request that takes over BENCH_READ_TIMEOUT seconds ends the probe: the row
 * says the read took longer than that. */
async function probe(url, path) {
  const get = async () => {
    const t = performance.now();
    let res;
    try {
      res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${secrets.apiKey}` }, signal: AbortSignal.timeout(READ_TIMEOUT * 1000) });
    } catch (e) {
      if (e.name === "TimeoutError") throw Object.assign(new Error("timeout"), { timedOut: true });
      throw e;
    }
    const body = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 500)}`);
    return performance.now() - t;
  };
  try {
    await get();
    const second = await get();
    if (second > READ_SECONDS * 1000 / 4) {
      const tries = [second, await get(), await get()].sort((a, b) => a - b);
      return { rps: 1000 / tries[1], p50: tries[1], p99: tries[2], sequential: true };
    }
  } catch (e) {
    if (e.timedOut) return { timedOut: true };
    throw e;
  }
  return load.read(url, path, READ_SECONDS);
}

/** The events of `types` in the stored range [from, to) of a loaded file: what a funnel reads. */
function stepEvents(file, types, from, to) {
  const code = "import sqlite3,sys,json; t=json.loads(sys.argv[2]); print(sqlite3.connect(sys.argv[1]).execute("
    + "'SELECT count(*) FROM funnel_events WHERE event_type IN (%s) AND ts >= ? AND ts < ?' % ','.join('?'*len(t)), [*t, sys.argv[3], sys.argv[4]]).fetchone()[0])";
  return Number(sh("python3", ["-c", code, file, JSON.stringify(types), from, to]));
}

/** A funnel's cost per event it reads: its own step events in its range, and
 * its time alone (the median of three sequential requests, so no queue). The
 * issue lets a funnel cost in proportion to its own step events; this is that
 * proportion, comparable across funnels and shapes. */
async function funnelCost(url, path, steps, file) {
  const times = [];
  let range;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${secrets.apiKey}` } });
    const answer = await res.json();
    times.push(performance.now() - t);
    range = [answer.from, answer.to];
  }
  const ms = times.sort((a, b) => a - b)[1];
  const events = stepEvents(file, steps, ...range);
  return { ms, events, usPerEvent: (ms * 1000) / Math.max(events, 1) };
}

/** Runs the tree's native rebuild of rollups and sketches over a loaded file,
 * once the tree has one (until then the schema's triggers keep them exact). */
function rebuildDerived(file) {
  if (!existsSync(join(ROOT, "examples", "rebuild_derived.rs"))) return null;
  sh("cargo", ["build", "--release", "--example", "rebuild_derived"]);
  const t = Date.now();
  sh(join(TARGET_DIR, "release", "examples", "rebuild_derived"), [file]);
  return (Date.now() - t) / 1000;
}

/** Every console read at one bulk-loaded shape, each against GET /api/health measured in the same run. */
async function benchShape({ name, count }) {
  const persistDir = join(work, `shape-${name}`);
  applyMigrations(persistDir);
  const file = d1File(persistDir);
  log(`shape ${name}: loading ${fmt(count)} events`);
  const loaded = JSON.parse(sh("python3", [join(ROOT, "bench", "load_rows.py"), file, fpKey, "0", String(count), "--shape", name]));
  const rebuilt = rebuildDerived(file);
  const label = `${name === "day" ? "one day" : name === "year" ? "400 days" : name}, ${fmt(loaded.rows)} events`;
  log(`shape ${name}: ${fmt(loaded.rows)} rows in ${loaded.seconds} s${rebuilt === null ? "" : `, derived tables rebuilt in ${fmt(rebuilt, 1)} s`}`);
  row(`Load ${label}: bulk insert (python3 + sqlite3)`, `${fmt(loaded.rows / loaded.seconds)} rows/s`, `${fmt(loaded.seconds, 1)} s`, "", undefined);
  if (rebuilt !== null) row(`Load ${label}: rebuild of rollups and sketches (\`rebuild_derived\`)`, `${fmt(loaded.rows / rebuilt)} rows/s`, `${fmt(rebuilt, 1)} s`, "", undefined);
  const w = await startFunnel(persistDir);
  const { trace_id, email, user_id, session_id } = loaded.probes;
  const tz = "Asia/Seoul";
  const q = (route, p = {}) => `${route}?${new URLSearchParams(p)}`;
  const list = (p) => q("/internal/funnel-events", { tz, ...p });
  const funnels = (await (await fetch(`${w.url}/internal/funnels`, { headers: { authorization: `Bearer ${secrets.apiKey}` } })).json()).funnels;
  const probes = [
    ["overview, default range (14 days)", q("/api/overview", { tz })],
    ...(name === "day" ? [["overview, today", q("/api/overview", { from: seoulDay(), tz })]] : []),
    ["catalog", q("/internal/catalog", { tz })],
    ["summary, 14 days", q("/internal/funnel-events/summary", { from: seoulDay(-13), to: seoulDay(1), tz })],
    ["summary, 90 days", q("/internal/funnel-events/summary", { from: seoulDay(-89), to: seoulDay(1), tz })],
    ...funnels.map((f) => [`funnel ${f.name}`, q(`/internal/funnels/${f.name}`, { tz }), f]),
    // The funnel screen's "split by" (the same rows read, grouped by the value).
    [`funnel ${funnels[0].name} by email domain`, q(`/internal/funnels/${funnels[0].name}`, { tz, by: "email_domain" }), funnels[0]],
    ["trace", `/internal/trace/${encodeURIComponent(trace_id)}`],
    ["list by type", list({ type: "m_auth_login_fail" })],
    ["list by email", list({ q_email: email })],
    ["list by user_id", list({ user_id })],
    ["list by session_id", list({ session_id })],
    ["list by trace_id", list({ trace_id })],
    ["usage of a user", q("/internal/usage", { user_id })],
    ["usage summary", "/internal/usage/summary"],
    ["usage over quota", "/internal/usage/over-quota"],
    ["usage months", "/internal/usage/months"],
    ["quarantine list", q("/internal/quarantine", { tz })],
    ["audit list", q("/internal/audit", { tz })],
    ["quotas (plans, limits, overrides)", "/internal/quotas"],
    ["alerts (incidents and rules)", "/internal/alerts"],
    ["whoami (the console's first call)", "/internal/whoami"],
  ];
  const health = await load.read(w.url, "/api/health", READ_SECONDS);
  row(`Floor: GET /api/health, ${label}`, `${fmt(health.rps)} req/s`, `${fmt(health.p50)} / ${fmt(health.p99)}`, "1.00");
  for (const [probeName, path, funnel] of probes) {
    const r = await probe(w.url, path);
    log(`shape ${name}: ${probeName}: ${r.timedOut ? `over ${READ_TIMEOUT} s` : `p50 ${fmt(r.p50)} ms`}`);
    if (r.timedOut) {
      row(`${probeName}, ${label} (timed out)`, "", `> ${fmt(READ_TIMEOUT * 1000)}`, `> ${fmt(READ_TIMEOUT * 1000 / Math.max(health.p50, 1), 0)}× p50`, "≤3");
      rows.at(-1)[5] = "misses";
      continue;
    }
    row(`${probeName}, ${label}${r.sequential ? " (3 sequential tries)" : ""}`, `${fmt(r.rps, r.rps < 10 ? 1 : 0)} req/s`,
        `${fmt(r.p50)} / ${fmt(r.p99)}`, `${fmt(r.p50 / Math.max(health.p50, 1), 2)}× p50`, "≤3");
    if (funnel) {
      const c = await funnelCost(w.url, path, funnel.steps.map((s) => s.event), file);
      funnelCosts.push({ name: probeName, label, ...c });
      row(`${probeName}, ${label}: alone (3 sequential tries), per step event it reads (${fmt(c.events)} in its range)`,
          `${fmt(c.usPerEvent, 2)} µs per step event`, `${fmt(c.ms)}`, "", undefined);
    }
  }
  log(`shape ${name}: ${probes.length} reads probed`);
  stop(w);
  distinctError(file, label);
  rmSync(persistDir, { recursive: true, force: true });
}

/** Every funnel read's cost per step event, both shapes (`funnelCost`). */
const funnelCosts = [];

/** The funnel rule's summary row: time per step event over every funnel read
 * of the run with at least 10,000 step events (below that the request's own
 * cost dominates), the largest against the smallest. In proportion to its own
 * step events means one cost per step event whatever else is stored. */
function funnelRule() {
  const big = funnelCosts.filter((c) => c.events >= 10_000);
  if (big.length < 2) return;
  const per = big.map((c) => c.usPerEvent);
  row(`Funnels: time per step event, largest / smallest over the ${big.length} funnel reads of ≥ 10,000 step events (${fmt(Math.min(...per), 2)}–${fmt(Math.max(...per), 2)} µs)`,
      "", "", fmt(Math.max(...per) / Math.min(...per), 2), undefined);
}

/** The overview's distinct users and sessions (sketches) against exact counts over the same rows. */
const details = [];
function distinctError(file, label) {
  if (!existsSync(join(ROOT, "examples", "distinct_error.rs"))) return;
  sh("cargo", ["build", "--release", "--example", "distinct_error"]);
  const out = sh(join(TARGET_DIR, "release", "examples", "distinct_error"), [file, "Asia/Seoul"]);
  const worst = Number(out.match(/^max_error (\S+)$/m)[1]);
  row(`Distinct users and sessions (sketches) against exact counts, ${label}: largest error of 4 ranges × 5 scopes × 2`,
      "", "", `${fmt(worst, 2)} %`, "≤2");
  details.push(`### Distinct counts, ${label}\n\n${out.replace(/\nmax_error .*$/m, "")}\n`);
}

/** Reads at growing stored volumes (rows over 90 days), each against the health floor measured at the same level. */
async function benchReads() {
  const persistDir = join(work, "levels");
  const w = await startFunnel(persistDir);
  const day = (d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  let stored = 0;
  for (const level of LEVELS) {
    const count = Number(sh("python3", [join(ROOT, "bench", "load_rows.py"), d1File(persistDir), fpKey, String(stored + 1_000_000_000), String(level - stored)]));
    rebuildDerived(d1File(persistDir));
    stored = level;
    const health = await load.read(w.url, "/api/health", SECONDS);
    const q = (p) => `/internal/funnel-events?${new URLSearchParams(p)}`;
    const probes = [
      ["list by trace_id", q({ trace_id: "trace_b1000000017", from: day(-90), to: day(1), limit: "50" })],
      ["list by email", q({ q_email: "user17@bench.example", from: day(-90), to: day(1), limit: "50" })],
      ["list by type + 14 days", q({ type: "m_auth_login_fail", from: day(-13), to: day(1), limit: "50" })],
      ["summary, 14 days", `/internal/funnel-events/summary?from=${day(-13)}&to=${day(1)}&tz=Asia/Seoul`],
      ["summary, 90 days", `/internal/funnel-events/summary?from=${day(-89)}&to=${day(1)}&tz=Asia/Seoul`],
    ];
    row(`Floor: GET /api/health at ${fmt(count)} events (90 days)`, `${fmt(health.rps)} req/s`, `${fmt(health.p50)} / ${fmt(health.p99)}`, "1.00");
    for (const [name, path] of probes) {
      const r = await load.read(w.url, path, SECONDS);
      row(`${name} at ${fmt(count)} events`, `${fmt(r.rps)} req/s`, `${fmt(r.p50)} / ${fmt(r.p99)}`, `${fmt(r.p50 / Math.max(health.p50, 1), 2)}× p50`, "≤3");
    }
  }
  stop(w);
}

/** The pure core's CPU per 500-event batch, natively: criterion's estimate (`benches/core.rs`). */
function benchCore() {
  const out = sh("cargo", ["bench", "--bench", "core"]);
  // "time:   [1.7712 ms 1.7901 ms 1.8103 ms]": low, estimate, high.
  const m = out.match(/time:\s+\[\S+ \S+ (\S+) (\S+)/);
  if (!m) throw new Error(`no estimate in cargo bench's output:\n${out.slice(-2000)}`);
  const ms = Number(m[1]) * { ns: 1e-6, "µs": 1e-3, us: 1e-3, ms: 1, s: 1000 }[m[2]];
  rows.push(["Core CPU, natively: verify + parse + validate + fingerprint + plan, 500 events", `${fmt(500 / ms * 1000)} ev/s`, `${fmt(ms, 2)} ms per batch`, `${fmt(ms, 2)} ms`, "≤ 5 ms", ms <= 5 ? "holds" : `misses by ${fmt((ms / 5 - 1) * 100)} %`]);
}

try {
  // wrangler dev's [build] step builds the release worker once, at the first start.
  if (PARTS.includes("ingest") || PARTS.includes("peer")) await benchIngest();
  if (PARTS.includes("queue")) await benchQueue();
  if (PARTS.includes("shapes")) {
    for (const shape of SHAPES) await benchShape(shape);
    funnelRule();
  }
  if (PARTS.includes("reads")) await benchReads();
} finally {
  for (const w of [...workers]) w.stop();
}
if (PARTS.includes("core")) {
  log("core: cargo bench --bench core");
  benchCore();
}
const wasmFile = join(ROOT, "build", "index_bg.wasm");
if (existsSync(wasmFile)) {
  const wasm = readFileSync(wasmFile);
  rows.push(["Worker wasm size", `${fmt(wasm.length / 1024)} KB raw`, `${fmt(gzipSync(wasm, { level: 9 }).length / 1024)} KB gzip`, "", "", ""]);
}
rmSync(work, { recursive: true, force: true });

const wall = (Date.now() - began) / 1000;
const table = [
  "| Measurement | Throughput | p50 / p99 ms | Ratio to its floor | Target | |",
  "|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
console.log(`\n${table}\n`);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / 2 ** 30)} GiB; node ${process.version}`;
const settings = `parts ${PARTS.join(",")}; ingest ${SECONDS} s per row in ${ROUNDS} rounds, reads ${READ_SECONDS} s per probe, ${CONNECTIONS} connections`;
const detail = details.join("\n");
if (detail) console.log(detail);
writeFileSync(join(ROOT, "bench", "last-run.md"),
  `Measured ${new Date().toISOString()} on ${machine}; ${settings}; ${fmt(wall / 60, 1)} minutes wall.\n\n${table}\n\n${detail}`);
console.log(`bench: table written to bench/last-run.md; total wall time ${fmt(wall / 60, 1)} minutes (${fmt(wall)} s)`);
