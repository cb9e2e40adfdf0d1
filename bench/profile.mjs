#!/usr/bin/env node
// Where one read spends its time in the worker, on a database you loaded:
//
//   node bench/profile.mjs --persist <dir> [--tries 9] [--cpu <route>] <route> ...
//
// <dir> is a `wrangler --persist-to` directory holding a migrated, loaded local
// D1 (bench/run.mjs's shapes make them: migrations, then bench/load_rows.py and
// examples/rebuild_derived on its SQLite file). The worker is built once
// (release, as the benchmark runs it) and started on that directory; each route
// is then asked --tries times one after another, and its p50 and fastest time
// printed, health first as the floor. With --cpu, <route> is loaded by 4
// connections for 4 s under wrangler dev's inspector and the functions with the
// most CPU samples are printed (the wasm keeps its Rust names); the profile is
// written to bench/last.cpuprofile for Chrome's DevTools. A route's `{today}`
// and `{days_ago:N}` (N may be -1: tomorrow) become dates in UTC. A --cpu
// route written `POST <path>` is loaded with signed ingest batches of --batch
// events (default 500) instead, e.g. `--cpu "POST /bench/discard"` for the
// worker's own cost of ingest (the benchmark routes are on).
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

// The inspector speaks over a WebSocket: `ws`, which wrangler's miniflare
// depends on (package-lock.json installs it at node_modules/ws).
import WebSocket from "ws";

import { prebuiltConfig, ROOT, startWorker } from "../tests/e2e/worker.mjs";
import { loadGenerator } from "./load.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { persist: { type: "string" }, tries: { type: "string", default: "9" }, cpu: { type: "string" }, batch: { type: "string", default: "500" }, "fp-key": { type: "string" } },
});
if (!values.persist) {
  console.error("usage: node bench/profile.mjs --persist <dir> [--tries 9] [--cpu <route>] <route> ...");
  process.exit(2);
}
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const expand = (route) => route.replace("{today}", day(0)).replace(/\{days_ago:(-?\d+)\}/g, (_, n) => day(-Number(n)));

const secrets = {
  apiKey: randomBytes(24).toString("hex"),
  secret: randomBytes(24).toString("hex"),
  // The loader's key, when addresses are to be found by fingerprint.
  fpKey: values["fp-key"] ?? randomBytes(24).toString("hex"),
};
const envFile = join(mkdtempSync(join(tmpdir(), "funnel-profile-")), "profile.env");
writeFileSync(envFile, [
  `INTERNAL_API_KEY=${secrets.apiKey}`,
  `INGEST_HMAC_SECRET=${secrets.secret}`,
  `EMAIL_FINGERPRINT_KEY=${secrets.fpKey}`,
  "BENCH_ROUTES=1",
].join("\n") + "\n", { mode: 0o600 });
const auth = { authorization: `Bearer ${secrets.apiKey}` };
const load = loadGenerator({ ...secrets, connections: 4 });

const worker = await startWorker({ persistDir: values.persist, envFile, config: prebuiltConfig() });
try {
  for (const route of ["/api/health", ...positionals.map(expand)]) {
    const times = [];
    for (let i = 0; i < Number(values.tries); i++) {
      const started = performance.now();
      const res = await fetch(worker.url + route, { headers: auth });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status}`);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`${times[times.length >> 1].toFixed(1).padStart(8)} ms p50 ${times[0].toFixed(1).padStart(8)} ms fastest  ${route}`);
  }
  if (values.cpu) await profile(expand(values.cpu));
} finally {
  worker.stop();
}

/** Samples the worker's CPU through the inspector while `route` is under load. */
async function profile(route) {
  const [target] = await (await fetch("http://127.0.0.1:9229/json")).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let id = 0;
  const waiting = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    waiting.get(msg.id)?.(msg.result);
    waiting.delete(msg.id);
  });
  const send = (method, params = {}) => new Promise((resolve) => {
    waiting.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  const post = route.match(/^POST (\S+)$/)?.[1];
  const drive = () => (post ? load.ingest(worker.url, Number(values.batch), 4, post) : load.read(worker.url, route, 4));
  await drive(); // warm
  await send("Profiler.start");
  const run = await drive();
  const { profile: cpu } = await send("Profiler.stop");
  ws.close();
  writeFileSync(join(ROOT, "bench", "last.cpuprofile"), JSON.stringify(cpu));
  const samples = new Map();
  let total = 0;
  for (const node of cpu.nodes) {
    const name = node.callFrame.functionName || `(${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber})`;
    samples.set(name, (samples.get(name) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  console.log(`\nCPU under load, ${route}: ${run.rps.toFixed(0)} requests/s, ${run.eps.toFixed(0)} events/s; functions by own samples (bench/last.cpuprofile):`);
  for (const [name, n] of [...samples].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * n) / total).toFixed(1).padStart(6)} %  ${name.replace(/::h[0-9a-f]{16}$/, "").slice(0, 140)}`);
  }
}
