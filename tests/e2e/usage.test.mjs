// Sampling with honest counts, monthly quotas with 402, the usage API and
// the GA4 export, against the real worker.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, ingestBearer, SECRETS, uid } from "./client.mjs";

const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };
const get = (path) => call(path, { headers: AUTH });
const json = (method, path, body) =>
  call(path, { method, headers: { ...AUTH, "content-type": "application/json" }, body: JSON.stringify(body) });

async function listAll(params) {
  const events = [];
  let cursor;
  do {
    const qs = new URLSearchParams({ limit: "500", ...params, ...(cursor ? { cursor } : {}) });
    const res = await get(`/internal/funnel-events?${qs}`);
    assert.equal(res.status, 200, res.text);
    events.push(...res.body.events);
    cursor = res.body.next_cursor;
  } while (cursor);
  return events;
}

const compile = (user, extra = {}) => ({
  event_type: "compile_prompt",
  event_id: uid("cmp"),
  user_id: user,
  properties: { prompt_id: "p1", model_type: "gpt-4" },
  ...extra,
});

test("sampling keeps the seed's share, decides the same on a retry, and the summary scales by 1/rate", async () => {
  const tenant = uid("sampling");
  const from = new Date(Date.now() - 1000).toISOString();
  const events = Array.from({ length: 1000 }, (_, i) => ({
    event_type: "page_view", event_id: `${tenant}_${i}`, tenant_id: tenant, user_id: `u${i % 9}`,
    properties: { page_name: "home" },
  }));
  const first = [];
  for (let i = 0; i < events.length; i += 500) {
    const res = await ingestBearer({ events: events.slice(i, i + 500) });
    assert.equal(res.status, 200, res.text);
    first.push(...res.body.results.map((r) => r.status));
  }
  const kept = first.filter((s) => s === "accepted").length;
  assert.equal(kept + first.filter((s) => s === "sampled_out").length, 1000);
  // 10% of 1,000: σ of the kept count is √(1000·0.1·0.9) ≈ 9.5; allow 5σ.
  assert.ok(Math.abs(kept - 100) <= 48, `kept ${kept}`);

  const again = await ingestBearer({ events: events.slice(0, 500) });
  again.body.results.forEach((r, i) => {
    assert.equal(r.status, first[i] === "accepted" ? "duplicate" : "sampled_out", `event ${i}`);
  });

  const rows = await listAll({ tenant_id: tenant });
  assert.equal(rows.length, kept);
  assert.ok(rows.every((e) => e.sample_rate === 0.1 && e.weight === 10));

  const to = new Date(Date.now() + 60_000).toISOString();
  const summary = await get(`/internal/funnel-events/summary?${new URLSearchParams({ from, to })}`);
  assert.ok(summary.body.estimated.includes("page_view"), "the summary says page_view is an estimate");
  const weights = (await listAll({ from, to, type: "page_view" })).reduce((n, e) => n + e.weight, 0);
  assert.equal(summary.body.totals.page_view, weights, "summary = Σ weights of the listed rows");

  const catalog = await get(`/internal/catalog?${new URLSearchParams({ from, to })}`);
  const pv = catalog.body.events.find((e) => e.name === "page_view");
  assert.ok(pv.estimated);
  assert.ok(pv.received >= 1500 && pv.sampled_out >= 1500 - 2 * kept, JSON.stringify(pv));
});

test("a user at the compile limit gets quota_limited with the seed's message, and an all-quota batch is 402", async () => {
  const user = uid("quota");
  // 25 one-event requests at once: exactly 20 (the free plan) get through.
  const answers = await Promise.all(Array.from({ length: 25 }, () => ingestBearer({ events: [compile(user)] })));
  const statuses = answers.map((a) => a.body.results?.[0]?.status);
  assert.equal(statuses.filter((s) => s === "accepted").length, 20, JSON.stringify(statuses));
  const refused = answers.filter((a) => a.status === 402);
  assert.equal(refused.length, 5);
  for (const r of refused) {
    assertProblem(assert, r, 402, "quota_exceeded");
    assert.equal(r.body.results[0].status, "quota_limited");
    assert.deepEqual(r.body.errors, ["events[0]: Quota exceeded for compile. Current: 20/20"]);
    assert.deepEqual(r.body.quota, [{ user_id: user, action: "compile", used: 20, limit: 20, remaining: 0 }]);
  }
  // A mixed batch is a 200: the free event is stored, the metered one refused.
  const mixed = await ingestBearer({ events: [compile(user), { event_type: "app_open", event_id: uid("ok"), user_id: user }] });
  assert.equal(mixed.status, 200);
  assert.deepEqual(mixed.body.results.map((r) => r.status), ["quota_limited", "accepted"]);

  const usage = await get(`/internal/usage?user_id=${user}`);
  assert.equal(usage.status, 200, usage.text);
  const line = usage.body.actions.find((a) => a.action === "compile");
  assert.deepEqual(line, { action: "compile", used: 20, limit: 20, remaining: 0, quota_exceeded: true });
  assert.equal((await listAll({ type: "compile_prompt", from: usage.body.month.from, to: usage.body.month.to }))
    .filter((e) => e.user_id === user).length, 20, "the usage API and the stored rows agree");
  const over = await get("/internal/usage/over-quota");
  assert.ok(over.body.users.some((u) => u.user_id === user && u.line.action === "compile"));
  const system = await get("/internal/usage/summary");
  const compileLine = system.body.actions.find((a) => a.action === "compile");
  assert.ok(compileLine.total_used >= 20 && compileLine.users_at_limit >= 1);
});

test("an override set through the API bounds concurrent ingests exactly, and can be removed", async () => {
  const user = uid("override");
  const set = await json("PUT", "/internal/quotas/overrides", { subject_kind: "user", subject_id: user, action: "compile", monthly_limit: 7 });
  assert.equal(set.status, 200, set.text);
  const quotas = await get("/internal/quotas");
  assert.ok(quotas.body.overrides.some((o) => o.subject_id === user && o.monthly_limit === 7));
  assert.equal(quotas.body.time_zone, "Asia/Seoul");

  // 40 concurrent requests of 2 events each: never more than 7 stored.
  await Promise.all(Array.from({ length: 40 }, () => ingestBearer({ events: [compile(user), compile(user)] })));
  const usage = await get(`/internal/usage?user_id=${user}`);
  assert.deepEqual(usage.body.actions.find((a) => a.action === "compile"), { action: "compile", used: 7, limit: 7, remaining: 0, quota_exceeded: true });
  const month = usage.body.month;
  const stored = (await listAll({ type: "compile_prompt", from: month.from, to: month.to })).filter((e) => e.user_id === user);
  assert.equal(stored.length, 7);

  const del = await call(`/internal/quotas/overrides?subject_kind=user&subject_id=${user}&action=compile`, { method: "DELETE", headers: AUTH });
  assert.deepEqual(del.body, { deleted: true });
  const after = await get(`/internal/usage?user_id=${user}`);
  assert.equal(after.body.actions.find((a) => a.action === "compile").limit, 20, "back to the free plan");

  for (const [body, code, param] of [
    [{ subject_kind: "org", subject_id: "a", action: "compile", monthly_limit: 1 }, "invalid_subject_kind", "subject_kind"],
    [{ subject_kind: "user", subject_id: "a", action: "fly", monthly_limit: 1 }, "unknown_action", "action"],
    [{ subject_kind: "user", subject_id: "a", action: "compile", monthly_limit: -1 }, "invalid_monthly_limit", "monthly_limit"],
  ]) {
    const res = await json("PUT", "/internal/quotas/overrides", body);
    assertProblem(assert, res, 400, code);
    assert.equal(res.body.param, param);
  }
  assertProblem(assert, await get("/internal/usage?user_id=x&month=2026-13"), 400, "invalid_month");
  assertProblem(assert, await get("/internal/usage"), 400, "invalid_subject_id");
  assertProblem(assert, await call("/internal/usage/over-quota"), 401, "missing_credentials");
  assertProblem(assert, await call("/internal/quotas/overrides", { method: "PUT", headers: { ...AUTH, "content-type": "text/plain" }, body: "{}" }), 415, "unsupported_media_type");
});

test("a metered event without user_id is rejected, never counted against nobody", async () => {
  const res = await ingestBearer({ events: [{ event_type: "compile_prompt", event_id: uid("nouser"), properties: { prompt_id: "p", model_type: "claude" } }] });
  assertProblem(assert, res, 422, "all_events_rejected");
  assert.equal(res.body.results[0].errors[0].field, "user_id");
});

test("the GA4 export yields Measurement Protocol payloads within GA4's limits", async () => {
  const tenant = uid("ga4");
  const long = "가".repeat(150);
  const events = Array.from({ length: 60 }, (_, i) => ({
    event_type: "select_template", event_id: `${tenant}_${i}`, tenant_id: tenant, user_id: "ga4_user",
    properties: { template_id: `t${i}`, template_type: "prompt", category: long.slice(0, 90) },
  }));
  assert.equal((await ingestBearer({ events })).status, 200);
  const res = await fetch(`${process.env.FUNNEL_URL}/internal/funnel-events/export?format=ga4&tenant_id=${tenant}`, { headers: AUTH });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/x-ndjson/);
  const payloads = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(payloads.reduce((n, p) => n + p.events.length, 0), 60);
  for (const p of payloads) {
    assert.ok(p.client_id && p.events.length <= 25 && p.timestamp_micros > 0);
    for (const e of p.events) {
      assert.ok(e.name.length <= 40);
      assert.equal(e.params.event_category, "prompt_tools");
      assert.ok(Object.keys(e.params).length <= 25);
      for (const [k, v] of Object.entries(e.params)) {
        assert.ok(k.length <= 40, k);
        if (typeof v === "string") assert.ok([...v].length <= 100, `${k}: ${[...v].length}`);
      }
    }
  }
  assertProblem(assert, await get("/internal/funnel-events/export?format=xml"), 400, "invalid_format");
});

test("a started subscription grants no paid plan until it completes; usage answers per month over a range", async () => {
  const user = uid("payer");
  const sub = (action) => ({ event_type: "subscription", event_id: uid("sub"), user_id: user,
    properties: { action, plan_type: "pro" } });
  const limitOf = async () => {
    const res = await get(`/internal/usage?user_id=${user}`);
    assert.equal(res.status, 200, res.text);
    return res.body.actions.find((a) => a.action === "compile").limit;
  };
  assert.equal((await ingestBearer({ events: [sub("start")] })).status, 200);
  assert.equal(await limitOf(), 20, "a start is not a payment");
  assert.equal((await ingestBearer({ events: [sub("complete"), compile(user)] })).status, 200);
  assert.equal(await limitOf(), 500);

  const history = await get(`/internal/usage/months?user_id=${user}`);
  assert.equal(history.status, 200, history.text);
  assert.equal(history.body.months.length, 6);
  const months = history.body.months.map((m) => m.month.month);
  assert.deepEqual([...months].sort(), months, "oldest first");
  const current = history.body.months.at(-1).user.find((l) => l.action === "compile");
  assert.deepEqual([current.used, current.limit], [1, 500]);
  assert.ok(history.body.months.slice(0, -1).every((m) => m.user.every((l) => l.used === 0)));
  const everyone = await get(`/internal/usage/months?from_month=${months[5]}&to_month=${months[5]}`);
  assert.equal(everyone.status, 200, everyone.text);
  assert.ok(everyone.body.months[0].actions.find((a) => a.action === "compile").total_used >= 1);
  assertProblem(assert, await get(`/internal/usage/months?from_month=2025-01&to_month=2026-01`), 400, "range_too_long");
  assertProblem(assert, await get(`/internal/usage/months?from_month=2026-02&to_month=2026-01`), 400, "invalid_range");
  assertProblem(assert, await get(`/internal/usage/months?to_month=2026-1`), 400, "invalid_month");
});
