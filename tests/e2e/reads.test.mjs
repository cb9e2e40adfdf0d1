// The read APIs against the real worker: filters, exact paging, cursors,
// summary = list counts, trace timeline, funnel, overview, catalog,
// quarantine replay, CSV, and every bad parameter.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { assertProblem, call, ingestBearer, SECRETS, uid } from "./client.mjs";

const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };
const get = (path) => call(path, { headers: AUTH });
const tenant = uid("tenant");
const traces = Array.from({ length: 6 }, () => uid("trace"));
const emails = ["Alice@Example.com", "bob@corp.kr", "carol@corp.kr"];
let from;
let to;
const sent = [];

function q(params) {
  return new URLSearchParams({ from, to, ...params }).toString();
}

async function pageAll(params, limit) {
  const ids = [];
  let weight = 0;
  let cursor;
  for (;;) {
    const res = await get(`/internal/funnel-events?${q({ ...params, limit: String(limit), ...(cursor ? { cursor } : {}) })}`);
    assert.equal(res.status, 200, res.text);
    ids.push(...res.body.events.map((e) => e.event_id));
    weight += res.body.events.reduce((n, e) => n + e.weight, 0);
    cursor = res.body.next_cursor;
    if (!cursor) return { ids, weight, last: res };
  }
}

before(async () => {
  from = new Date(Date.now() - 1000).toISOString();
  // 120 events over the auth/commerce funnel: trace i reaches step i % 6.
  const steps = ["m_auth_login_start", "m_auth_login_success", "m_checkout_click", "m_checkout_session_created",
    "m_stripe_webhook_checkout_complete", "m_provision_job_created"];
  const props = { m_checkout_click: { plan_tier: "pro" }, m_checkout_session_created: { stripe_session_id: "cs_1" },
    m_stripe_webhook_checkout_complete: { stripe_event_id: "evt_1", amount: 39000, currency: "KRW" } };
  const events = [];
  traces.forEach((trace, i) => {
    for (let s = 0; s <= i % 6; s++) {
      events.push({ event_type: steps[s], event_id: uid("ev"), trace_id: trace, tenant_id: tenant,
        email: emails[i % 3], job_id: "job_1", properties: props[steps[s]] ?? {} });
    }
    if (i % 2 === 0) {
      events.push({ event_type: "m_auth_login_fail", event_id: uid("ev"), trace_id: trace, tenant_id: tenant,
        email: emails[i % 3], success: false, error_code: i % 4 === 0 ? "otp_expired" : "rate_limited" });
    }
  });
  for (let i = 0; i < 80; i++) {
    events.push({ event_type: "app_open", event_id: uid("ev"), tenant_id: tenant, user_id: `u${i % 7}`,
      trace_id: traces[i % 6], success: i % 5 !== 0 });
  }
  const res = await ingestBearer({ events });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.body.results.every((r) => r.status === "accepted"), res.text);
  sent.push(...events);
  to = new Date(Date.now() + 60_000).toISOString();
});

test("each list filter returns exactly the matching events, every one once, newest first", async () => {
  const expect = (pred) => sent.filter(pred).map((e) => e.event_id).sort();
  const cases = [
    [{ tenant_id: tenant }, () => true],
    [{ tenant_id: tenant, type: "app_open,m_auth_login_fail" }, (e) => ["app_open", "m_auth_login_fail"].includes(e.event_type)],
    [{ tenant_id: tenant, q_email: "ALICE@example.com " }, (e) => e.email === "Alice@Example.com"],
    [{ tenant_id: tenant, q_email: "@corp.kr" }, (e) => e.email?.endsWith("@corp.kr")],
    [{ trace_id: traces[4] }, (e) => e.trace_id === traces[4]],
    [{ tenant_id: tenant, success: "false" }, (e) => e.success === false],
    [{ tenant_id: tenant, error_code: "otp_expired" }, (e) => e.error_code === "otp_expired"],
    [{ tenant_id: tenant, source: "cp", type: "m_checkout_click" }, (e) => e.event_type === "m_checkout_click"],
  ];
  for (const [params, pred] of cases) {
    const { ids } = await pageAll(params, 7);
    assert.equal(new Set(ids).size, ids.length, `duplicates for ${JSON.stringify(params)}`);
    assert.deepEqual([...ids].sort(), expect(pred), JSON.stringify(params));
  }
  const page = await get(`/internal/funnel-events?${q({ tenant_id: tenant, limit: "500" })}`);
  const keys = page.body.events.map((e) => [e.ts, e.id]);
  const sorted = [...keys].sort((a, b) => (a[0] === b[0] ? b[1] - a[1] : a[0] < b[0] ? 1 : -1));
  assert.deepEqual(keys, sorted, "ts desc, id desc");
  assert.ok(!page.text.includes("Alice@Example.com") && !page.text.toLowerCase().includes("alice@example.com"));
});

test("paging while events arrive returns every earlier event exactly once", async () => {
  const before = sent.filter((e) => e.tenant_id === tenant).map((e) => e.event_id);
  const seen = [];
  let cursor;
  for (;;) {
    const res = await get(`/internal/funnel-events?${q({ tenant_id: tenant, limit: "9", ...(cursor ? { cursor } : {}) })}`);
    seen.push(...res.body.events.map((e) => e.event_id));
    const more = await ingestBearer({ events: [{ event_type: "app_open", event_id: uid("late"), tenant_id: tenant }] });
    assert.equal(more.status, 200);
    cursor = res.body.next_cursor;
    if (!cursor) break;
  }
  assert.equal(new Set(seen).size, seen.length, "no event twice");
  for (const id of before) assert.ok(seen.includes(id), `missed ${id}`);
});

test("a changed cursor or a cursor reused with other filters is a 400", async () => {
  const first = await get(`/internal/funnel-events?${q({ tenant_id: tenant, limit: "5" })}`);
  const cursor = first.body.next_cursor;
  assert.ok(cursor);
  const mid = Math.floor(cursor.length / 2);
  const flipped = cursor.slice(0, mid) + (cursor[mid] === "A" ? "B" : "A") + cursor.slice(mid + 1);
  assertProblem(assert, await get(`/internal/funnel-events?${q({ tenant_id: tenant, limit: "5", cursor: flipped })}`), 400, "invalid_cursor");
  assertProblem(assert, await get(`/internal/funnel-events?${q({ tenant_id: tenant, type: "app_open", cursor })}`), 400, "invalid_cursor");
  const ok = await get(`/internal/funnel-events?${q({ tenant_id: tenant, limit: "50", cursor })}`);
  assert.equal(ok.status, 200, "the page size may change between pages");
});

// Sampled rows stand for 1/sample_rate events each: the summary equals the sum of the listed rows' weights.
test("summary totals and daily buckets equal the list's weighted count for every type", async () => {
  for (const tz of ["UTC", "Asia/Seoul"]) {
    const res = await get(`/internal/funnel-events/summary?${q({ tz })}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.daily.length >= 1);
    const keys = JSON.stringify(Object.keys(res.body.daily[0].counts));
    for (const day of res.body.daily) assert.equal(JSON.stringify(Object.keys(day.counts)), keys, "zero-filled");
    for (const [type, total] of Object.entries(res.body.totals)) {
      const daily = res.body.daily.reduce((n, d) => n + d.counts[type], 0);
      assert.equal(daily, total, type);
      const { weight } = await pageAll({ type }, 500);
      assert.equal(weight, total, `${tz} ${type}`);
    }
    const kpi = res.body.kpis.pregoi_login_attempts;
    assert.equal(kpi.value, res.body.totals.m_auth_login_start);
    const fails = await pageAll({ type: "m_auth_login_fail" }, 500);
    assert.equal(res.body.kpis.pregoi_login_failures.value, fails.weight);
    assert.equal(res.body.kpis.pregoi_login_failures.estimate, false, "an unsampled type is exact");
  }
  const week = await get(`/internal/funnel-events/summary?from=2026-03-01&to=2026-03-08&tz=America/New_York`);
  assert.deepEqual(week.body.daily.map((d) => d.date), ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04",
    "2026-03-05", "2026-03-06", "2026-03-07"]);
});

test("a trace's timeline is oldest first with services, failures and elapsed time", async () => {
  const res = await get(`/internal/trace/${traces[4]}`);
  assert.equal(res.status, 200, res.text);
  const mine = sent.filter((e) => e.trace_id === traces[4]);
  assert.equal(res.body.events.length, mine.length);
  assert.deepEqual(res.body.services.sort(), ["pluid", "pregoi"]);
  assert.deepEqual(res.body.sources, ["cp"]);
  assert.ok(res.body.failures.some((f) => f.error_code === "otp_expired"));
  let last = -1;
  for (const step of res.body.events) {
    assert.ok(step.elapsed_ms >= 0 && step.since_start_ms >= last);
    last = step.since_start_ms;
  }
  assertProblem(assert, await get("/internal/trace/not-a-trace"), 400, "invalid_trace_id");
  const empty = await get(`/internal/trace/${uid("trace")}`);
  assert.equal(empty.status, 200);
  assert.equal(empty.body.events.length, 0);
});

test("the auth/commerce funnel counts traces per step with drop-off by error code", async () => {
  const res = await get(`/internal/funnels/auth_commerce?${q({})}`);
  assert.equal(res.status, 200, res.text);
  const steps = res.body.funnel.steps;
  // Other test files add traces too; ours reach steps 0..5 once each, so each step has at least ours.
  for (let s = 0; s < 6; s++) assert.ok(steps[s].count >= 6 - s, `step ${s}: ${steps[s].count}`);
  assert.ok(steps[1].drop_off_by_error.some((d) => d.error_code === "otp_expired"), JSON.stringify(steps[1]));
  assertProblem(assert, await get("/internal/funnels/no_such_funnel"), 400, "unknown_funnel");
  const list = await get("/internal/funnels");
  assert.ok(list.body.funnels.some((f) => f.name === "auth_commerce"));
});

test("overview, catalog and quarantine reflect what was sent; replay stores nothing twice", async () => {
  const overview = await get("/api/overview");
  assert.equal(overview.status, 200, overview.text);
  const pluid = overview.body.services.find((s) => s.service === "pluid");
  assert.equal(pluid.health, "live");
  assert.ok(overview.body.totals.events >= sent.length);
  assert.ok(overview.body.recent.length > 0);

  const catalog = await get(`/internal/catalog?${q({})}`);
  const appOpen = catalog.body.events.find((e) => e.name === "app_open");
  assert.ok(appOpen.count >= 80 && appOpen.last_seen);

  const bad = { event_type: "m_checkout_click", event_id: uid("bad"), email: "dana@secret.example", tenant_id: tenant };
  const rejected = await ingestBearer({ events: [bad] });
  assert.equal(rejected.status, 422, rejected.text);
  const quarantine = await get(`/internal/quarantine?${q({ type: "m_checkout_click", status: "pending" })}`);
  const entry = quarantine.body.events.find((e) => e.event_id === bad.event_id);
  assert.ok(entry, quarantine.text);
  assert.ok(entry.errors.some((e) => e.code && e.field), JSON.stringify(entry.errors));
  assert.ok(!quarantine.text.includes("dana@secret.example"));
  assert.equal(entry.event.email_domain, "secret.example");

  const count = async () => (await pageAll({ tenant_id: tenant }, 500)).ids.length;
  const stored = await count();
  const first = await call("/internal/quarantine/replay", { method: "POST", headers: AUTH });
  assert.equal(first.status, 200, first.text);
  assert.ok(first.body.still_failing >= 1);
  const second = await call("/internal/quarantine/replay", { method: "POST", headers: AUTH });
  assert.equal(second.body.replayed, 0);
  assert.equal(await count(), stored, "replays stored nothing twice");
});

test("the CSV export holds a header and exactly the listed rows", async () => {
  const res = await fetch(`${process.env.FUNNEL_URL}/internal/funnel-events/export?${q({ tenant_id: tenant, format: "csv" })}`, { headers: AUTH });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/csv/);
  const lines = (await res.text()).split("\r\n").filter(Boolean);
  assert.ok(lines[0].startsWith("id,ts,occurred_at,event_type"));
  const { ids } = await pageAll({ tenant_id: tenant }, 500);
  assert.deepEqual(lines.slice(1).map((l) => l.split(",")[6]), ids);
});

test("every bad parameter is a 400 naming it, and every read needs the key", async () => {
  const cases = [
    ["/internal/funnel-events?from=yesterday", "invalid_date", "from"],
    ["/internal/funnel-events?to=2026-02-30", "invalid_date", "to"],
    ["/internal/funnel-events?from=2026-03-02&to=2026-03-01", "invalid_range", "to"],
    ["/internal/funnel-events?from=2025-01-01&to=2026-02-06", "range_too_long", "from"],
    ["/internal/funnel-events?tz=Mars/Olympus", "invalid_tz", "tz"],
    ["/internal/funnel-events?limit=0", "invalid_limit", "limit"],
    ["/internal/funnel-events?limit=501", "invalid_limit", "limit"],
    ["/internal/funnel-events?type=m_nope", "unknown_event_type", "type"],
    ["/internal/funnel-events?q_email=nobody", "invalid_email", "q_email"],
    ["/internal/funnel-events?trace_id=abc", "invalid_trace_id", "trace_id"],
    ["/internal/funnel-events?source=Bad!", "invalid_source", "source"],
    ["/internal/funnel-events?success=maybe", "invalid_success", "success"],
    ["/internal/funnel-events?traceid=trace_x", "unknown_parameter", "traceid"],
    ["/internal/funnel-events?type=app_open&type=search", "repeated_parameter", "type"],
    ["/internal/funnel-events/summary?tz=Nowhere", "invalid_tz", "tz"],
    ["/internal/funnels/auth_commerce?from=x", "invalid_date", "from"],
    ["/internal/catalog?to=2020-01-01&from=2021-01-01", "invalid_range", "to"],
    ["/internal/quarantine?status=done", "invalid_status", "status"],
    ["/api/overview?tz=UTC+9", "invalid_tz", "tz"],
    ["/internal/funnel-events/export?format=xlsx", "invalid_format", "format"],
  ];
  for (const [path, code, param] of cases) {
    const res = await get(path);
    assertProblem(assert, res, 400, code);
    assert.equal(res.body.param, param, path);
  }
  assert.equal((await get("/internal/funnel-events?limit=500")).status, 200);
  assert.equal((await get("/internal/funnel-events?limit=1")).status, 200);
  const reads = ["/internal/funnel-events", "/internal/funnel-events/summary", "/internal/funnel-events/export",
    `/internal/trace/${traces[0]}`, "/internal/funnels", "/internal/funnels/auth_commerce", "/api/overview",
    "/internal/catalog", "/internal/quarantine"];
  for (const path of reads) {
    assertProblem(assert, await call(path), 401, "missing_credentials");
    assertProblem(assert, await call(path, { headers: { authorization: "Bearer wrong" } }), 401, "bad_key");
  }
  assertProblem(assert, await call("/internal/quarantine/replay", { method: "POST" }), 401, "missing_credentials");
});
