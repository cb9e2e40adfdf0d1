#!/usr/bin/env node
// Runs the end-to-end tests against a real worker: builds it once (wrangler's
// [build] command; every test worker then serves that build, see
// `prebuiltConfig`), applies the migrations to a fresh local D1 in a temp dir,
// starts `wrangler dev` on a free loopback port with random test secrets, runs
// `node --test tests/e2e/*.test.mjs tests/browser/*.test.mjs`, and always
// stops the worker.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { applyMigrations, freePort, prebuiltConfig, ROOT, startWorker } from "./worker.mjs";

const work = mkdtempSync(join(tmpdir(), "funnel-e2e-"));
const secrets = Object.fromEntries(
  ["INTERNAL_API_KEY", "INTERNAL_API_KEY_PREVIOUS", "INGEST_HMAC_SECRET", "INGEST_HMAC_SECRET_PREVIOUS",
   "EMAIL_FINGERPRINT_KEY", "READ_KEY", "INGEST_KEY"].map((name) => [name, randomBytes(24).toString("hex")]),
);
// Named keys with a role each, configured as hashes only (as scripts/make-key.mjs prints them).
const sha256 = (key) => createHash("sha256").update(key).digest("hex");
secrets.API_KEYS = [`e2e-read:read:${sha256(secrets.READ_KEY)}`, `e2e-ingest:ingest:${sha256(secrets.INGEST_KEY)}`].join(";");
// The alert webhook: a local receiver (tests/e2e/receiver.mjs, started below) logging each post to
// a file the tests read. Its URL carries a random path, as a Slack webhook's holds its token: a
// secret, which must never reach the log.
const receiverPort = await freePort();
secrets.ALERT_WEBHOOK_SECRET = randomBytes(24).toString("hex");
secrets.ALERT_WEBHOOK_URLS = `http://127.0.0.1:${receiverPort}/hooks/${randomBytes(12).toString("hex")}`;
// Plain settings (not secrets, so not searched for in the log): the control plane for tenant links.
const vars = { CONTROL_PLANE_URL: "https://cp.e2e.example" };
// Browser collection: one site whose pages are served on a loopback port (tests/browser/collect.test.mjs);
// another port is another origin, which the key does not list. The key is public, not a secret.
const collectPorts = { allowed: await freePort(), other: await freePort() };
while (collectPorts.other === collectPorts.allowed) collectPorts.other = await freePort();
vars.PUBLISHABLE_KEYS = `pk_e2e${randomBytes(12).toString("hex")}:e2e-site:http://127.0.0.1:${collectPorts.allowed}`;
const envFile = join(work, "test.env");
writeFileSync(envFile, Object.entries({ ...secrets, ...vars }).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });
const persistDir = join(work, "state");
const alertLog = join(work, "alerts.jsonl");
writeFileSync(alertLog, "");
const receiver = spawn(process.execPath, [join(ROOT, "tests", "e2e", "receiver.mjs"), String(receiverPort), alertLog],
  { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((resolve, reject) => {
  receiver.stdout.once("data", resolve);
  receiver.once("exit", (code) => reject(new Error(`the alert receiver exited with ${code}`)));
});

let status = 1;
let worker;
try {
  // The tests inherit it: the workers they start themselves serve the same build.
  process.env.FUNNEL_WRANGLER_CONFIG = prebuiltConfig();
  applyMigrations(persistDir);
  worker = await startWorker({ persistDir, envFile });
  console.log(`e2e: worker ready at ${worker.url}`);
  // The console in a browser first (it loads the demo data), then the API tests:
  // node --test runs the files in path order whatever order they are given in.
  const tests = ["browser", "e2e"].flatMap((folder) => {
    const dir = join(ROOT, "tests", folder);
    return readdirSync(dir).filter((f) => f.endsWith(".test.mjs")).sort().map((f) => join(dir, f));
  }).filter((f) => f.includes(process.env.E2E_FILTER ?? "")); // E2E_FILTER=browser runs only those files
  const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...tests], {
    stdio: "inherit",
    env: { ...process.env, FUNNEL_URL: worker.url, FUNNEL_SECRETS: JSON.stringify(secrets), FUNNEL_VARS: JSON.stringify(vars),
           FUNNEL_D1_DIR: persistDir, FUNNEL_ENV_FILE: envFile, FUNNEL_COLLECT_PORTS: JSON.stringify(collectPorts),
           FUNNEL_ALERT_LOG: alertLog },
  });
  status = run.status ?? 1;
  // Secrets must never reach the worker's log, whatever the tests sent.
  const log = worker.output();
  const leaked = Object.entries(secrets).filter(([, value]) => log.includes(value)).map(([name]) => name);
  if (leaked.length) {
    console.error(`e2e: the worker log contains secret values: ${leaked.join(", ")}`);
    status = 1;
  } else {
    console.log(`e2e: scanned ${log.length} bytes of worker log: no secret value in it`);
  }
  // Nor any of the PII the suite sent (tests/e2e/pii.test.mjs lists it).
  const needlesFile = join(work, "pii-needles.json");
  if (existsSync(needlesFile)) {
    const found = JSON.parse(readFileSync(needlesFile, "utf8")).filter((n) => log.toLowerCase().includes(n.toLowerCase()));
    if (found.length) {
      console.error(`e2e: the worker log contains PII the tests sent: ${found.length} values`);
      status = 1;
    } else {
      console.log("e2e: no PII the tests sent is in the worker log");
    }
  }
} catch (e) {
  console.error(`e2e: ${e.message}`);
} finally {
  worker?.stop();
  receiver.kill();
  if (status !== 0 && worker) console.error(`e2e: worker output (last 4 KB):\n${worker.output().slice(-4096)}`);
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
