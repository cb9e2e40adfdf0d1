import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call } from "./client.mjs";

test("health answers ok without a key and reveals no event data", async () => {
  const res = await call("/api/health");
  assert.equal(res.status, 200);
  assert.equal(res.body.status, "ok");
  assert.equal(res.body.db, "ok");
  assert.deepEqual(Object.keys(res.body).sort(), ["db", "status", "time", "version"]);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
});

test("unknown API paths are a 404 problem", async () => {
  assertProblem(assert, await call("/internal/no-such-thing"), 404, "not_found");
  assertProblem(assert, await call("/api/no-such-thing"), 404, "not_found");
});

test("a wrong method is a 405 problem", async () => {
  assertProblem(assert, await call("/api/health", { method: "DELETE" }), 405, "method_not_allowed");
  assertProblem(assert, await call("/internal/funnel-events/ingest"), 405, "method_not_allowed");
});

test("/ leads to the console, whose files carry a strict Content-Security-Policy", async () => {
  const root = await fetch(`${process.env.FUNNEL_URL}/`, { redirect: "manual" });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get("location"), "/cp/auth-commerce-funnel/");
  for (const file of ["", "app.js", "app.css"]) {
    const res = await call(`/cp/auth-commerce-funnel/${file}`);
    assert.equal(res.status, 200, file);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, "no inline or remote scripts");
    assert.match(csp, /connect-src 'self'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  }
  const html = await call("/cp/auth-commerce-funnel/");
  assert.match(html.headers.get("content-type") ?? "", /text\/html/);
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html.text), "no inline script element");
  assert.ok(!/https?:\/\//.test(html.text), "nothing loaded from another origin");
  const missing = await call("/cp/auth-commerce-funnel/nope.js");
  assert.equal(missing.status, 404);
});
