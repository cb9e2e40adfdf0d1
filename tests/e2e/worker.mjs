// Starts and stops a real worker (`wrangler dev`) for tests: a free loopback
// port, a given D1 directory and env file, output captured for the log check.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Builds the worker once (wrangler.toml's [build] command) and writes beside wrangler.toml a
 * config without that step (`wrangler.prebuilt.toml`, not committed), so every `wrangler dev`
 * started from it serves exactly this build. A worker started with [build] watches src/ and,
 * whenever wrangler re-reads its configuration, rebuilds and restarts ("The file src changed,
 * restarting build..."): in the middle of a test, whose requests then fail with "fetch failed".
 */
export function prebuiltConfig(root = ROOT) {
  const run = spawnSync("bash", [join(root, "scripts", "build-worker.sh")], { cwd: root, env, stdio: "inherit" });
  if (run.status !== 0) throw new Error(`the worker build failed (${run.status})`);
  const config = join(root, "wrangler.prebuilt.toml");
  writeFileSync(config, readFileSync(join(root, "wrangler.toml"), "utf8").replace(/^\[build\][^[]*/m, ""));
  return config;
}

/** The config test workers start from: run.mjs's prebuilt one when set, else wrangler.toml. */
const defaultConfig = () => process.env.FUNNEL_WRANGLER_CONFIG || undefined;

/** `root`/`config`: another checkout's worker (the benchmark's comparison runs two side by side). */
export function applyMigrations(persistDir, { root = ROOT, config = defaultConfig() } = {}) {
  const run = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir,
                                   ...(config ? ["--config", config] : [])],
                        { cwd: root, env, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`migrations failed:\n${run.stdout}\n${run.stderr}`);
}

/** Starts wrangler dev; resolves once /api/health answers (any status when `anyHealth`). */
export async function startWorker({ persistDir, envFile, anyHealth = false, timeoutMs = 15 * 60 * 1000, root = ROOT, config = defaultConfig() }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    wrangler,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--persist-to", persistDir,
     "--show-interactive-dev-session=false", "--log-level", "log", "--test-scheduled",
     ...(config ? ["--config", config] : [])],
    { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = [];
  child.stdout.on("data", (d) => output.push(d));
  child.stderr.on("data", (d) => output.push(d));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${Buffer.concat(output)}`);
    if (Date.now() > deadline) {
      stop();
      throw new Error(`worker not ready after ${timeoutMs} ms`);
    }
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200 || anyHealth) return { url, stop, output: () => Buffer.concat(output).toString("utf8") };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The local D1 database file under a `--persist-to` directory. */
export function d1File(persistDir) {
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  return join(dir, readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite"));
}

/** D1 faults: holds SQLite's exclusive lock on the D1 file 1.5 s of every 3 s
 * until stopped, so writes fail as an overloaded database's would. Counts the
 * lock periods (a test can prove the faults happened). */
export function lockD1Periodically(persistDir) {
  const script = [
    "import sqlite3, sys, time",
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)",
    "while True:",
    "    c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(1.5); c.execute('COMMIT'); time.sleep(1.5)",
  ].join("\n");
  const child = spawn("python3", ["-c", script, d1File(persistDir)], { stdio: ["ignore", "pipe", "ignore"] });
  let locks = 0;
  child.stdout.on("data", (d) => (locks += String(d).split("locked").length - 1));
  return {
    locks: () => locks,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on("exit", resolve);
      child.kill();
    }),
  };
}

/** Loads the demo data (scripts/demo.mjs) into the running worker's D1 under `persistDir`. */
export function loadDemo(persistDir, secrets) {
  const run = spawnSync(process.execPath, [join(ROOT, "scripts", "demo.mjs"), "--persist-to", persistDir], {
    encoding: "utf8",
    env: { ...process.env, INGEST_HMAC_SECRET: secrets.INGEST_HMAC_SECRET, INTERNAL_API_KEY: secrets.INTERNAL_API_KEY },
  });
  if (run.status !== 0) throw new Error(`the demo data failed to load (${run.status}):\n${run.stderr}`);
}
