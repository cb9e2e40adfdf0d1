import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { assertProblem, SECRETS } from "./client.mjs";
import { startWorker } from "./worker.mjs";

// A second worker whose D1 cannot open: its database file path is a directory.
let worker;
let dir;
before(async () => {
  const d1 = join("v3", "d1", "miniflare-D1DatabaseObject");
  const name = readdirSync(join(process.env.FUNNEL_D1_DIR, d1)).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  dir = mkdtempSync(join(tmpdir(), "funnel-d1-down-"));
  mkdirSync(join(dir, d1, name), { recursive: true });
  worker = await startWorker({ persistDir: dir, envFile: process.env.FUNNEL_ENV_FILE, anyHealth: true });
});
after(() => {
  worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(path, init) {
  const res = await fetch(worker.url + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

test("health is a 503 problem with Retry-After when D1 cannot be reached", async () => {
  const res = await call("/api/health");
  assertProblem(assert, res, 503, "storage_unavailable");
  assert.ok(Number(res.headers.get("retry-after")) > 0);
});

const ingest = (events) => call("/internal/funnel-events/ingest", {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` },
  body: JSON.stringify({ events }),
});

test("ingest hands a batch D1 cannot take to the queue: 202, every valid event queued", async () => {
  const res = await ingest([{ event_type: "app_open", event_id: "d1-down-1" }, { event_type: "app_open", event_id: "d1-down-2" }]);
  assert.equal(res.status, 202, res.text);
  assert.deepEqual(res.body.results.map((r) => r.status), ["queued", "queued"]);
  assert.equal(res.body.processed, 2);
});

test("a batch with a metered event still answers 503 (retry) rather than losing it when D1 fails", async () => {
  const res = await ingest([
    { event_type: "app_open", event_id: "d1-down-3" },
    { event_type: "compile_prompt", event_id: "d1-down-4", user_id: "u1", properties: { prompt_id: "p1", model_type: "gpt-4" } },
  ]);
  assertProblem(assert, res, 503, "storage_unavailable");
  assert.ok(Number(res.headers.get("retry-after")) > 0);
  assert.ok(!res.text.includes("D1"), "internal details stay in the log");
});
