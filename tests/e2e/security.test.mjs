// Cross-origin and preflight requests get nothing; errors reveal no key.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, ingestBearer, SECRETS, uid } from "./client.mjs";

const READS = ["/internal/funnel-events", "/internal/funnel-events/summary", "/internal/catalog", "/api/overview", "/internal/quarantine"];

test("internal APIs refuse CORS preflights and send no CORS headers", async () => {
  for (const path of [...READS, "/internal/funnel-events/ingest"]) {
    const preflight = await call(path, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    assertProblem(assert, preflight, 405, "method_not_allowed");
    assert.equal(preflight.headers.get("access-control-allow-origin"), null, path);
    assert.equal(preflight.headers.get("access-control-allow-headers"), null, path);
  }
});

test("a cross-origin read carries no Access-Control-Allow-Origin, so browsers withhold it", async () => {
  for (const path of READS) {
    const res = await call(path, { headers: { origin: "https://evil.example", authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("access-control-allow-origin"), null, path);
    assert.equal(res.headers.get("access-control-allow-credentials"), null, path);
  }
});

test("a wrong key gets the same answer whether or not it resembles a configured key", async () => {
  const near = SECRETS.INTERNAL_API_KEY.slice(0, -1) + (SECRETS.INTERNAL_API_KEY.endsWith("0") ? "1" : "0");
  const answers = [];
  for (const key of [near, SECRETS.INGEST_HMAC_SECRET, "x", SECRETS.INTERNAL_API_KEY.toUpperCase()]) {
    const res = await call("/internal/funnel-events", { headers: { authorization: `Bearer ${key}` } });
    assertProblem(assert, res, 401, "bad_key");
    answers.push(res.text);
    for (const value of Object.values(SECRETS)) assert.ok(!res.text.includes(value));
  }
  assert.equal(new Set(answers).size, 1, "every wrong key gets the identical body");
});

test("every answer carries nosniff, no-referrer and no-store", async () => {
  for (const path of ["/api/health", "/internal/funnel-events", "/nope/api"]) {
    const res = await call(path.startsWith("/nope") ? "/internal/nope" : path, { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } });
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("cache-control"), "no-store");
  }
});

test("the benchmark's routes are a 404 unless BENCH_ROUTES=1, even with valid credentials", async () => {
  const rows = JSON.stringify([["2026-01-01T00:00:00.000Z", null, "page_view", "easypick", "bench", "x1", null, null,
    null, null, null, null, null, null, null, null, null, null, 1]]);
  for (const path of ["/bench/floor", "/bench/discard"]) {
    const res = await call(path, {
      method: "POST",
      body: rows,
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` },
    });
    assertProblem(assert, res, 404, "not_found");
  }
});

test("named keys: a read key reads but cannot replay, an ingest key sends but cannot read", async () => {
  const as = (key) => ({ authorization: `Bearer ${key}` });
  const read = await call("/internal/funnel-events", { headers: as(SECRETS.READ_KEY) });
  assert.equal(read.status, 200, read.text);
  assertProblem(assert, await call("/internal/quarantine/replay", { method: "POST", headers: as(SECRETS.READ_KEY) }), 403, "insufficient_scope");
  assertProblem(assert, await call("/internal/funnel-events", { headers: as(SECRETS.INGEST_KEY) }), 403, "insufficient_scope");
  const sent = await ingestBearer({ events: [{ event_type: "app_open", event_id: uid("role") }] }, { key: SECRETS.INGEST_KEY });
  assert.equal(sent.body.results[0].status, "accepted", sent.text);
  const me = await call("/internal/whoami", { headers: as(SECRETS.READ_KEY) });
  assert.deepEqual([me.body.key, me.body.role], ["e2e-read", "read"]);
  assert.ok(me.body.routes.includes("GET /internal/funnel-events") && !me.body.routes.includes("POST /internal/erasure"));
});
