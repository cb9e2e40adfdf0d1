import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { SECRETS, sign, uid } from "./client.mjs";
import { applyMigrations, startWorker } from "./worker.mjs";

// A second worker with INGEST_MODE=queue and its own D1: every batch without
// metered events goes through the local queue and its consumer.
let worker;
let dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "funnel-queue-"));
  const envFile = join(dir, "queue.env");
  writeFileSync(envFile, `${readFileSync(process.env.FUNNEL_ENV_FILE, "utf8")}INGEST_MODE=queue\n`, { mode: 0o600 });
  applyMigrations(join(dir, "state"));
  worker = await startWorker({ persistDir: join(dir, "state"), envFile });
});
after(() => {
  worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ingest(events) {
  const body = JSON.stringify({ events });
  const res = await fetch(`${worker.url}/internal/funnel-events/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-funnel-signature": sign(body) },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function storedIds(tenant) {
  const res = await fetch(`${worker.url}/internal/funnel-events?tenant_id=${tenant}&limit=500`, {
    headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()).events.map((e) => e.event_id).sort();
}

/** Polls until `want` events of the tenant are stored (the consumer's batches wait up to 1 s). */
async function waitStored(tenant, want, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ids = await storedIds(tenant);
    if (ids.length >= want || Date.now() > deadline) return ids;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("in queue mode a batch answers 202 queued and the consumer stores each event once, even sent twice", async () => {
  const tenant = uid("tq");
  const events = ["a", "b", "c"].map((n) => ({ event_type: "app_open", event_id: `${tenant}_${n}`, tenant_id: tenant }));
  const first = await ingest(events);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  assert.deepEqual(first.body.results.map((r) => r.status), ["queued", "queued", "queued"]);
  const ids = await waitStored(tenant, 3);
  assert.deepEqual(ids, events.map((e) => e.event_id).sort());

  const again = await ingest(events);
  assert.equal(again.status, 202);
  // The second copy is consumed too (a marker sent after it arrives once it has been).
  const marker = { event_type: "app_open", event_id: `${tenant}_marker`, tenant_id: tenant };
  assert.equal((await ingest([marker])).status, 202);
  const after = await waitStored(tenant, 4);
  assert.deepEqual(after, [...events.map((e) => e.event_id), marker.event_id].sort(), "each event stored once");
});

test("in queue mode a metered batch is still written at once", async () => {
  const tenant = uid("tm");
  const res = await ingest([
    { event_type: "compile_prompt", event_id: `${tenant}_c`, tenant_id: tenant, user_id: tenant,
      properties: { prompt_id: "p1", model_type: "gpt-4" } },
  ]);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.results[0].status, "accepted");
  assert.deepEqual(await storedIds(tenant), [`${tenant}_c`]);
});
