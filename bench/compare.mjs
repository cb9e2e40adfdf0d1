#!/usr/bin/env node
// Two builds side by side: `scripts/bench.sh compare <commit>` measures the
// worker of <commit> and the worker of this checkout in the same run, each
// against its own floor, in interleaved rounds (floor, ingest of 500, worker
// alone; base then this tree, every round). A change in ingest's cost shows up
// as a change in "ingest 500 / floor" between the two, measured under the same
// machine load, which a comparison with a table from another day cannot give:
// on this shared machine the same binary's ratio moves by ±0.1 from one round
// to the next. The per-round paired differences give the spread.
// BENCH_ROUNDS (default 10), BENCH_SECONDS per measurement and round (default 3),
// BENCH_BATCH events per ingest request (default 500; the floor always writes 500).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { applyMigrations, ROOT, startWorker } from "../tests/e2e/worker.mjs";
import { benchSecrets, fmt, loadGenerator } from "./load.mjs";

const base = process.argv[2];
if (!base) {
  console.error("usage: scripts/bench.sh compare <commit>");
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SLICE = Number(process.env.BENCH_SECONDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const work = mkdtempSync(join(tmpdir(), "funnel-compare-"));
const envFile = join(work, "bench.env");
const load = loadGenerator({ ...benchSecrets(envFile), connections: Number(process.env.BENCH_CONNECTIONS ?? 4) });

function sh(cmd, args, cwd, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...extraEnv }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stdout?.slice(-2000)}\n${r.stderr?.slice(-2000)}`);
  return r.stdout.trim();
}

/** Builds the release worker of `root` once, and a wrangler config without the
 * [build] step so `wrangler dev` serves exactly that build. */
function build(root) {
  sh("worker-build", ["--release"], root, {
    CARGO_TARGET_DIR: join(ROOT, "target"),
    WASM_BINDGEN_BIN: sh("bash", ["-c", "command -v wasm-bindgen"], root),
    ESBUILD_BIN: join(ROOT, "node_modules", ".bin", "esbuild"),
  });
  const config = join(root, "wrangler.bench.toml");
  writeFileSync(config, readFileSync(join(root, "wrangler.toml"), "utf8").replace(/^\[build\][^[]*/m, ""));
  return config;
}

const baseRoot = join(work, "base");
const workers = [];
try {
  const label = sh("git", ["rev-parse", "--short", base], ROOT);
  sh("git", ["worktree", "add", "--detach", baseRoot, base], ROOT);
  const builds = [
    { name: `base ${label}`, root: baseRoot },
    { name: `this tree (${sh("git", ["rev-parse", "--short", "HEAD"], ROOT)}${sh("git", ["status", "--porcelain", "--", "src", "migrations"], ROOT) ? ", modified" : ""})`, root: ROOT },
  ];
  for (const b of builds) {
    console.log(`compare: building ${b.name}`);
    b.config = build(b.root);
    b.persistDir = join(work, `state-${workers.length}`);
    applyMigrations(b.persistDir, { root: b.root, config: b.config });
    workers.push({ ...b, ...(await startWorker({ persistDir: b.persistDir, envFile, root: b.root, config: b.config })) });
  }
  const kinds = { floor: (u) => load.floor(u, 500, SLICE), ingest: (u) => load.ingest(u, BATCH, SLICE), discard: (u) => load.ingest(u, BATCH, SLICE, "/bench/discard") };
  for (const w of workers) w.runs = { floor: [], ingest: [], discard: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of workers) for (const [kind, run] of Object.entries(kinds)) w.runs[kind].push(await run(w.url));
    console.log(`compare: round ${round + 1} of ${ROUNDS}`);
  }
  const eps = (runs) => runs.reduce((n, r) => n + r.eps * r.seconds, 0) / runs.reduce((n, r) => n + r.seconds, 0);
  const perRound = (w) => w.runs.ingest.map((r, i) => r.eps / w.runs.floor[i].eps);
  const lines = [
    `Measured ${new Date().toISOString()}; ${ROUNDS} interleaved rounds of ${SLICE} s per measurement, ${BATCH}-event batches (the floor: 500).`,
    "",
    `| Build | Floor ev/s | Ingest ${BATCH} ev/s | Ingest / floor | Worker alone / floor | Per-round ingest / floor |`,
    "|---|---|---|---|---|---|",
    ...workers.map((w) => `| ${w.name} | ${fmt(eps(w.runs.floor))} | ${fmt(eps(w.runs.ingest))} | ${fmt(eps(w.runs.ingest) / eps(w.runs.floor), 3)} | ${fmt(eps(w.runs.discard) / eps(w.runs.floor), 2)} | ${perRound(w).map((x) => fmt(x, 2)).join(" ")} |`),
  ];
  const [a, b] = workers.map(perRound);
  const diffs = a.map((x, i) => b[i] - x);
  const mean = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / Math.max(diffs.length - 1, 1));
  lines.push("", `This tree minus base, ingest / floor, paired by round: mean ${fmt(mean, 3)}, standard error ${fmt(sd / Math.sqrt(diffs.length), 3)} (n = ${diffs.length}).`);
  console.log(`\n${lines.join("\n")}\n`);
  writeFileSync(join(ROOT, "bench", "last-compare.md"), `${lines.join("\n")}\n`);
} finally {
  for (const w of workers) w.stop();
  spawnSync("git", ["worktree", "remove", "--force", baseRoot], { cwd: ROOT });
  rmSync(work, { recursive: true, force: true });
}
