// Browser collection against the real worker: a beacon-shaped request of the
// listed origin is stored, the preflight is answered, another origin is
// refused, and a burst from one address gets 429 with Retry-After from the
// Rate Limiting binding that `wrangler dev` simulates. Refusals the shell makes
// before the route runs (413, an unknown method) carry CORS headers as well.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, SECRETS, uid } from "./client.mjs";

const VARS = JSON.parse(process.env.FUNNEL_VARS ?? "{}");
const PORTS = JSON.parse(process.env.FUNNEL_COLLECT_PORTS ?? "{}");
const PK = (VARS.PUBLISHABLE_KEYS ?? "").split(":")[0];
const ORIGIN = `http://127.0.0.1:${PORTS.allowed}`;
const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };

/** What navigator.sendBeacon sends for a string body. */
function beacon(events, { origin = ORIGIN, key = PK } = {}) {
  return call(`/collect?key=${encodeURIComponent(key)}`, {
    method: "POST",
    headers: { origin, "content-type": "text/plain;charset=UTF-8" },
    body: JSON.stringify({ events }),
  });
}

const view = (id) => ({ event_type: "m_page_view", event_id: id, anonymous_id: "anon_e2e", properties: { page_path: "/e2e" } });

test("a beacon from the listed origin is stored under its site and readable by that origin only", async () => {
  assert.ok(PK.startsWith("pk_"), "run.mjs configures PUBLISHABLE_KEYS");
  const id = uid("collect");
  const res = await beacon([view(id)]);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.results[0].status, "accepted");
  assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
  assert.match(res.headers.get("vary") ?? "", /Origin/);
  const page = await call(`/internal/funnel-events?type=m_page_view&limit=500`, { headers: AUTH });
  const stored = page.body.events.filter((e) => e.event_id === id);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].source, "e2e-site");
});

test("the preflight answers the listed origin and refuses another one without CORS headers", async () => {
  const ok = await call(`/collect?key=${PK}`, {
    method: "OPTIONS",
    headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.equal(ok.status, 204, ok.text);
  assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(ok.headers.get("access-control-allow-methods"), "POST");
  const other = `http://127.0.0.1:${PORTS.other}`;
  const refused = await call(`/collect?key=${PK}`, { method: "OPTIONS", headers: { origin: other } });
  assertProblem(assert, refused, 403, "origin_not_allowed");
  assert.equal(refused.headers.get("access-control-allow-origin"), null);
  const post = await beacon([view(uid("collect"))], { origin: other });
  assertProblem(assert, post, 403, "origin_not_allowed");
  assert.equal(post.headers.get("access-control-allow-origin"), null);
});

test("a metered or money event sent with the publishable key is rejected per event; a bearer key is no publishable key", async () => {
  const res = await beacon([
    view(uid("collect")),
    { event_type: "purchase_completed", event_id: uid("collect"), properties: { amount: 5, currency: "USD" } },
  ]);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.results[1].status, "rejected");
  assert.ok(res.body.results[1].errors.some((e) => e.code === "not_browser_safe"), res.text);
  const asBearer = await call("/internal/funnel-events", { headers: { authorization: `Bearer ${PK}` } });
  assertProblem(assert, asBearer, 401, "bad_key");
  const bearerAsPk = await beacon([view(uid("collect"))], { key: SECRETS.INTERNAL_API_KEY });
  assertProblem(assert, bearerAsPk, 401, "bad_publishable_key");
});

/** `{"events":[view]}` padded with JSON whitespace to exactly `n` bytes. */
function bodyOf(n, id) {
  const json = JSON.stringify({ events: [view(id)] });
  return `{${" ".repeat(n - json.length)}${json.slice(1)}`;
}

test("refusals made before the route runs (413, an unknown method) are readable by the listed origin only", async () => {
  const other = `http://127.0.0.1:${PORTS.other}`;
  for (const origin of [ORIGIN, other]) {
    const want = origin === ORIGIN ? ORIGIN : null;
    const big = bodyOf(65_537, uid("big"));
    assert.equal(Buffer.byteLength(big), 65_537);
    const tooLarge = await call(`/collect?key=${PK}`, {
      method: "POST",
      headers: { origin, "content-type": "text/plain;charset=UTF-8" },
      body: big,
    });
    assertProblem(assert, tooLarge, 413, "payload_too_large");
    assert.equal(tooLarge.headers.get("access-control-allow-origin"), want, `413 to ${origin}`);
    assert.match(tooLarge.headers.get("vary") ?? "", /Origin/);
    const patch = await call(`/collect?key=${PK}`, { method: "PATCH", headers: { origin }, body: "{}" });
    assertProblem(assert, patch, 405, "method_not_allowed");
    assert.equal(patch.headers.get("access-control-allow-origin"), want, `405 to ${origin}`);
  }
  // 65,536 bytes exactly is read and stored.
  const id = uid("fits");
  const fits = await call(`/collect?key=${PK}`, {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "text/plain;charset=UTF-8" },
    body: bodyOf(65_536, id),
  });
  assert.equal(fits.status, 200, fits.text);
  assert.equal(fits.body.results[0].status, "accepted");
  assert.equal(fits.headers.get("access-control-allow-origin"), ORIGIN);
});

test("Origin: null (sandboxed iframe, file://, no-referrer beacon) is 403 origin_not_allowed without CORS headers", async () => {
  const res = await beacon([view(uid("null"))], { origin: "null" });
  assertProblem(assert, res, 403, "origin_not_allowed");
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  const preflight = await call(`/collect?key=${PK}`, { method: "OPTIONS", headers: { origin: "null" } });
  assertProblem(assert, preflight, 403, "origin_not_allowed");
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
});

test("a form or multipart beacon is 415 with a detail saying to send JSON text, readable by the page", async () => {
  const form = new URLSearchParams({ events: "[]" });
  const multipart = new FormData();
  multipart.set("events", "[]");
  for (const body of [form, multipart]) {
    const res = await call(`/collect?key=${PK}`, { method: "POST", headers: { origin: ORIGIN }, body });
    assertProblem(assert, res, 415, "unsupported_media_type");
    assert.match(res.body.detail, /JSON\.stringify/);
    assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
  }
});

test("a burst from one address is answered 429 with Retry-After once over the limit", async () => {
  // wrangler.toml: 60 requests per 10 s per address. `wrangler dev` counts in fixed windows
  // (Date.now() / 10 s): start 200 ms into one, so the burst cannot straddle two and pass.
  await new Promise((r) => setTimeout(r, (10_200 - (Date.now() % 10_000)) % 10_000));
  const answers = await Promise.all(Array.from({ length: 90 }, () => beacon([view(uid("burst"))])));
  const limited = answers.filter((a) => a.status === 429);
  const stored = answers.filter((a) => a.status === 200);
  assert.ok(limited.length > 0, `no 429 among ${answers.map((a) => a.status).join(",")}`);
  assert.ok(stored.length > 0 && stored.length <= 60, `${stored.length} went through`);
  for (const a of limited) {
    assertProblem(assert, a, 429, "rate_limited");
    assert.equal(a.headers.get("retry-after"), "10");
    assert.equal(a.headers.get("access-control-allow-origin"), ORIGIN, "the page can read why");
  }
  // Leave the window empty for the browser test that follows.
  await new Promise((r) => setTimeout(r, 11_000));
});
