// The event list and its CSV export against the real worker: every filter
// returns exactly what this file sent (its own tenant, addresses, traces and
// error codes, unique to the run), keyset paging is exact even while events
// arrive, cursors are tamper-evident and bound to their query, and no
// response ever carries a raw address.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { assertProblem, BASE } from "./client.mjs";
import {
  AUTH, catalog, eventFactory, fingerprint, isNewestFirst, marker, pageAll, parseCsv, plainTypes, qs, read, send,
} from "./generate.mjs";

const tag = marker("r");
const tenant = `e2e_read_${tag}`;
const emails = [`Alice.${tag}@Read-${tag}.Example`, `bob.${tag}@read-${tag}.example`, `carol.${tag}@other-${tag}.example`];
const locals = emails.map((e) => e.split("@")[0].toLowerCase());
const traces = Array.from({ length: 10 }, (_, k) => `trace_${tag}_${k}`);
const codes = { timeout: `${tag}_timeout`, denied: `${tag}_denied` };
const ownSource = `rd-${tag}`;

/** Every event this file sent (all accepted), with the source it was stored under. */
const sent = [];
let types;
let cat;
/** Every response text of this file, for the "never a raw address" check. */
const seen = [];

async function list(params) {
  const all = await pageAll(params, 500);
  seen.push(...all.texts);
  return all.events;
}

const ids = (events) => events.map((e) => e.event_id);
const sortedIds = (events) => ids(events).sort();
const expectIds = (pred) => sent.filter(pred).map((s) => s.event.event_id).sort();
const domainOf = (email) => email?.slice(email.lastIndexOf("@") + 1).toLowerCase();

before(async () => {
  cat = await catalog();
  // Two plain types per service, so the data spans services.
  const plain = new Set(plainTypes(cat));
  types = cat.services.flatMap((s) => cat.events.filter((e) => e.service === s && plain.has(e.name)).slice(0, 2))
    .map((e) => e.name);
  assert.ok(types.length >= 3, `too few plain event types: ${types}`);
  const make = eventFactory(cat, tag);
  const batch = [];
  for (let i = 0; i < 300; i++) {
    const fields = { tenant_id: tenant };
    if (i % 4 !== 3) fields.email = emails[i % 4];
    if (i % 7 !== 6) fields.trace_id = traces[i % 10];
    if (i % 6 === 0) Object.assign(fields, { success: false, error_code: i % 12 === 0 ? codes.timeout : codes.denied });
    else if (i % 6 === 1) fields.success = true;
    if (i >= 150 && i % 2 === 0) fields.source = ownSource;
    const event = make(types[i % types.length], fields);
    batch.push({ event, source: event.source ?? (i < 150 ? "zuplo" : "cp") });
  }
  await send(batch.slice(0, 150).map((s) => s.event), { signed: true });
  await send(batch.slice(150).map((s) => s.event));
  sent.push(...batch);
});

test("each list filter returns exactly the events sent that match it", async () => {
  const [t1, t2, t3] = types;
  const lower = (s) => s?.toLowerCase();
  const cases = [
    [{ tenant_id: tenant }, () => true],
    [{ tenant_id: tenant, type: t1 }, (e) => e.event_type === t1],
    [{ tenant_id: tenant, type: `${t1},${t2}` }, (e) => [t1, t2].includes(e.event_type)],
    [{ tenant_id: tenant, type: ` ${t3} ,${t1},${t3}` }, (e) => [t1, t3].includes(e.event_type)],
    [{ q_email: `  ${emails[0].toUpperCase()} ` }, (e) => lower(e.email) === lower(emails[0])],
    [{ q_email: emails[1] }, (e) => lower(e.email) === lower(emails[1])],
    [{ q_email: `@READ-${tag}.example` }, (e) => domainOf(e.email) === `read-${tag}.example`],
    [{ q_email: `@other-${tag}.example` }, (e) => domainOf(e.email) === `other-${tag}.example`],
    [{ q_email: `nobody.${tag}@read-${tag}.example` }, () => false],
    [{ email_fingerprint: fingerprint(emails[2]) }, (e) => lower(e.email) === lower(emails[2])],
    [{ trace_id: traces[3] }, (e) => e.trace_id === traces[3]],
    [{ trace_id: ` ${traces[4]} ` }, (e) => e.trace_id === traces[4]],
    [{ tenant_id: tenant, success: "false" }, (e) => e.success === false],
    [{ tenant_id: tenant, success: "0" }, (e) => e.success === false],
    [{ tenant_id: tenant, success: "true" }, (e) => e.success === true],
    [{ tenant_id: tenant, success: "1" }, (e) => e.success === true],
    [{ tenant_id: tenant, error_code: codes.timeout }, (e) => e.error_code === codes.timeout],
    [{ error_code: codes.denied }, (e) => e.error_code === codes.denied],
    [{ source: ownSource }, (e, s) => s === ownSource],
    [{ tenant_id: tenant, source: "zuplo" }, (e, s) => s === "zuplo"],
    [{ tenant_id: tenant, source: "cp" }, (e, s) => s === "cp"],
    [{ tenant_id: tenant, type: t1, success: "false" }, (e) => e.event_type === t1 && e.success === false],
    [{ tenant_id: tenant, trace_id: traces[1], q_email: `@read-${tag}.example` },
      (e) => e.trace_id === traces[1] && domainOf(e.email) === `read-${tag}.example`],
    [{ tenant_id: `${tenant}_other` }, () => false],
  ];
  for (const [params, pred] of cases) {
    const events = await list(params);
    assert.equal(new Set(ids(events)).size, events.length, `an event twice for ${JSON.stringify(params)}`);
    assert.ok(isNewestFirst(events), `not newest first for ${JSON.stringify(params)}`);
    assert.deepEqual(sortedIds(events), expectIds((s) => pred(s.event, s.source)), JSON.stringify(params));
  }
  // Sanity: the cases above are not all trivially empty.
  assert.ok(sent.some((s) => s.event.success === false) && sent.some((s) => s.event.success === true));
});

test("a listed event carries every field as sent, with the address only as fingerprint and domain", async () => {
  const events = await list({ tenant_id: tenant });
  const services = new Map(cat.events.map((e) => [e.name, e.service]));
  const bySentId = new Map(sent.map((s) => [s.event.event_id, s]));
  assert.equal(events.length, sent.length);
  for (const got of events) {
    const { event, source } = bySentId.get(got.event_id);
    const where = `${got.event_id}`;
    assert.equal(typeof got.id, "number", where);
    assert.match(got.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, where);
    assert.equal(got.event_type, event.event_type, where);
    assert.equal(got.service, services.get(event.event_type), where);
    assert.equal(got.source, source, where);
    assert.equal(got.tenant_id, tenant, where);
    assert.equal(got.trace_id, event.trace_id ?? null, where);
    assert.equal(got.success, event.success ?? null, where);
    assert.equal(got.error_code, event.error_code ?? null, where);
    assert.equal(got.email_fingerprint, event.email ? fingerprint(event.email) : null, where);
    assert.equal(got.email_domain, event.email ? domainOf(event.email) : null, where);
    assert.deepEqual(got.properties, event.properties, where);
    assert.ok(!("email" in got), `${where}: a raw email member`);
  }
});

test("paging with limit 7 to the end returns every match exactly once, in (ts desc, id desc) order", async () => {
  const whole = await list({ tenant_id: tenant });
  for (const limits of [7, [7, 3, 19, 1]]) {
    const paged = await pageAll({ tenant_id: tenant }, limits);
    seen.push(...paged.texts);
    assert.ok(paged.pages > 10, `only ${paged.pages} pages`);
    assert.deepEqual(paged.events.map((e) => e.id), whole.map((e) => e.id), `limits ${limits}`);
    assert.ok(isNewestFirst(paged.events));
  }
  // A filtered paging too.
  const failures = await pageAll({ tenant_id: tenant, success: "false" }, 7);
  assert.deepEqual(sortedIds(failures.events), expectIds((s) => s.event.success === false));
  assert.ok(isNewestFirst(failures.events));
});

test("from is inclusive and to exclusive, at the stored ts", async () => {
  const all = await list({ tenant_id: tenant });
  const stamps = [...new Set(all.map((e) => e.ts))].sort();
  const split = stamps[stamps.length - 1];
  const from = new Date(Date.parse(stamps[0]) - 60_000).toISOString();
  const to = new Date(Date.parse(split) + 60_000).toISOString();
  const later = await list({ tenant_id: tenant, from: split, to });
  assert.deepEqual(sortedIds(later), sortedIds(all.filter((e) => e.ts >= split)));
  assert.ok(later.length > 0);
  const earlier = await list({ tenant_id: tenant, from, to: split });
  assert.deepEqual(sortedIds(earlier), sortedIds(all.filter((e) => e.ts < split)));
  assert.equal(earlier.length + later.length, all.length);
  // A window that ends before any of it.
  assert.equal((await list({ tenant_id: tenant, from: "2020-01-01", to: "2020-01-02" })).length, 0);
});

test("paging while events of the same tenant arrive returns every earlier match exactly once", async () => {
  const make = eventFactory(cat, `${tag}late`);
  const before = new Set(sent.map((s) => s.event.event_id));
  const late = new Set();
  const got = [];
  let cursor;
  for (let page = 0; ; page++) {
    const more = Array.from({ length: 4 }, (_, k) =>
      make(types[(page + k) % types.length], { tenant_id: tenant, trace_id: traces[k] }));
    for (const e of more) late.add(e.event_id);
    // The page read and the ingest run at the same time.
    const [res] = await Promise.all([
      read(`/internal/funnel-events${qs({ tenant_id: tenant, limit: 11, cursor })}`),
      send(more),
    ]);
    sent.push(...more.map((event) => ({ event, source: "cp" })));
    assert.equal(res.status, 200, res.text);
    seen.push(res.text);
    got.push(...res.body.events);
    cursor = res.body.next_cursor;
    if (!cursor) break;
  }
  const gotIds = ids(got);
  assert.equal(new Set(gotIds).size, gotIds.length, "an event came twice");
  for (const id of before) assert.ok(gotIds.includes(id), `missed ${id}`);
  for (const id of gotIds) assert.ok(before.has(id) || late.has(id), `an event nobody sent: ${id}`);
  assert.ok(isNewestFirst(got));
});

test("a tampered cursor or one reused with another filter is a 400 invalid_cursor; the page size may change", async () => {
  const first = await read(`/internal/funnel-events${qs({ tenant_id: tenant, limit: 5 })}`);
  assert.equal(first.status, 200);
  const cursor = first.body.next_cursor;
  assert.equal(typeof cursor, "string");
  const mid = Math.floor(cursor.length / 2);
  const swap = (c) => (c === "A" ? "B" : "A");
  const tampered = [
    cursor.slice(0, mid) + swap(cursor[mid]) + cursor.slice(mid + 1),
    cursor.slice(0, 3) + swap(cursor[3]) + cursor.slice(4),
    cursor.slice(0, -2) + swap(cursor.at(-2)) + cursor.at(-1),
    cursor.slice(0, -6),
    `${cursor}x`,
    "not-a-cursor",
    cursor.split(".").reverse().join("."),
  ];
  for (const c of tampered) {
    assertProblem(assert, await read(`/internal/funnel-events${qs({ tenant_id: tenant, limit: 5, cursor: c })}`), 400,
      "invalid_cursor");
  }
  const others = [
    { tenant_id: tenant, type: types[0] },
    { tenant_id: `${tenant}x` },
    { tenant_id: tenant, success: "true" },
    { tenant_id: tenant, from: new Date(Date.now() - 86_400_000).toISOString() },
    { tenant_id: tenant, tz: "Asia/Seoul" },
    {},
  ];
  for (const params of others) {
    const res = await read(`/internal/funnel-events${qs({ ...params, cursor })}`);
    assertProblem(assert, res, 400, "invalid_cursor");
  }
  // The same filters with another page size: the next events, none of the first page again.
  const next = await read(`/internal/funnel-events${qs({ tenant_id: tenant, limit: 50, cursor })}`);
  assert.equal(next.status, 200, next.text);
  assert.equal(next.body.events.length, 50);
  const firstIds = new Set(first.body.events.map((e) => e.id));
  assert.ok(next.body.events.every((e) => !firstIds.has(e.id)));
  assert.ok(isNewestFirst([...first.body.events, ...next.body.events]));
  seen.push(first.text, next.text);
});

test("q_email and invalid addresses never make a response carry the raw address", async () => {
  for (const q of [emails[0], emails[0].toUpperCase(), `@read-${tag}.example`]) {
    const res = await read(`/internal/funnel-events${qs({ q_email: q, limit: 500 })}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.events.length > 0, q);
    seen.push(res.text);
  }
  // A malformed address is a 400 that does not echo it.
  const bad = `not-an-address-${tag}`;
  const res = await read(`/internal/funnel-events${qs({ q_email: bad })}`);
  assertProblem(assert, res, 400, "invalid_email");
  assert.ok(!res.text.includes(bad), res.text);
  for (const text of seen) {
    const lower = text.toLowerCase();
    for (const local of locals) assert.ok(!lower.includes(local), `a response carries ${local}`);
  }
  assert.ok(seen.length > 30);
});

test("the CSV export holds a header and exactly the listed rows, paged past 500 rows", async () => {
  // More rows than one internal export page.
  const make = eventFactory(cat, `${tag}bulk`);
  const bulk = Array.from({ length: 260 }, (_, i) => make(types[i % types.length], { tenant_id: tenant, success: i % 2 === 0 }));
  await send(bulk);
  sent.push(...bulk.map((event) => ({ event, source: "cp" })));
  assert.ok(sent.length > 500);

  for (const params of [{ tenant_id: tenant }, { tenant_id: tenant, success: "false" }, { tenant_id: `${tenant}_none` }]) {
    const res = await fetch(`${BASE}/internal/funnel-events/export${qs({ ...params, format: "csv" })}`, { headers: AUTH });
    assert.equal(res.status, 200, JSON.stringify(params));
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    const text = await res.text();
    assert.ok(!/[^\r]\n/.test(text) && text.endsWith("\r\n"), "CRLF line endings");
    const [header, ...rows] = parseCsv(text);
    assert.deepEqual(header.slice(0, 4), ["id", "ts", "occurred_at", "event_type"]);
    for (const col of ["event_id", "tenant_id", "email_fingerprint", "email_domain", "success", "error_code", "properties"]) {
      assert.ok(header.includes(col), `no ${col} column`);
    }
    const col = (name) => header.indexOf(name);
    for (const row of rows) assert.equal(row.length, header.length, `a ragged row: ${row}`);
    const listed = await list(params);
    assert.deepEqual(rows.map((r) => Number(r[col("id")])), listed.map((e) => e.id), JSON.stringify(params));
    assert.deepEqual(rows.map((r) => r[col("event_id")]), ids(listed));
    const bySentId = new Map(sent.map((s) => [s.event.event_id, s.event]));
    for (const row of rows) {
      const event = bySentId.get(row[col("event_id")]);
      assert.ok(event, row[col("event_id")]);
      assert.equal(row[col("success")], event.success === undefined ? "" : String(event.success));
      assert.equal(row[col("email_domain")], event.email ? domainOf(event.email) : "");
      assert.deepEqual(JSON.parse(row[col("properties")] || "{}"), event.properties);
    }
    const lower = text.toLowerCase();
    for (const local of locals) assert.ok(!lower.includes(local), `the export carries ${local}`);
    if (params.tenant_id === tenant && !params.success) assert.equal(rows.length, sent.length);
  }
});
