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

test("the console path is served from static assets, not the worker", async () => {
  const res = await call("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
});
