// The summary against the real worker: every count equals what the list API
// returns for the same range and type (the database is shared, so the list is
// the reference, not what this file sent), day buckets are complete and
// zero-filled in any zone, the declared count KPIs equal their list counts;
// and every bad parameter of every read endpoint is a 400 problem, every read
// needs the key, and nothing answers a 5xx.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { assertProblem, call, SECRETS } from "./client.mjs";
import {
  catalog, countKpis, eventFactory, isoIn, marker, ok, pageAll, plainTypes, qs, read, send, weightOf,
} from "./generate.mjs";

const tag = marker("s");
const tenant = `e2e_read_${tag}`;
let cat;
const sentByType = new Map();
let sentAt;

/** The list's weighted count per event type over a range (the summary's reference). */
async function listedByType(range) {
  const { events } = await pageAll(range, 500);
  const out = {};
  for (const e of events) out[e.event_type] = (out[e.event_type] ?? 0) + (e.weight ?? 1);
  return out;
}

/** `YYYY-MM-DD` of the instant `t` in zone `tz`, `days` later. */
function localDate(tz, days = 0, t = Date.now()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(t));
  const d = new Date(`${parts}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function consecutiveDates(first, n) {
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(`${first}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + i);
    return d.toISOString().slice(0, 10);
  });
}

before(async () => {
  cat = await catalog();
  const plain = new Set(plainTypes(cat));
  // Events for every count KPI (successes, failures and unknown outcomes), plus a few plain types.
  const wanted = new Set(countKpis(cat).flatMap((k) => k.events).filter((t) => plain.has(t)));
  for (const t of plainTypes(cat).slice(0, 4)) wanted.add(t);
  const make = eventFactory(cat, tag);
  const events = [];
  for (const type of wanted) {
    for (let i = 0; i < 5; i++) {
      const fields = { tenant_id: tenant };
      if (i < 2) fields.success = true;
      else if (i < 4) Object.assign(fields, { success: false, error_code: `${tag}_e${i}` });
      events.push(make(type, fields));
    }
  }
  await send(events);
  sentAt = Date.now();
  for (const e of events) sentByType.set(e.event_type, (sentByType.get(e.event_type) ?? 0) + 1);
});

test("summary totals and daily sums equal the list's count for every type, in UTC and Asia/Seoul alike", async () => {
  // Not on hour boundaries: whole hours and partial edges are both counted.
  const range = { from: isoIn(-3 * 86_400_000 - 17 * 60_000 - 1234), to: isoIn(3_600_000) };
  const listed = await listedByType(range);
  for (const [type, n] of sentByType) assert.ok(listed[type] >= n, `${type}: ${listed[type]} < ${n} sent`);
  const totalsByTz = {};
  for (const tz of ["UTC", "Asia/Seoul"]) {
    const s = await ok(`/internal/funnel-events/summary${qs({ ...range, tz })}`);
    assert.equal(s.tz, tz);
    assert.equal(s.from, range.from);
    assert.equal(s.to, range.to);
    const nonzero = Object.fromEntries(Object.entries(s.totals).filter(([, n]) => n !== 0));
    assert.deepEqual(nonzero, listed, `${tz}: summary totals != list counts`);
    for (const [type, total] of Object.entries(s.totals)) {
      const daily = s.daily.reduce((n, d) => n + (d.counts[type] ?? 0), 0);
      assert.equal(daily, total, `${tz} ${type}: daily sum`);
    }
    // One type at a time through the list's own type filter, too.
    for (const type of sentByType.keys()) {
      const { events } = await pageAll({ ...range, type }, 500);
      assert.equal(weightOf(events), s.totals[type], `${tz} ${type}`);
    }
    totalsByTz[tz] = s.totals;
  }
  assert.deepEqual(totalsByTz.UTC, totalsByTz["Asia/Seoul"], "the same instants, the same totals");
});

test("daily has one entry per local day of a 7-day range, each with the same keys, zero-filled", async () => {
  for (const tz of ["UTC", "Asia/Seoul", "America/Los_Angeles"]) {
    const range = { from: localDate(tz, -6), to: localDate(tz, 1), tz };
    const s = await ok(`/internal/funnel-events/summary${qs(range)}`);
    assert.deepEqual(s.daily.map((d) => d.date), consecutiveDates(range.from, 7), tz);
    const keys = Object.keys(s.totals).sort();
    for (const day of s.daily) {
      assert.deepEqual(Object.keys(day.counts).sort(), keys, `${tz} ${day.date}: keys`);
      for (const n of Object.values(day.counts)) assert.ok(Number.isInteger(n) && n >= 0);
    }
    // The bucket of the day this file sent on holds what it sent.
    const today = s.daily.find((d) => d.date === localDate(tz, 0, sentAt));
    for (const [type, n] of sentByType) assert.ok(today.counts[type] >= n, `${tz} ${type}`);
    // The list reads the same dates in the same zone.
    const listed = await listedByType(range);
    assert.deepEqual(Object.fromEntries(Object.entries(s.totals).filter(([, n]) => n !== 0)), listed, tz);
  }
  // A DST change (New York springs forward on 2026-03-08): still one bucket per local day.
  const dst = await ok(`/internal/funnel-events/summary${qs({ from: "2026-03-07", to: "2026-03-10", tz: "America/New_York" })}`);
  assert.deepEqual(dst.daily.map((d) => d.date), ["2026-03-07", "2026-03-08", "2026-03-09"]);
  // The default range: the 14 days up to today.
  for (const tz of ["UTC", "Asia/Seoul"]) {
    const def = await ok(`/internal/funnel-events/summary${qs({ tz })}`);
    assert.deepEqual(def.daily.map((d) => d.date), consecutiveDates(localDate(tz, -13), 14), tz);
  }
});

test("every count KPI equals the list count of its event types and outcome; ratios divide their parts", async (t) => {
  const range = { from: isoIn(-2 * 86_400_000), to: isoIn(3_600_000) };
  const s = await ok(`/internal/funnel-events/summary${qs(range)}`);
  const declared = cat.kpis ?? [];
  assert.deepEqual(Object.keys(s.kpis).sort(), declared.map((k) => k.id).sort(), "one value per declared KPI");
  for (const k of declared) {
    for (const member of ["value", "unit", "lens", "label", "formula"]) assert.ok(member in s.kpis[k.id], `${k.id}.${member}`);
  }
  const counts = countKpis(cat);
  if (counts.length === 0) {
    t.diagnostic("the catalog declares no count KPI; nothing to compare");
    return;
  }
  const success = { any: undefined, success: "true", failure: "false" };
  for (const k of counts) {
    assert.ok(k.outcome in success, `${k.id}: outcome ${k.outcome}`);
    const { events } = await pageAll({ ...range, type: k.events.join(","), success: success[k.outcome] }, 500);
    assert.equal(s.kpis[k.id].value, weightOf(events), `${k.id} (${k.events} ${k.outcome})`);
    const mine = k.events.reduce((n, type) => n + (sentByType.get(type) ?? 0), 0);
    if (k.outcome === "any") assert.ok(s.kpis[k.id].value >= mine, k.id);
  }
  for (const k of declared.filter((d) => d.formula?.kind === "ratio")) {
    const { numerator, denominator } = k.formula;
    const [n, d] = [s.kpis[numerator]?.value, s.kpis[denominator]?.value];
    if (typeof d === "number" && d > 0) assert.ok(Math.abs(s.kpis[k.id].value - n / d) < 1e-4, `${k.id}: ${s.kpis[k.id].value} != ${n}/${d}`);
    else assert.equal(s.kpis[k.id].value, null, `${k.id} without a denominator`);
  }
});

test("every ratio KPI has a daily series whose parts equal the list's counts that day, null without a denominator", async () => {
  const tz = "Asia/Seoul";
  const range = { from: localDate(tz, -2), to: localDate(tz, 1), tz };
  const s = await ok(`/internal/funnel-events/summary${qs(range)}`);
  // Fractions only: a per-user KPI (notes per writer) divides by distinct users, which the day rows do not hold.
  const ratios = (cat.kpis ?? []).filter((k) => k.formula?.kind === "ratio" && k.unit === "ratio");
  assert.deepEqual(Object.keys(s.daily_rates).sort(), ratios.map((k) => k.id).sort(), "one series per ratio KPI");
  const dates = consecutiveDates(range.from, 3);
  const success = { any: undefined, success: "true", failure: "false" };
  const byId = new Map((cat.kpis ?? []).map((k) => [k.id, k]));
  let checked = 0;
  for (const k of ratios) {
    const series = s.daily_rates[k.id];
    assert.deepEqual(series.map((d) => d.date), dates, `${k.id}: the days of daily`);
    for (const day of series) {
      if (day.denominator > 0) {
        assert.ok(Math.abs(day.value - day.numerator / day.denominator) < 1e-4, `${k.id} ${day.date}`);
      } else {
        assert.equal(day.value, null, `${k.id} ${day.date}: zero-safe`);
      }
    }
    // The two parts of today's point, counted through the list for the same local day.
    const today = series.find((d) => d.date === localDate(tz, 0, sentAt));
    const day = { from: today.date, to: consecutiveDates(today.date, 2)[1], tz };
    for (const [part, got] of [[k.formula.numerator, today.numerator], [k.formula.denominator, today.denominator]]) {
      const m = byId.get(part).formula;
      if (m.kind !== "count") continue;
      const { events } = await pageAll({ ...day, type: m.events.join(","), success: success[m.outcome] }, 500);
      assert.equal(got, weightOf(events), `${k.id} ${today.date}: ${part}`);
      checked++;
    }
  }
  assert.ok(checked > 0, "at least one ratio's parts were counted");
});

// Every read endpoint, every parameter, each bad value: [path, code, param].
function badInputs(funnel) {
  const long = (n) => "x".repeat(n);
  const E = "/internal/funnel-events";
  const cases = [
    [`${E}?from=yesterday`, "invalid_date", "from"],
    [`${E}?from=2026-13-01`, "invalid_date", "from"],
    [`${E}?to=2026-02-30`, "invalid_date", "to"],
    [`${E}?to=2026-03-01T25:00:00Z`, "invalid_date", "to"],
    [`${E}?from=2026-03-02&to=2026-03-01`, "invalid_range", "to"],
    [`${E}?from=2026-03-01&to=2026-03-01`, "invalid_range", "to"],
    [`${E}?from=2025-01-01&to=2026-02-06`, "range_too_long", "from"],
    [`${E}?tz=Mars/Olympus`, "invalid_tz", "tz"],
    [`${E}?tz=%2B09:00`, "invalid_tz", "tz"],
    [`${E}?limit=0`, "invalid_limit", "limit"],
    [`${E}?limit=501`, "invalid_limit", "limit"],
    [`${E}?limit=x`, "invalid_limit", "limit"],
    [`${E}?limit=-1`, "invalid_limit", "limit"],
    [`${E}?limit=1.5`, "invalid_limit", "limit"],
    [`${E}?type=m_nope_${tag}`, "unknown_event_type", "type"],
    [`${E}?type=${cat.events[0].name},nope_${tag}`, "unknown_event_type", "type"],
    [`${E}?q_email=nobody`, "invalid_email", "q_email"],
    [`${E}?q_email=%40`, "invalid_email", "q_email"],
    [`${E}?email_fingerprint=abc`, "invalid_fingerprint", "email_fingerprint"],
    [`${E}?email_fingerprint=${"A".repeat(64)}`, "invalid_fingerprint", "email_fingerprint"],
    [`${E}?q_email=a%40b.example&email_fingerprint=${"a".repeat(64)}`, "conflicting_parameters", "email_fingerprint"],
    [`${E}?trace_id=abc`, "invalid_trace_id", "trace_id"],
    [`${E}?trace_id=trace_${long(123)}`, "invalid_trace_id", "trace_id"],
    [`${E}?trace_id=trace_a%20b`, "invalid_trace_id", "trace_id"],
    [`${E}?source=Bad!`, "invalid_source", "source"],
    [`${E}?source=${long(33)}`, "invalid_source", "source"],
    [`${E}?success=maybe`, "invalid_success", "success"],
    [`${E}?success=2`, "invalid_success", "success"],
    [`${E}?tenant_id=${long(129)}`, "parameter_too_long", "tenant_id"],
    [`${E}?error_code=${long(65)}`, "parameter_too_long", "error_code"],
    [`${E}?tenant_id=${long(2049)}`, "parameter_too_long", "tenant_id"],
    [`${E}?cursor=abc`, "invalid_cursor", "cursor"],
    [`${E}?traceid=trace_x`, "unknown_parameter", "traceid"],
    [`${E}?type=app_open&type=app_open`, "repeated_parameter", "type"],
    [`${E}/export?format=xlsx`, "invalid_format", "format"],
    [`${E}/export?from=nope`, "invalid_date", "from"],
    [`${E}/export?type=nope_${tag}`, "unknown_event_type", "type"],
    [`${E}/export?cursor=abc`, "invalid_cursor", "cursor"],
    [`${E}/export?fmt=csv`, "unknown_parameter", "fmt"],
    [`${E}/summary?from=nope`, "invalid_date", "from"],
    [`${E}/summary?to=2026-02-30`, "invalid_date", "to"],
    [`${E}/summary?from=2026-03-02&to=2026-03-01`, "invalid_range", "to"],
    [`${E}/summary?from=2025-01-01&to=2026-02-06`, "range_too_long", "from"],
    [`${E}/summary?tz=Nowhere`, "invalid_tz", "tz"],
    [`${E}/summary?type=app_open`, "unknown_parameter", "type"],
    [`${E}/summary?tz=UTC&tz=UTC`, "repeated_parameter", "tz"],
    ["/internal/trace/abc", "invalid_trace_id", "trace_id"],
    [`/internal/trace/trace_${long(123)}`, "invalid_trace_id", "trace_id"],
    ["/internal/trace/trace_a%20b", "invalid_trace_id", "trace_id"],
    ["/internal/trace/%zz", "invalid_trace_id", "trace_id"],
    [`/internal/funnels/no_such_funnel_${tag}`, "unknown_funnel", "name"],
    ["/api/overview?from=nope", "invalid_date", "from"],
    ["/api/overview?to=2026-02-30", "invalid_date", "to"],
    ["/api/overview?from=2026-03-02&to=2026-03-01", "invalid_range", "to"],
    ["/api/overview?from=2025-01-01&to=2026-02-06", "range_too_long", "from"],
    ["/api/overview?tz=UTC%2B9", "invalid_tz", "tz"],
    ["/api/overview?service=pluid", "unknown_parameter", "service"],
    ["/internal/catalog?from=nope", "invalid_date", "from"],
    ["/internal/catalog?to=2020-01-01&from=2021-01-01", "invalid_range", "to"],
    ["/internal/catalog?from=2025-01-01&to=2026-02-06", "range_too_long", "from"],
    ["/internal/catalog?tz=Nowhere", "invalid_tz", "tz"],
    ["/internal/catalog?type=app_open", "unknown_parameter", "type"],
    ["/internal/quarantine?status=done", "invalid_status", "status"],
    ["/internal/quarantine?limit=0", "invalid_limit", "limit"],
    ["/internal/quarantine?limit=501", "invalid_limit", "limit"],
    ["/internal/quarantine?cursor=abc", "invalid_cursor", "cursor"],
    [`/internal/quarantine?type=${long(129)}`, "parameter_too_long", "type"],
    ["/internal/quarantine?from=nope", "invalid_date", "from"],
    ["/internal/quarantine?from=2026-03-02&to=2026-03-01", "invalid_range", "to"],
    ["/internal/quarantine?tz=Nowhere", "invalid_tz", "tz"],
    ["/internal/quarantine?q=1", "unknown_parameter", "q"],
    ["/internal/quarantine?status=all&status=all", "repeated_parameter", "status"],
  ];
  if (funnel) {
    const F = `/internal/funnels/${funnel}`;
    cases.push(
      [`${F}?from=x`, "invalid_date", "from"],
      [`${F}?to=2026-02-30`, "invalid_date", "to"],
      [`${F}?from=2026-03-02&to=2026-03-01`, "invalid_range", "to"],
      [`${F}?from=2025-01-01&to=2026-02-06`, "range_too_long", "from"],
      [`${F}?tz=Nowhere`, "invalid_tz", "tz"],
      [`${F}?step=1`, "unknown_parameter", "step"],
    );
  }
  return cases;
}

test("every bad parameter of every read endpoint is a 400 problem with the right code, naming it", async () => {
  const funnel = cat.funnels?.[0]?.name;
  for (const [path, code, param] of badInputs(funnel)) {
    const res = await read(path);
    assertProblem(assert, res, 400, code);
    assert.equal(typeof res.body.detail, "string", path);
    assert.ok(res.body.detail.length > 0, path);
    if ("param" in res.body) assert.equal(res.body.param, param, path);
  }
  // The replay's only parameter; refused before anything is replayed.
  for (const limit of ["0", "501", "x"]) {
    assertProblem(assert, await read(`/internal/quarantine/replay?limit=${limit}`, { method: "POST" }), 400, "invalid_limit");
  }
  assertProblem(assert, await read("/internal/quarantine/replay?dry_run=1", { method: "POST" }), 400, "unknown_parameter");
  // The edges that are fine.
  for (const path of ["/internal/funnel-events?limit=1", "/internal/funnel-events?limit=500",
    "/internal/funnel-events?from=2025-01-01&to=2026-02-05", "/internal/funnel-events?success=&type="]) {
    assert.equal((await read(path)).status, 200, path);
  }
});

test("every read endpoint needs the internal key: 401 without it or with a wrong one", async () => {
  const funnel = cat.funnels?.[0]?.name ?? "any";
  const reads = ["/internal/funnel-events", "/internal/funnel-events/export", "/internal/funnel-events/summary",
    `/internal/trace/trace_${tag}`, "/internal/funnels", `/internal/funnels/${funnel}`, "/api/overview",
    "/internal/catalog", "/internal/quarantine"];
  const requests = [...reads.map((path) => [path, "GET"]), ["/internal/quarantine/replay", "POST"]];
  for (const [path, method] of requests) {
    const none = await call(path, { method });
    assertProblem(assert, none, 401, "missing_credentials");
    for (const authorization of ["Bearer wrong", `Bearer ${SECRETS.INGEST_HMAC_SECRET}`, `Bearer ${SECRETS.INTERNAL_API_KEY}x`]) {
      const res = await call(path, { method, headers: { authorization } });
      assertProblem(assert, res, 401, "bad_key");
      for (const secret of Object.values(SECRETS)) assert.ok(!res.text.includes(secret), "a 401 echoes a secret");
    }
    // Authentication comes before parameter checks.
    assertProblem(assert, await call(`${path}?bogus=1`, { method }), 401, "missing_credentials");
  }
  // The previous key (rotation) reads too.
  for (const path of reads.filter((p) => cat.funnels?.length || !p.startsWith("/internal/funnels/"))) {
    const res = await call(path, { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY_PREVIOUS}` } });
    assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 300)}`);
  }
});
