import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, d1Bytes, ingestBearer, ingestSigned, SECRETS, uid } from "./client.mjs";

test("a retried event is a duplicate and stored once; another source is another event", async () => {
  const event = { event_type: "app_open", event_id: uid() };
  const first = await ingestSigned({ events: [event] });
  const again = await ingestSigned({ events: [event] });
  assert.equal(first.body.results[0].status, "accepted");
  assert.equal(again.body.results[0].status, "duplicate");
  assert.equal(again.status, 200);
  const fromCp = await ingestBearer({ events: [event] });
  assert.equal(fromCp.body.results[0].status, "accepted");
});

test("per-event results: accepted, duplicate in batch, rejected with every error", async () => {
  const id = uid();
  const res = await ingestSigned({
    events: [
      { event_type: "app_open", event_id: id },
      { event_type: "app_open", event_id: id },
      { event_type: "m_checkout_click", trace_id: uid("trace"), properties: { plan_tier: 5, bad_name_é: 1 } },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.results.map((r) => r.status), ["accepted", "duplicate", "rejected"]);
  assert.equal(res.body.processed, 2);
  assert.equal(res.body.failed, 1);
  assert.equal(res.body.success, false);
  const codes = res.body.results[2].errors.map((e) => `${e.code}@${e.field}`).sort();
  assert.deepEqual(codes, ["invalid_property_name@properties.bad_name_é", "invalid_property_type@properties.plan_tier"]);
  assert.match(res.body.errors[0], /^events\[2\]: /);
});

test("every event rejected is a 422 problem that still carries the results", async () => {
  const res = await ingestSigned({ events: [{ event_type: "no_such_event" }, { event: 7 }] });
  assertProblem(assert, res, 422, "all_events_rejected");
  assert.equal(res.body.failed, 2);
  assert.equal(res.body.results[0].errors[0].code, "unknown_event_type");
});

test("the seeds' aliases are accepted (ops-console example)", async () => {
  const res = await ingestSigned({
    events: [{ service: "presstuner", event: "purchase_completed", userId: "team-1", sessionId: uid(),
               occurredAt: new Date().toISOString(), properties: { amount: 29000, planId: "starter", channel: "web" } }],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.results[0].status, "accepted");
});

test("x-trace-id is the fallback, echoed only when valid; a bad event trace is dropped with a warning", async () => {
  const trace = uid("trace");
  const res = await ingestSigned(
    { events: [{ event_type: "app_open" }, { event_type: "app_open", trace_id: "bogus" }] },
    { headers: { "x-trace-id": `  ${trace} ` } },
  );
  assert.equal(res.headers.get("x-trace-id"), trace);
  assert.equal(res.body.results[1].warnings[0].code, "invalid_trace_id");
  const bad = await ingestSigned({ events: [{ event_type: "app_open" }] }, { headers: { "x-trace-id": "no spaces allowed" } });
  assert.equal(bad.headers.get("x-trace-id"), null);
  assert.match(bad.body.warnings[0], /x-trace-id/);
});

test("a raw email is fingerprinted and never stored, in events or quarantine", async () => {
  const local = uid("person").toLowerCase();
  const email = `${local}@Example.COM`;
  const ok = await ingestSigned({ events: [{ event_type: "m_auth_login_fail", email, error_code: "otp_expired" }] });
  assert.equal(ok.body.results[0].status, "accepted", ok.text);
  const rejected = await ingestSigned({ events: [{ event_type: "m_auth_login_fail", email }] });
  assert.equal(rejected.status, 422);
  for (const res of [ok, rejected]) assert.ok(!res.text.toLowerCase().includes(local), "response echoes the address");
  const stored = d1Bytes().toString("latin1").toLowerCase();
  assert.ok(!stored.includes(local), "the raw address is in the D1 files");
});

test("an invalid email is rejected without echoing it", async () => {
  const res = await ingestSigned({ events: [{ event_type: "m_otp_send", email: "not-an-address-xyz" }] });
  assert.equal(res.body.results[0].errors[0].code, "invalid_email");
  assert.ok(!res.text.includes("not-an-address-xyz"));
});

test("error_message is cut at 512 characters", async () => {
  const res = await ingestSigned({ events: [{ event_type: "app_open", error_message: "가".repeat(513) }] });
  assert.equal(res.body.results[0].status, "accepted");
  assert.equal(res.body.results[0].warnings[0].code, "truncated");
});

test("a bad sent_at is a 400 naming the field", async () => {
  assertProblem(assert, await ingestSigned({ events: [{ event_type: "app_open" }], sent_at: "nope" }), 400, "invalid_sent_at");
});

test("one signed batch of 1e308 amounts is refused per event, and the summary and overview keep answering", async () => {
  const AUTH = { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } };
  const before = await call("/api/overview", AUTH);
  assert.equal(before.status, 200, before.text);
  const res = await ingestSigned({
    events: [
      { event_type: "purchase_completed", event_id: uid("n"), user_id: "u", properties: { amount: 1e308, currency: "KRW" } },
      { event_type: "purchase_completed", event_id: uid("n"), user_id: "u", properties: { amount: 1e308, currency: "KRW" } },
    ],
  });
  assertProblem(assert, res, 422, "all_events_rejected");
  for (const r of res.body.results) {
    assert.equal(r.status, "rejected");
    assert.equal(r.errors[0].code, "value_out_of_range");
    assert.equal(r.errors[0].field, "properties.amount");
    assert.match(r.errors[0].message, /from 0 to 1000000000000/);
  }
  for (const tz of ["UTC", "Asia/Seoul"]) {
    const summary = await call(`/internal/funnel-events/summary?tz=${tz}`, AUTH);
    assert.equal(summary.status, 200, summary.text);
  }
  const after = await call("/api/overview", AUTH);
  assert.equal(after.status, 200, after.text);
  assert.deepEqual(after.body.revenue, before.body.revenue, "nothing was added to revenue");
});

test("the dictionary's automatic parameters are stored with limits fit for them; processed_at is the server's", async () => {
  const AUTH = { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } };
  const user = uid("u").replace(/-/g, "_");
  const agent = `Mozilla/5.0 (X11; Linux x86_64) ${"AppleWebKit/537.36 ".repeat(12)}`;
  assert.ok(agent.length > 100 && agent.length <= 512);
  const res = await ingestBearer({
    events: [
      { event_type: "select_template", event_id: uid(), user_agent: agent, page_url: "https://easypick.example/t?x=1",
        params: { template_id: "t_1", template_type: "prompt", event_name: "select_template", page_title: "템플릿 · EasyPick",
                  user_id: user, session_id: `${user}_s`, processed_at: "1999-01-01T00:00:00Z" } },
      { event_type: "select_template", event_id: uid(), params: { template_id: "t-1 x", template_type: "prompt" } },
      { event_type: "select_template", event_id: uid(), page_title: "x".repeat(301), params: { template_id: "t_1", template_type: "prompt" } },
    ],
  });
  assert.equal(res.status, 200, res.text);
  const [ok, badId, longTitle] = res.body.results;
  assert.equal(ok.status, "accepted", JSON.stringify(ok));
  assert.ok(ok.warnings.some((w) => w.code === "server_field_ignored"));
  assert.equal(badId.errors[0].code, "invalid_identifier");
  assert.equal(`${longTitle.errors[0].code}@${longTitle.errors[0].field}`, "property_too_long@properties.page_title");
  const list = await call(`/internal/funnel-events?user_id=${user}`, AUTH);
  assert.equal(list.status, 200, list.text);
  const [e] = list.body.events;
  assert.equal(e.session_id, `${user}_s`);
  assert.equal(e.properties.user_agent, agent);
  assert.equal(e.properties.page_title, "템플릿 · EasyPick");
  assert.equal(e.properties.processed_at, undefined);
  assert.ok(e.ts > "2000", "the server's time, not the sent processed_at");
});

test("a logged-out tool view is accepted and not metered; a tool use without a user is rejected", async () => {
  const tool = (action) => ({ event_type: "tool_interaction", event_id: uid(), session_id: uid("anon"),
    properties: { tool_id: "tool_1", action_type: action } });
  const views = await ingestBearer({ events: Array.from({ length: 6 }, () => tool("view")) });
  assert.equal(views.status, 200, views.text);
  assert.ok(views.body.results.every((r) => r.status === "accepted" || r.status === "sampled_out"), views.text);
  assert.equal(views.body.quota, undefined, "nothing metered");
  const use = await ingestBearer({ events: [tool("use")] });
  assertProblem(assert, use, 422, "all_events_rejected");
  assert.equal(`${use.body.results[0].errors[0].code}@${use.body.results[0].errors[0].field}`, "missing_required_field@user_id");
});
