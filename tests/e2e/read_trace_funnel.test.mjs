// One trace's timeline and the declared funnels against the real worker.
// Funnel counts are checked two ways: exactly, over a window that only this
// file's funnel events occupy (test files run one at a time), and as the
// change of the counts over a wide window (before and after sending).
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { assertProblem, ingestSigned } from "./client.mjs";
import { canOmit, catalog, eventFactory, isoIn, marker, ok, plainTypes, qs, read, send, sleep } from "./generate.mjs";

const tag = marker("t");
const tenant = `e2e_read_${tag}`;
let cat;
let make;

before(async () => {
  cat = await catalog();
  make = eventFactory(cat, tag);
});

async function sendSigned(events) {
  const res = await ingestSigned({ events });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.results.map((r) => r.status), events.map(() => "accepted"), res.text);
}

test("a trace's timeline is oldest first with elapsed times, services, sources and failures", async () => {
  const plain = new Set(plainTypes(cat));
  const byService = cat.services.map((s) => cat.events.filter((e) => e.service === s && plain.has(e.name)).map((e) => e.name))
    .filter((types) => types.length >= 2);
  assert.ok(byService.length >= 2, "two services with two plain event types each");
  const [[a1, a2], [b1]] = byService;
  const serviceOf = (type) => cat.events.find((e) => e.name === type).service;
  const trace = `trace_${tag}_timeline`;
  const ownSource = `tr-${tag}`;
  const failure = { success: false, error_code: `${tag}_boom`, error_message: `went wrong ${tag}` };
  const steps = [
    { event: make(a1, { trace_id: trace, tenant_id: tenant }), signed: true, source: "zuplo" },
    { event: make(b1, { trace_id: trace, tenant_id: tenant, source: ownSource }), signed: false, source: ownSource },
    { event: make(a2, { trace_id: trace, tenant_id: tenant, ...failure }), signed: false, source: "cp" },
    { event: make(b1, { trace_id: trace, tenant_id: tenant, success: true }), signed: true, source: "zuplo" },
  ];
  for (const step of steps) {
    // Another trace's event in the same request must not show up.
    const noise = make(a1, { trace_id: `trace_${tag}_noise`, tenant_id: tenant });
    if (step.signed) await sendSigned([step.event, noise]);
    else await send([step.event, noise]);
    await sleep(15);
  }

  const t = await ok(`/internal/trace/${trace}`);
  assert.equal(t.trace_id, trace);
  assert.deepEqual(t.events.map((e) => e.event_id), steps.map((s) => s.event.event_id), "oldest first");
  assert.deepEqual(t.events.map((e) => e.source), steps.map((s) => s.source));
  assert.deepEqual(t.services, [serviceOf(a1), serviceOf(b1)], "services in order of first appearance");
  assert.deepEqual(t.sources, ["zuplo", ownSource, "cp"], "sources in order of first appearance");
  assert.equal(t.truncated, false);
  const stamps = t.events.map((e) => Date.parse(e.ts));
  assert.equal(t.started_at, t.events[0].ts);
  assert.equal(t.ended_at, t.events.at(-1).ts);
  assert.equal(t.duration_ms, stamps.at(-1) - stamps[0]);
  assert.ok(t.duration_ms >= 45, `the events were sent 15 ms apart at least: ${t.duration_ms}`);
  t.events.forEach((e, i) => {
    assert.ok(e.elapsed_ms >= 0, `elapsed_ms ${e.elapsed_ms}`);
    assert.equal(e.elapsed_ms, i === 0 ? 0 : stamps[i] - stamps[i - 1]);
    assert.equal(e.since_start_ms, stamps[i] - stamps[0]);
    if (i > 0) assert.ok(e.since_start_ms >= t.events[i - 1].since_start_ms, "since_start_ms non-decreasing");
    assert.equal(e.trace_id, trace);
    assert.equal(e.tenant_id, tenant);
  });
  assert.equal(t.failures.length, 1, JSON.stringify(t.failures));
  const [f] = t.failures;
  assert.equal(f.id, t.events[2].id);
  assert.equal(f.ts, t.events[2].ts);
  assert.equal(f.event_type, a2);
  assert.equal(f.service, serviceOf(a2));
  assert.equal(f.error_code, failure.error_code);
  assert.equal(f.error_message, failure.error_message);
  assert.equal(t.events[2].success, false);
  assert.equal(t.events[3].success, true);

  // The id is trimmed like every trace id; an encoded one decodes.
  const spaced = await ok(`/internal/trace/%20${trace}%20`);
  assert.deepEqual(spaced.events.map((e) => e.id), t.events.map((e) => e.id));
});

test("an invalid trace id is a 400; a valid one with no events is an empty 200", async () => {
  for (const bad of ["abc", "trace", "Trace_x", `trace_${"a".repeat(123)}`, "trace_a%09b", "trace_%C3%A9"]) {
    assertProblem(assert, await read(`/internal/trace/${bad}`), 400, "invalid_trace_id");
  }
  const empty = await ok(`/internal/trace/trace_${tag}_nothing`);
  assert.equal(empty.trace_id, `trace_${tag}_nothing`);
  assert.deepEqual(empty.events, []);
  assert.deepEqual(empty.failures, []);
  assert.deepEqual(empty.services, []);
  assert.equal(empty.truncated, false);
  const longest = `trace_${"a".repeat(122)}`;
  assert.equal(longest.length, 128);
  assert.equal((await ok(`/internal/trace/${longest}`)).events.length, 0);
});

test("a funnel breakdown by anything but a column or a step's string property is a 400 naming `by`", async () => {
  const { funnels } = await ok("/internal/funnels");
  for (const by of ["amount", "email", `nope_${tag}`]) {
    const res = await read(`/internal/funnels/${funnels[0].name}?by=${by}`);
    assertProblem(assert, res, 400, "invalid_breakdown");
    assert.equal(res.body.param, "by");
  }
});

test("the funnel list names catalog events, and an unknown funnel is a 400", async () => {
  const { funnels } = await ok("/internal/funnels");
  assert.ok(Array.isArray(funnels));
  assert.deepEqual(funnels.map((f) => f.name), (cat.funnels ?? []).map((f) => f.name), "the catalog lists the same funnels");
  const names = new Set(cat.events.map((e) => e.name));
  for (const f of funnels) {
    assert.match(f.name, /^[a-z0-9_]+$/);
    assert.ok(f.label && f.description, f.name);
    assert.ok(f.steps.length >= 2, f.name);
    for (const s of f.steps) assert.ok(names.has(s.event), `${f.name}: ${s.event} is not a catalog event`);
  }
  assertProblem(assert, await read(`/internal/funnels/no_such_funnel_${tag}`), 400, "unknown_funnel");
  assertProblem(assert, await read(`/internal/funnels/${(funnels[0]?.name ?? "x").toUpperCase()}_`), 400, "unknown_funnel");
});

const round4 = (x) => Math.round(x * 10_000) / 10_000;

/** Sends traces through `funnel` and returns what each step must count. */
async function walk(funnel, label) {
  const steps = funnel.steps.map((s) => s.event);
  const n = steps.length;
  const plain = new Set(plainTypes(cat));
  const errorType = plainTypes(cat).find((t) => !steps.includes(t) && canOmit(cat, t, ["user_id"]));
  assert.ok(errorType, "a plain event type outside the funnel for failures");
  // trace → {depth, batches: [[batch, stepIndex, extra fields]], error}
  const traces = [];
  for (let k = 1; k <= n; k++) {
    for (let copy = 0; copy < 2; copy++) {
      const error = copy === 0 ? (k < n ? `${tag}_${label}_k${k}` : `${tag}_${label}_done`) : null;
      traces.push({ id: `trace_${tag}_${label}_k${k}_${copy}`, depth: k,
        sends: Array.from({ length: k }, (_, s) => [s, s, {}]), error });
    }
  }
  // Step 2 happened before step 1: only step 1 is reached.
  traces.push({ id: `trace_${tag}_${label}_reversed`, depth: 1, sends: [[0, 1, {}], [1, 0, {}]], error: null });
  // Step 2 sent without a trace counts for its user's trace.
  if (canOmit(cat, steps[1], ["trace_id"])) {
    const user = `${tag}_${label}_user`;
    traces.push({ id: `trace_${tag}_${label}_user`, depth: 2,
      sends: [[0, 0, { user_id: user }], [1, 1, { user_id: user, trace_id: undefined }]], error: null });
  }
  const batches = Array.from({ length: n + 1 }, () => []);
  for (const t of traces) {
    for (const [batch, step, extra] of t.sends) {
      const fields = { trace_id: t.id, tenant_id: tenant, ...extra };
      if (fields.trace_id === undefined) delete fields.trace_id;
      const event = make(steps[step], fields);
      if (event.error_code) t.stepErrors = [...(t.stepErrors ?? []), [batch, event.error_code]];
      batches[batch].push(event);
    }
    if (t.error) batches[n].push(make(errorType, { trace_id: t.id, tenant_id: tenant, success: false, error_code: t.error }));
  }
  for (const batch of batches) {
    if (batch.length) await send(batch);
    await sleep(5);
  }
  // Each step's expected count, drop count and drop-off by the latest error code.
  const expected = steps.map((event, s) => {
    const dropped = traces.filter((t) => t.depth === s);
    const byError = {};
    for (const t of dropped) {
      const codes = [...(t.stepErrors ?? []), ...(t.error ? [[n, t.error]] : [])].sort((a, b) => a[0] - b[0]);
      const code = codes.at(-1)?.[1] ?? "none";
      byError[code] = (byError[code] ?? 0) + 1;
    }
    return { index: s, event, count: traces.filter((t) => t.depth > s).length, dropped: s === 0 ? 0 : dropped.length, byError };
  });
  return { expected, plain, traces };
}

test("each funnel counts this file's traces per step, with drop-off by error code", async (t) => {
  const { funnels } = await ok("/internal/funnels");
  if (funnels.length === 0) {
    t.diagnostic("no funnel is declared; nothing to count");
    return;
  }
  const sampled = new Set(cat.events.filter((e) => (e.sample_rate ?? 1) < 1).map((e) => e.name));
  let counted = 0;
  for (const [i, funnel] of funnels.entries()) {
    if (funnel.steps.some((s) => sampled.has(s.event))) {
      t.diagnostic(`${funnel.name} has a sampled step; its counts are estimates, skipped`);
      continue;
    }
    const wide = { from: isoIn(-86_400_000), to: isoIn(3_600_000) };
    const beforeWide = await ok(`/internal/funnels/${funnel.name}${qs(wide)}`);
    const from = isoIn(0);
    const { expected } = await walk(funnel, `f${i}`);
    const narrow = { from, to: isoIn(1) };
    const exact = await ok(`/internal/funnels/${funnel.name}${qs({ ...narrow, tz: "Asia/Seoul" })}`);
    assert.equal(exact.from, narrow.from);
    assert.equal(exact.to, narrow.to);
    assert.equal(exact.tz, "Asia/Seoul");
    const got = exact.funnel;
    assert.equal(got.name, funnel.name);
    assert.deepEqual(got.steps.map((s) => s.event), funnel.steps.map((s) => s.event));
    assert.equal(got.subjects, expected[0].count, `${funnel.name} subjects`);
    for (const e of expected) {
      const s = got.steps[e.index];
      const where = `${funnel.name} step ${e.index} (${e.event})`;
      assert.equal(s.index, e.index, where);
      assert.equal(s.count, e.count, `${where} count`);
      assert.equal(s.dropped, e.dropped, `${where} dropped`);
      const byError = Object.fromEntries(s.drop_off_by_error.map((d) => [d.error_code, d.count]));
      assert.deepEqual(byError, e.byError, `${where} drop-off by error`);
      const order = s.drop_off_by_error.map((d) => [-d.count, d.error_code]);
      assert.deepEqual(order, [...order].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1)), `${where}: biggest first`);
      const prev = expected[e.index - 1]?.count;
      assert.equal(s.conversion_from_previous, e.index === 0 ? null : round4(e.count / prev), `${where} conversion`);
      assert.equal(s.conversion_from_start, round4(e.count / expected[0].count), `${where} from start`);
    }
    assert.equal(got.overall_conversion, round4(expected.at(-1).count / expected[0].count));
    assert.ok(!JSON.stringify(got).includes(`${tag}_f${i}_done`), "a completed trace's error is no drop-off");

    // Split by source, tenant and domain: each subject in one group, so the groups add up to the funnel.
    for (const by of ["source", "tenant_id", "email_domain"]) {
      const split = await ok(`/internal/funnels/${funnel.name}${qs({ ...narrow, by })}`);
      assert.deepEqual(split.funnel, got, `${funnel.name} by ${by}: the funnel itself`);
      assert.equal(split.breakdown.by, by);
      const groups = split.breakdown.groups;
      assert.ok(groups.filter((g) => !g.other && g.value !== null).length <= 10, "at most ten named groups");
      for (const e of expected) {
        const sum = groups.reduce((n, g) => n + g.steps[e.index].count, 0);
        assert.equal(sum, e.count, `${funnel.name} by ${by}, step ${e.index}`);
      }
    }

    // Over a wide window: the counts grew by exactly this file's traces.
    const afterWide = await ok(`/internal/funnels/${funnel.name}${qs(wide)}`);
    for (const e of expected) {
      const [b, a] = [beforeWide.funnel.steps[e.index], afterWide.funnel.steps[e.index]];
      assert.equal(a.count - b.count, e.count, `${funnel.name} step ${e.index}: count delta`);
      assert.equal(a.dropped - b.dropped, e.dropped, `${funnel.name} step ${e.index}: dropped delta`);
      for (const [code, n] of Object.entries(e.byError)) {
        const was = b.drop_off_by_error.find((d) => d.error_code === code)?.count ?? 0;
        const now = a.drop_off_by_error.find((d) => d.error_code === code)?.count ?? 0;
        assert.equal(now - was, n, `${funnel.name} step ${e.index}: ${code} delta`);
      }
    }
    counted++;
  }
  t.diagnostic(`${counted} of ${funnels.length} funnels counted`);
});

test("events and traces carry drill-down links: Stripe in the id's mode, the tenant's onboarding page", async () => {
  const vars = JSON.parse(process.env.FUNNEL_VARS ?? "{}");
  const trace = `trace_${tag}_links`;
  const tenantId = `t ${tag}&x`;
  await sendSigned([
    { event_type: "m_checkout_session_created", event_id: `${tag}_cs`, trace_id: trace, tenant_id: tenantId,
      properties: { stripe_session_id: `cs_test_${tag}`, payment_intent_id: `pi_${tag}` } },
    { event_type: "m_stripe_webhook_checkout_complete", event_id: `${tag}_wh`, trace_id: trace,
      properties: { stripe_event_id: `evt_${tag}`, livemode: true } },
  ]);
  const stripe = "https://dashboard.stripe.com";
  const expected = {
    [`${tag}_cs`]: [
      { kind: "stripe_checkout_session", url: `${stripe}/test/checkout/sessions/cs_test_${tag}`, mode: "test" },
      { kind: "stripe_payment", url: `${stripe}/test/payments/pi_${tag}`, mode: "test" },
      { kind: "tenant_onboarding", url: `${vars.CONTROL_PLANE_URL}/cp/onboarding?tenant_id=${encodeURIComponent(tenantId)}` },
    ],
    [`${tag}_wh`]: [{ kind: "stripe_event", url: `${stripe}/events/evt_${tag}`, mode: "live" }],
  };
  const timeline = await ok(`/internal/trace/${trace}`);
  for (const e of timeline.events) assert.deepEqual(e.links, expected[e.event_id], `trace ${e.event_id}`);
  const list = await ok(`/internal/funnel-events${qs({ trace_id: trace })}`);
  assert.equal(list.events.length, 2);
  for (const e of list.events) assert.deepEqual(e.links, expected[e.event_id], `list ${e.event_id}`);
});
