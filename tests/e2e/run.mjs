#!/usr/bin/env node
// Runs the end-to-end tests against a real worker: builds it (wrangler's
// [build] command), applies the migrations to a fresh local D1 in a temp dir,
// starts `wrangler dev` on a free loopback port with test secrets, runs
// `node --test tests/e2e/*.test.mjs`, and always stops the worker.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };

function freePort() {
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

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`worker not healthy after ${timeoutMs} ms`);
}

const work = mkdtempSync(join(tmpdir(), "funnel-e2e-"));
const secrets = {
  INTERNAL_API_KEY: randomBytes(24).toString("hex"),
  INTERNAL_API_KEY_PREVIOUS: randomBytes(24).toString("hex"),
  INGEST_HMAC_SECRET: randomBytes(24).toString("hex"),
  INGEST_HMAC_SECRET_PREVIOUS: randomBytes(24).toString("hex"),
  EMAIL_FINGERPRINT_KEY: randomBytes(24).toString("hex"),
};
const envFile = join(work, "test.env");
writeFileSync(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
const persist = join(work, "state");

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
                          { cwd: root, env, encoding: "utf8" });
if (migrate.status !== 0) {
  console.error(migrate.stdout, migrate.stderr);
  process.exit(1);
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const logFile = join(work, "wrangler.log");
const child = spawn(
  wrangler,
  ["dev", "--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--persist-to", persist,
   "--show-interactive-dev-session=false", "--log-level", "log"],
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
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

let status = 1;
try {
  // The first start compiles the worker: allow minutes.
  await waitForHealth(url, child, 15 * 60 * 1000);
  console.log(`e2e: worker ready at ${url}`);
  const tests = readdirSync(join(root, "tests", "e2e")).filter((f) => f.endsWith(".test.mjs")).sort()
    .map((f) => join(root, "tests", "e2e", f));
  const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...tests], {
    stdio: "inherit",
    env: { ...process.env, FUNNEL_URL: url, FUNNEL_SECRETS: JSON.stringify(secrets), FUNNEL_D1_DIR: persist,
           FUNNEL_WORKER_LOG: logFile },
  });
  status = run.status ?? 1;
} catch (e) {
  console.error(`e2e: ${e.message}`);
} finally {
  writeFileSync(logFile, Buffer.concat(output));
  stop();
  if (status !== 0) {
    console.error(`e2e: worker output (last 4 KB):\n${Buffer.concat(output).toString("utf8").slice(-4096)}`);
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
