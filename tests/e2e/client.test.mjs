import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { loadClient } from "../../clients/js/build.mjs";
import { BASE, call, SECRETS, uid } from "./client.mjs";
import { lockD1Periodically } from "./worker.mjs";

// The JS client (clients/js) against the real worker: a burst sent while D1
// keeps failing underneath (the load test's fault: another process holds
// SQLite's exclusive lock on the D1 file, 1.5 s of every 3 s) must end with
// every event stored exactly once, read back through the event list.
const BURST = Number(process.env.CLIENT_BURST ?? 10_000);

let FunnelClient;
let buildDir;
before(async () => {
  buildDir = mkdtempSync(join(tmpdir(), "funnel-client-"));
  ({ FunnelClient } = await loadClient(buildDir));
});
after(() => rmSync(buildDir, { recursive: true, force: true }));

/** Every event of the tenant, following the list's cursor to the end. */
async function listAll(tenant) {
  const events = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ tenant_id: tenant, limit: "500", ...(cursor ? { cursor } : {}) });
    const res = await call(`/internal/funnel-events?${q}`, { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } });
    assert.equal(res.status, 200, res.text);
    events.push(...res.body.events);
    cursor = res.body.next_cursor;
  } while (cursor);
  return events;
}

test(`a burst of ${BURST} events through the client, with D1 failing underneath, is stored exactly once each`, { timeout: 600_000 }, async () => {
  const tenant = uid("client_burst");
  const statuses = {};
  const client = new FunnelClient({
    url: BASE, secret: SECRETS.INGEST_HMAC_SECRET, concurrency: 2, maxRetries: 20, retryBaseMs: 200, retryMaxMs: 3000,
    logger: null, onResult: (outcomes) => outcomes.forEach((o) => (statuses[o.status] = (statuses[o.status] ?? 0) + 1)),
  });
  const faults = lockD1Periodically(process.env.FUNNEL_D1_DIR);
  let outcomes;
  try {
    const pending = [];
    for (let i = 0; i < BURST; i++) pending.push(client.track("app_open", { tenant_id: tenant, user_id: `u${i % 97}`, properties: { platform: "web" } }));
    outcomes = await Promise.all(pending);
  } finally {
    await faults.stop();
  }
  await client.close();
  const retried = outcomes.filter((o) => o.attempts > 1).length;
  const queued = outcomes.filter((o) => o.status === "queued").length;
  console.log(`client burst: ${JSON.stringify(statuses)}; ${retried} events needed more than one attempt; ${faults.locks()} lock periods`);
  assert.ok(faults.locks() >= 1, "the faults were injected");
  // The worker hands a batch D1 cannot take to its queue (202 queued); without a queue the client retries.
  assert.ok(queued + retried > 0, "D1 failed under at least one batch, so it was queued or retried");
  assert.deepEqual(outcomes.filter((o) => o.status !== "accepted" && o.status !== "duplicate" && o.status !== "queued"), []);

  const sent = new Set(outcomes.map((o) => o.event_id));
  assert.equal(sent.size, BURST);
  // Queued events are stored by the queue's consumer shortly after: wait for it to drain.
  let stored = await listAll(tenant);
  for (let waited = 0; stored.length < BURST && waited < 60_000; waited += 500) {
    await new Promise((r) => setTimeout(r, 500));
    stored = await listAll(tenant);
  }
  const ids = stored.map((e) => e.event_id);
  assert.equal(new Set(ids).size, ids.length, "no event is stored twice");
  assert.equal(ids.length, BURST, "every event is stored");
  assert.ok(ids.every((id) => sent.has(id)));
});

test("the client's retry of a delivered batch is a duplicate, never a second row", async () => {
  const tenant = uid("client_dup");
  const client = new FunnelClient({ url: BASE, apiKey: SECRETS.INGEST_KEY, flushIntervalMs: 0, logger: null });
  const events = [0, 1, 2].map((i) => ({ event_type: "app_open", event_id: `${tenant}_${i}`, tenant_id: tenant }));
  const first = client.trackBatch(events);
  await client.flush();
  const again = client.trackBatch(events);
  await client.close();
  assert.deepEqual((await first).map((o) => o.status), ["accepted", "accepted", "accepted"]);
  assert.deepEqual((await again).map((o) => o.status), ["duplicate", "duplicate", "duplicate"]);
  assert.equal((await listAll(tenant)).length, 3);
});

test("the client reports the worker's per-event rejections and a bad credential without retrying", async () => {
  const client = new FunnelClient({ url: BASE, secret: SECRETS.INGEST_HMAC_SECRET, flushIntervalMs: 0, logger: null });
  const rejected = client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p" } }); // model_type missing
  await client.flush();
  const o = await rejected;
  assert.equal(o.status, "rejected");
  assert.ok(o.errors.some((e) => e.code === "missing_required_property" && e.field === "properties.model_type"), JSON.stringify(o.errors));

  const wrong = new FunnelClient({ url: BASE, secret: "not-the-secret", flushIntervalMs: 0, logger: null });
  const refused = wrong.track("app_open", { user_id: "u" });
  await wrong.close();
  const r = await refused;
  assert.equal(r.status, "failed");
  assert.equal(r.errors[0].code, "bad_signature");
  assert.equal(r.attempts, 1);
});
