#!/usr/bin/env node
// The benchmark: `scripts/bench.sh` (installs the toolchain, then runs this).
// Builds the release worker, runs it under `wrangler dev` on loopback with a
// fresh local D1, loads it with autocannon, runs the core's criterion
// benchmark, and prints one table where every row is measured in the same run
// as its floor and reported as a ratio to it; the table also goes to
// bench/last-run.md (docs/benchmarks.md quotes a run and reads it).
// BENCH_SECONDS (default 10) per measurement; BENCH_PARTS=ingest,reads,core.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { applyMigrations, d1File, ROOT, startWorker } from "../tests/e2e/worker.mjs";
import { benchSecrets, combine, fmt, loadGenerator } from "./load.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// Ingest rows run in this many interleaved rounds of SECONDS / ROUNDS each.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const LEVELS = (process.env.BENCH_LEVELS ?? "10000,100000,1000000").split(",").filter(Boolean).map(Number);
// BENCH_PARTS picks parts (to iterate on one); the table in docs/benchmarks.md is from all of them.
const PARTS = (process.env.BENCH_PARTS ?? "ingest,reads,core").split(",");

const work = mkdtempSync(join(tmpdir(), "funnel-bench-"));
const envFile = join(work, "bench.env");
const { fpKey, ...secrets } = benchSecrets(envFile);
const { ingest, floor, read: readFor } = loadGenerator({ ...secrets, fpKey, connections: CONNECTIONS });
const read = (url, path) => readFor(url, path, SECONDS);
const persistDir = join(work, "state");

function loadRows(start, count) {
  const r = spawnSync("python3", [join(ROOT, "bench", "load_rows.py"), d1File(persistDir), fpKey, String(start), String(count)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`loading rows failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const rows = [];
let worker;

/** Ingest at 1, 50 and 500 events per request against its two references:
 * the floor (D1 alone) and the worker alone (no D1). Every insert grows the
 * database, and a bigger database makes every insert slower, so the rows are
 * measured in interleaved rounds: each sees the same growth, and the ratios
 * compare like with like. */
async function benchIngest(url) {
  const slice = SECONDS / ROUNDS;
  const kinds = {
    floor: () => floor(url, 500, slice),
    1: () => ingest(url, 1, slice),
    50: () => ingest(url, 50, slice),
    500: () => ingest(url, 500, slice),
    discard: () => ingest(url, 500, slice, "/bench/discard"),
  };
  const runs = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, run] of Object.entries(kinds)) runs[kind].push(await run());
  }
  const per = { floor: 500, 1: 1, 50: 50, 500: 500, discard: 500 };
  const m = Object.fromEntries(Object.keys(kinds).map((k) => [k, combine(runs[k], per[k])]));
  const row = (name, r, ratio) => rows.push([name, `${fmt(r.eps)} ev/s`, `${fmt(r.p50)} / ${fmt(r.p99)}`, ratio]);
  row("Floor: 500 prepared rows, one statement, no checks", m.floor, "1.00");
  for (const batch of [1, 50, 500]) row(`Ingest, signed batches of ${batch}`, m[batch], fmt(m[batch].eps / m.floor.eps, 2));
  rows.push(["Ingest 500 vs ingest 1 (events/s)", "", "", `${fmt(m[500].eps / m[1].eps, 0)}×`]);
  rows.push(["Floor vs ingest 1 (events/s): the platform's own bound on the line above", "", "", `${fmt(m.floor.eps / m[1].eps, 0)}×`]);
  row("Worker alone: ingest of 500 without D1 (`/bench/discard`)", m.discard, `${fmt(m.discard.eps / m.floor.eps, 2)}`);
}

/** Reads at growing stored volumes, each against the health floor measured at the same level. */
async function benchReads(url) {
  const now = Date.now();
  const day = (d) => new Date(now + d * 86_400_000).toISOString().slice(0, 10);
  let stored = 0;
  for (const level of LEVELS) {
    const count = loadRows(stored + 1_000_000_000, level - stored);
    stored = level;
    const health = await read(url, "/api/health");
    const q = (p) => `/internal/funnel-events?${new URLSearchParams(p)}`;
    const probes = [
      ["list by trace_id", q({ trace_id: "trace_b1000000017", from: day(-90), to: day(1), limit: "50" })],
      ["list by email", q({ q_email: "user17@bench.example", from: day(-90), to: day(1), limit: "50" })],
      ["list by type + 14 days", q({ type: "m_auth_login_fail", from: day(-13), to: day(1), limit: "50" })],
      ["summary, 14 days", `/internal/funnel-events/summary?from=${day(-13)}&to=${day(1)}&tz=Asia/Seoul`],
      ["summary, 90 days", `/internal/funnel-events/summary?from=${day(-89)}&to=${day(1)}&tz=Asia/Seoul`],
    ];
    rows.push([`Floor: GET /api/health at ${fmt(count)} events`, `${fmt(health.rps)} req/s`, `${fmt(health.p50)} / ${fmt(health.p99)}`, "1.00"]);
    for (const [name, path] of probes) {
      const r = await read(url, path);
      rows.push([`${name} at ${fmt(count)} events`, `${fmt(r.rps)} req/s`, `${fmt(r.p50)} / ${fmt(r.p99)}`, `${fmt(r.p50 / Math.max(health.p50, 1), 2)}× p50`]);
    }
  }
}

try {
  applyMigrations(persistDir);
  worker = await startWorker({ persistDir, envFile });
  console.log(`bench: worker at ${worker.url}; ${SECONDS}s per row, ${CONNECTIONS} connections`);
  if (PARTS.includes("ingest")) await benchIngest(worker.url);
  if (PARTS.includes("reads")) {
    // A fresh database, so the levels are exact.
    worker.stop();
    rmSync(persistDir, { recursive: true, force: true });
    applyMigrations(persistDir);
    worker = await startWorker({ persistDir, envFile });
    await benchReads(worker.url);
  }
} finally {
  worker?.stop();
}

/** The pure core's CPU per 500-event batch, natively: criterion's estimate (`benches/core.rs`). */
function benchCore() {
  const run = spawnSync("cargo", ["bench", "--bench", "core"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`cargo bench failed:\n${run.stderr.slice(-2000)}`);
  // "time:   [1.7712 ms 1.7901 ms 1.8103 ms]": low, estimate, high.
  const m = run.stdout.match(/time:\s+\[\S+ \S+ (\S+) (\S+)/);
  if (!m) throw new Error(`no estimate in cargo bench's output:\n${run.stdout.slice(-2000)}`);
  const ms = Number(m[1]) * { ns: 1e-6, "µs": 1e-3, us: 1e-3, ms: 1, s: 1000 }[m[2]];
  rows.push(["Core CPU, natively: verify + parse + validate + fingerprint + plan, 500 events", `${fmt(500 / ms * 1000)} ev/s`, `${fmt(ms, 2)} ms per batch`, "target ≤ 5 ms"]);
}

if (PARTS.includes("core")) benchCore();
const wasm = readFileSync(join(ROOT, "build", "index_bg.wasm"));
rows.push(["Worker wasm size", `${fmt(wasm.length / 1024)} KB raw`, `${fmt(gzipSync(wasm, { level: 9 }).length / 1024)} KB gzip`, ""]);
rmSync(work, { recursive: true, force: true });

const table = [
  "| Measurement | Throughput | p50 / p99 ms | Ratio to its floor |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
console.log(`\n${table}\n`);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / 2 ** 30)} GiB; node ${process.version}`;
writeFileSync(join(ROOT, "bench", "last-run.md"), `Measured ${new Date().toISOString()} on ${machine}; ${SECONDS}s per row, ${CONNECTIONS} connections.\n\n${table}\n`);
console.log("bench: table written to bench/last-run.md");
