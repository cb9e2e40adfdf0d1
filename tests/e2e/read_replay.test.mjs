// The quarantine replay acts on the whole quarantine (never-checked first, then
// the ones checked longest ago), so
// it is tested on a worker of its own with a fresh D1 whose every pending
// event is this file's: every number of every replay is then exact.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { assertProblem, INGEST } from "./client.mjs";
import { AUTH, catalog, eventFactory, marker, plainTypes, qs } from "./generate.mjs";
import { applyMigrations, startWorker } from "./worker.mjs";

const tag = marker("q");
const tenant = `e2e_read_${tag}`;
let worker;
let dir;
let make;
let plain;
let noEmailType;

before(async () => {
  const cat = await catalog();
  make = eventFactory(cat, tag);
  plain = plainTypes(cat);
  // A type that does not need an address: an invalid one is then its only fault.
  noEmailType = plain.find((t) => !cat.events.find((e) => e.name === t).requires.some((r) => r.any_of.includes("email")));
  dir = mkdtempSync(join(tmpdir(), "funnel-replay-"));
  applyMigrations(dir);
  worker = await startWorker({ persistDir: dir, envFile: process.env.FUNNEL_ENV_FILE });
});

after(() => {
  worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A bearer call to this file's own worker; never a 5xx. */
async function at(path, init = {}) {
  const res = await fetch(worker.url + path, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  assert.ok(res.status < 500, `${path}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, headers: res.headers, body, text };
}

const ingest = (events) =>
  at(INGEST, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ events }) });

async function replay(limit) {
  const res = await at(`/internal/quarantine/replay${qs({ limit })}`, { method: "POST" });
  assert.equal(res.status, 200, res.text);
  for (const m of ["examined", "replayed", "already_stored", "still_failing", "pending"]) assert.ok(Number.isInteger(res.body[m]), m);
  assert.equal(res.body.replayed + res.body.already_stored + res.body.still_failing, res.body.examined, res.text);
  return res.body;
}

async function pages(path, params) {
  const out = [];
  let cursor;
  for (;;) {
    const res = await at(`${path}${qs({ ...params, limit: 500, cursor })}`);
    assert.equal(res.status, 200, res.text);
    out.push(...res.body.events);
    cursor = res.body.next_cursor;
    if (!cursor) return out;
  }
}

const quarantined = (params = {}) => pages("/internal/quarantine", params);
const stored = (params = {}) => pages("/internal/funnel-events", params);

/** A catalog type with a property no catalog allows: invalid today and after any replay. */
const invalid = (fields = {}) => {
  const e = make(plain[0], { tenant_id: tenant, ...fields });
  return { ...e, properties: { ...e.properties, "bad name é": 1 } };
};

test("a replay re-validates every pending event: still-invalid ones stay pending with their reasons, nothing is stored", async () => {
  const bad = Array.from({ length: 4 }, () => invalid());
  assertProblem(assert, await ingest(bad), 422, "all_events_rejected");
  assert.deepEqual(await replay(), { examined: 4, replayed: 0, already_stored: 0, still_failing: 4, pending: 4 });
  const pending = await quarantined({ status: "pending" });
  assert.deepEqual(pending.map((q) => q.event_id).sort(), bad.map((e) => e.event_id).sort());
  for (const q of pending) {
    assert.equal(q.status, "pending");
    assert.equal(q.replayed_at, null);
    assert.ok(q.errors.some((e) => e.code === "invalid_property_name" || (e.code && e.field?.startsWith("properties."))),
      JSON.stringify(q.errors));
  }
  assert.deepEqual(await stored(), [], "nothing was stored");
  // A smaller batch examines only that many.
  assert.deepEqual(await replay(2), { examined: 2, replayed: 0, already_stored: 0, still_failing: 2, pending: 4 });
});

test("replaying again stores nothing twice, and a replay never stores an event already stored", async () => {
  assert.ok(noEmailType, "a plain type that does not require an address");
  // P: rejected for its address, then resent fixed under the same id (stored).
  const p = make(noEmailType, { tenant_id: tenant });
  assertProblem(assert, await ingest([{ ...p, email: `not-an-address-${tag}` }]), 422, "all_events_rejected");
  const fixed = await ingest([p]);
  assert.equal(fixed.body.results[0].status, "accepted", fixed.text);
  // Q: rejected for its address only, never resent.
  const q = make(noEmailType, { tenant_id: tenant });
  assertProblem(assert, await ingest([{ ...q, email: `not-an-address-2-${tag}` }]), 422, "all_events_rejected");

  const before = await stored();
  const r1 = await replay();
  // The four invalid ones still fail, and so do P's and Q's copies: their refused address is gone.
  assert.deepEqual(r1, { examined: 6, replayed: 0, already_stored: 0, still_failing: 6, pending: 6 });
  assert.equal(r1.pending, 6 - r1.replayed - r1.already_stored);
  const afterFirst = await stored();
  assert.equal(afterFirst.length - before.length, r1.replayed, "a replay stores exactly what it replayed");
  const count = (rows, id) => rows.filter((e) => e.event_id === id).length;
  assert.equal(count(afterFirst, p.event_id), 1, "P is stored once, whatever the replay made of its copy");
  assert.ok(count(afterFirst, q.event_id) <= 1);
  for (const e of afterFirst) assert.equal(e.email_fingerprint, null, "an invalid address never becomes a fingerprint");

  const r2 = await replay();
  assert.deepEqual(r2, { examined: r1.pending, replayed: 0, already_stored: 0, still_failing: r1.pending, pending: r1.pending });
  const afterSecond = await stored();
  assert.deepEqual(afterSecond.map((e) => e.id), afterFirst.map((e) => e.id), "the second replay stored nothing");

  // The quarantine says which copies were replayed, and when.
  const all = await quarantined({ status: "all" });
  const replayed = all.filter((x) => x.status === "replayed");
  assert.equal(replayed.length, r1.replayed + r1.already_stored);
  for (const x of replayed) assert.ok(x.replayed_at, JSON.stringify(x));
  assert.equal((await quarantined({ status: "pending" })).length, r1.pending);
});

test("an event rejected only for an invalid address still fails on replay", async () => {
  const r = make(noEmailType, { tenant_id: tenant });
  const res = await ingest([{ ...r, email: `not-an-address-3-${tag}` }]);
  assert.equal(res.body.results[0].errors[0].code, "invalid_email");
  const outcome = await replay();
  assert.equal(outcome.replayed, 0, JSON.stringify(outcome));
  assert.equal((await stored()).filter((e) => e.event_id === r.event_id).length, 0, "stored though still invalid");
  const copy = (await quarantined({ status: "pending" })).find((x) => x.event_id === r.event_id);
  assert.ok(copy.errors.some((e) => e.code === "invalid_email"), JSON.stringify(copy.errors));
  assert.ok(!JSON.stringify(copy).includes(`not-an-address-3-${tag}`), "the refused address is not kept");
});

test("replays rotate through the pending quarantine: each event is re-validated within ceil(pending / limit) replays", async () => {
  const newest = Array.from({ length: 3 }, () => invalid());
  assertProblem(assert, await ingest(newest), 422, "all_events_rejected");
  const pending = await quarantined({ status: "pending" });
  assert.ok(pending.length > 4, `${pending.length} pending`);
  const start = new Date(Date.now() - 1000).toISOString();
  const limit = 2;
  for (let i = 0; i < Math.ceil(pending.length / limit); i++) {
    const r = await replay(limit);
    assert.equal(r.examined, limit, JSON.stringify(r));
  }
  const after = await quarantined({ status: "pending" });
  assert.equal(after.length, pending.length);
  for (const q of after) assert.ok(q.checked_at && q.checked_at >= start, `${q.event_id} last checked ${q.checked_at}`);
});
