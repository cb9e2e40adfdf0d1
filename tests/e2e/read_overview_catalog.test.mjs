// The ops overview, the catalog's live stats and the quarantine listing against
// the real worker. Test files run one at a time, so a window that starts just
// before this file sends holds only its events, and a count's change between
// two reads is exactly what was sent in between. (The replay, which acts on the
// whole quarantine, is tested on a worker of its own: read_replay.test.mjs.)
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { assertProblem, ingestBearer } from "./client.mjs";
import {
  catalog, eventFactory, fingerprint, isoIn, marker, ok, pageAll, plainTypes, qs, read, send, sleep,
} from "./generate.mjs";

const tag = marker("o");
const tenant = `e2e_read_${tag}`;
let cat;
let make;

before(async () => {
  cat = await catalog();
  make = eventFactory(cat, tag);
});

function localDate(tz, t = Date.now()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(t));
}

const distinct = (values) => new Set(values.filter((v) => v !== undefined && v !== null)).size;

/** A copy of `event` that the catalog refuses: a property name it never allows. */
const invalid = (event) => ({ ...event, properties: { ...event.properties, "bad name é": 1 } });

test("the overview lists every service and counts exactly this file's events in their window", async () => {
  const plain = new Set(plainTypes(cat));
  const serviceOf = new Map(cat.events.map((e) => [e.name, e.service]));
  const services = cat.services.filter((s) => cat.events.some((e) => e.service === s && plain.has(e.name))).slice(0, 2);
  assert.ok(services.length >= 1);
  // Revenue: the money sums the catalog declares per service, one per currency.
  const revenueKpi = (cat.kpis ?? []).find((k) => k.unit === "money" && k.formula?.kind === "money"
    && k.formula.events?.length && plain.has(k.formula.events[0]) && k.service);
  const events = [];
  services.forEach((service, si) => {
    const types = cat.events.filter((e) => e.service === service && plain.has(e.name)).map((e) => e.name).slice(0, 7);
    for (let i = 0; i < 8 + si * 5; i++) {
      // Skewed towards the first type, so the top events have an order to check.
      events.push(make(types[i % 2 === 0 ? 0 : i % types.length], {
        tenant_id: tenant, user_id: `${tag}_u${si}_${i % 3}`, session_id: i % 2 ? `${tag}_s${si}_${i % 4}` : undefined,
        success: i % 3 === 0 ? false : undefined, error_code: i % 3 === 0 ? `${tag}_x` : undefined,
      }));
    }
  });
  const amounts = [[12000], [3500, "KRW"], [990], [19.99, "USD"], [5.5, "EUR"], [0.01, "USD"]];
  if (revenueKpi) {
    for (const [amount, currency] of amounts) {
      const properties = { [revenueKpi.formula.property]: amount, ...(currency ? { currency } : {}) };
      events.push(make(revenueKpi.formula.events[0], { tenant_id: tenant, properties }));
    }
  }
  for (const e of events) for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];

  // Every event of the revenue KPI's types adds its property (the generated ones too) to its
  // currency's sum (won when none is given); won comes first, at 0 when nothing was paid in won.
  const perCurrency = (list) => {
    const sums = new Map([["KRW", 0]]);
    for (const e of list) {
      const amount = e.properties?.[revenueKpi.formula.property];
      if (amount === undefined) continue;
      const c = e.properties?.currency ?? "KRW";
      sums.set(c, (sums.get(c) ?? 0) + amount);
    }
    const cents = (v) => Math.round(v * 100) / 100;
    const others = [...sums.keys()].filter((c) => c !== "KRW" && cents(sums.get(c)) !== 0).sort();
    return ["KRW", ...others].map((currency) => ({ currency, amount: cents(sums.get(currency)) }));
  };
  const revenueEvents = !revenueKpi ? [] : events.filter((e) => revenueKpi.formula.events.includes(e.event_type));
  const revenueSent = revenueKpi ? perCurrency(revenueEvents) : [{ currency: "KRW", amount: 0 }];
  assert.ok(!revenueKpi || (revenueSent[0].amount >= 16490 && revenueSent.some((c) => c.currency === "USD")));

  const from = isoIn(0);
  await send(events);
  const window = { from, to: isoIn(1) };
  const o = await ok(`/api/overview${qs(window)}`);
  assert.equal(o.from, window.from);
  assert.equal(o.to, window.to);
  assert.equal(o.tz, "UTC");
  assert.deepEqual(o.services.map((s) => s.service).sort(), [...cat.services].sort(), "every catalog service, once");
  assert.equal(o.totals.events, events.length);
  assert.equal(o.totals.users, distinct(events.map((e) => e.user_id)));
  assert.equal(o.totals.sessions, distinct(events.map((e) => e.session_id)));
  if (localDate("UTC", Date.parse(from)) === localDate("UTC")) assert.equal(o.totals.today, events.length);
  for (const snap of o.services) {
    const mine = events.filter((e) => serviceOf.get(e.event_type) === snap.service);
    assert.equal(snap.events, mine.length, `${snap.service} events`);
    assert.equal(snap.users, distinct(mine.map((e) => e.user_id)), `${snap.service} users`);
    assert.equal(snap.sessions, distinct(mine.map((e) => e.session_id)), `${snap.service} sessions`);
    assert.ok(["live", "quiet", "silent"].includes(snap.health), snap.health);
    const byType = {};
    for (const e of mine) byType[e.event_type] = (byType[e.event_type] ?? 0) + 1;
    const top = Object.entries(byType).map(([event_type, count]) => ({ event_type, count }))
      .sort((a, b) => b.count - a.count || (a.event_type < b.event_type ? -1 : 1)).slice(0, 5);
    assert.deepEqual(snap.top_events, top, `${snap.service} top events`);
    const revenue = revenueKpi && snap.service === revenueKpi.service ? revenueSent : [{ currency: "KRW", amount: 0 }];
    assert.deepEqual(snap.revenue, revenue, `${snap.service} revenue per currency`);
    if (mine.length) {
      assert.equal(snap.health, "live", snap.service);
      assert.ok(snap.last_seen >= from, `${snap.service} last_seen ${snap.last_seen}`);
    }
    assert.equal(o.timeline.reduce((n, d) => n + (d.counts[snap.service] ?? 0), 0), snap.events, `${snap.service} timeline`);
  }
  assert.deepEqual(o.revenue, revenueSent, "never added across currencies");
  assert.equal(o.revenue_krw, undefined, "no unconverted sum");
  if (revenueKpi) {
    const summary = await ok(`/internal/funnel-events/summary${qs(window)}`);
    assert.deepEqual(summary.kpis[revenueKpi.id].value, revenueSent, "the summary's revenue KPI, per currency");
  }
  const ids = new Set(events.map((e) => e.event_id));
  assert.equal(o.recent.length, Math.min(20, events.length));
  assert.ok(o.recent.every((e) => ids.has(e.event_id)), "recent holds only this window's events");
  for (let i = 1; i < o.recent.length; i++) assert.ok(o.recent[i - 1].ts >= o.recent[i].ts, "recent newest first");

  // The default range (the last 14 days) holds them too, in any zone.
  for (const tz of ["UTC", "Asia/Seoul"]) {
    const d = await ok(`/api/overview${qs({ tz })}`);
    assert.equal(d.tz, tz);
    assert.ok(d.totals.events >= events.length);
    assert.equal(d.timeline.length, 14);
    assert.equal(d.timeline.at(-1).date, localDate(tz));
    assert.equal(Date.parse(d.today_from), Date.parse(`${localDate(tz)}T00:00:00${tz === "UTC" ? "Z" : "+09:00"}`));
    for (const service of services) {
      const snap = d.services.find((s) => s.service === service);
      assert.equal(snap.health, "live", service);
      assert.ok(snap.last_seen >= from);
      assert.ok(snap.events >= events.filter((e) => serviceOf.get(e.event_type) === service).length);
    }
  }
});

test("the catalog lists every event with stats; counts and rejections grow by exactly what was sent", async () => {
  const range = { from: isoIn(-3_600_000), to: isoIn(3_600_000) };
  const before = await ok(`/internal/catalog${qs(range)}`);
  assert.deepEqual(before.events.map((e) => e.name), cat.events.map((e) => e.name));
  for (const e of before.events) {
    for (const m of ["name", "service", "description", "requires", "params", "first_seen", "last_seen", "count", "rejected",
      "rejection_rate"]) assert.ok(m in e, `${e.name} lacks ${m}`);
    assert.ok(before.services.includes(e.service), `${e.name}: service ${e.service}`);
    assert.ok(Number.isInteger(e.count) && e.count >= 0 && Number.isInteger(e.rejected) && e.rejected >= 0);
    const total = e.count + e.rejected;
    assert.equal(e.rejection_rate, total ? Math.round((e.rejected / total) * 10_000) / 10_000 : null, e.name);
    if (e.first_seen) assert.ok(e.first_seen <= e.last_seen, e.name);
  }
  assert.ok(Array.isArray(before.kpis) && Array.isArray(before.funnels) && before.limits);

  const [x, y] = plainTypes(cat);
  const unknown = `e2e_nope_${tag}`;
  const tenant = `e2e_read_${tag}_catalog`;
  const accepted = [...Array.from({ length: 7 }, () => make(x, { tenant_id: tenant })), make(y, { tenant_id: tenant })];
  const rejected = [invalid(make(x, { tenant_id: tenant })), invalid(make(x, { tenant_id: tenant })),
    invalid(make(y, { tenant_id: tenant })), { event_type: unknown, event_id: `${tag}_unknown` }];
  const sentAt = isoIn(0);
  const res = await ingestBearer({ events: [...accepted, ...rejected] });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.results.map((r) => r.status),
    [...accepted.map(() => "accepted"), ...rejected.map(() => "rejected")]);

  const after = await ok(`/internal/catalog${qs(range)}`);
  const expectCount = { [x]: 7, [y]: 1 };
  const expectRejected = { [x]: 2, [y]: 1 };
  after.events.forEach((e, i) => {
    const b = before.events[i];
    assert.equal(e.count - b.count, expectCount[e.name] ?? 0, `${e.name} count delta`);
    assert.equal(e.rejected - b.rejected, expectRejected[e.name] ?? 0, `${e.name} rejected delta`);
  });
  const xs = after.events.find((e) => e.name === x);
  assert.ok(xs.last_seen >= sentAt && xs.first_seen <= xs.last_seen, JSON.stringify(xs));
  assert.deepEqual(after.unknown_rejections.filter((u) => u.event_type === unknown), [{ event_type: unknown, count: 1 }]);
  // Nothing rejected was stored.
  const { events } = await pageAll({ tenant_id: tenant, ...range }, 500);
  assert.deepEqual(events.map((e) => e.event_id).sort(), accepted.map((e) => e.event_id).sort());
});

test("the quarantine lists rejected events with reasons, pages with a cursor, and never holds a raw address", async () => {
  const [x] = plainTypes(cat);
  const email = `Quinn.${tag}@Q-${tag}.Example`;
  const from = isoIn(0);
  const sent = [];
  for (let i = 0; i < 5; i++) {
    const event = invalid(make(x, { tenant_id: tenant, email, trace_id: `trace_${tag}_q${i}` }));
    sent.push(event);
    const res = await ingestBearer({ events: [event] });
    assertProblem(assert, res, 422, "all_events_rejected");
    assert.ok(!res.text.toLowerCase().includes(`quinn.${tag}`), "the ingest answer echoes the address");
    await sleep(3);
  }
  const window = { from, to: isoIn(1), type: x };
  const all = await pageAll(window, 2, "/internal/quarantine");
  assert.equal(all.pages, 3);
  assert.deepEqual(all.events.map((q) => q.event_id), sent.map((e) => e.event_id).reverse(), "newest first, each once");
  for (const q of all.events) {
    assert.equal(q.status, "pending");
    assert.equal(q.replayed_at, null);
    assert.equal(q.event_type, x);
    assert.equal(q.source, "cp");
    assert.ok(q.received_at >= from);
    assert.ok(Array.isArray(q.errors) && q.errors.length > 0);
    for (const err of q.errors) assert.ok(typeof err.code === "string" && typeof err.field === "string", JSON.stringify(err));
    assert.ok(q.errors.some((err) => err.field.startsWith("properties.")), JSON.stringify(q.errors));
    assert.ok(!("email" in q.event), "the quarantined copy keeps the address");
    assert.equal(q.event.email_fingerprint, fingerprint(email));
    assert.equal(q.event.email_domain, `q-${tag}.example`);
    assert.equal(q.event.tenant_id, tenant);
  }
  for (let i = 1; i < all.events.length; i++) {
    const [a, b] = [all.events[i - 1], all.events[i]];
    assert.ok(a.received_at > b.received_at || (a.received_at === b.received_at && a.id > b.id), "received_at desc, id desc");
  }
  for (const text of all.texts) assert.ok(!text.toLowerCase().includes(`quinn.${tag}`), "a quarantine page holds the address");

  // Filters: pending only, another type, and cursors bound to their query.
  const pending = await pageAll({ ...window, status: "pending" }, 500, "/internal/quarantine");
  assert.equal(pending.events.length, 5);
  const other = await ok(`/internal/quarantine${qs({ ...window, type: `${x}_none_${tag}` })}`);
  assert.deepEqual(other.events, []);
  const first = await ok(`/internal/quarantine${qs({ ...window, limit: 2 })}`);
  const cursor = first.next_cursor;
  assert.equal(typeof cursor, "string");
  const mid = Math.floor(cursor.length / 2);
  const flipped = cursor.slice(0, mid) + (cursor[mid] === "A" ? "B" : "A") + cursor.slice(mid + 1);
  assertProblem(assert, await read(`/internal/quarantine${qs({ ...window, limit: 2, cursor: flipped })}`), 400, "invalid_cursor");
  assertProblem(assert, await read(`/internal/quarantine${qs({ ...window, status: "pending", cursor })}`), 400, "invalid_cursor");
  assertProblem(assert, await read(`/internal/funnel-events${qs({ from: window.from, to: window.to, cursor })}`), 400, "invalid_cursor");
  const rest = await ok(`/internal/quarantine${qs({ ...window, limit: 10, cursor })}`);
  assert.deepEqual(rest.events.map((q) => q.event_id), sent.slice(0, 3).map((e) => e.event_id).reverse());
});
