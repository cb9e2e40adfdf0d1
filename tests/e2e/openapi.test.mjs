// The oracle itself: the worker serves the committed document, every schema
// in it compiles, and a body that breaks it is caught (a validator that
// accepted everything would make every other check in the suite vacuous).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { call } from "./client.mjs";
import { getSpec, OpenApiMismatch, SPEC_PATH, validateResponse } from "./openapi.mjs";

test("GET /openapi.json is the committed docs/openapi.json", async () => {
  const res = await call("/openapi.json");
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(res.body, JSON.parse(readFileSync(SPEC_PATH, "utf8")),
    "the committed document differs from the one the worker serves: regenerate docs/openapi.json");
});

test("every response schema the document gives compiles", () => {
  const spec = getSpec();
  let n = 0;
  for (const [template, item] of Object.entries(spec.doc.paths)) {
    for (const method of Object.keys(item)) {
      const [opParts, op] = spec.resolve(["paths", template, method]);
      for (const status of Object.keys(op?.responses ?? {})) {
        const [parts, res] = spec.resolve([...opParts, "responses", status]);
        for (const [media, m] of Object.entries(res?.content ?? {})) {
          if (!m.schema) continue;
          const pointer = [...parts, "content", media, "schema"]
            .map((p) => `/${encodeURIComponent(p.replaceAll("~", "~0").replaceAll("/", "~1"))}`).join("");
          assert.doesNotThrow(() => spec.validator(pointer), `${method.toUpperCase()} ${template} ${status} ${media}`);
          n++;
        }
      }
    }
  }
  assert.ok(n > 0, "the document describes no response body at all");
  assert.ok(spec.problemPointer, "the document has no Problem schema (components.schemas.Problem or a problem+json body)");
});

test("a body the document does not describe is caught", () => {
  const problem = { type: "https://funnel.dev/problems/not-found", title: "Not Found", status: 404, detail: "x", code: "not_found" };
  const type = "application/problem+json";
  // The router's answer to an unknown path: valid as it is, not once a member is gone or mistyped.
  assert.equal(validateResponse("GET", "/internal/no-such-thing", 404, type, JSON.stringify(problem)).verdict, "unrouted");
  assert.throws(() => validateResponse("GET", "/internal/no-such-thing", 404, type, JSON.stringify({ ...problem, code: undefined })),
    OpenApiMismatch);
  assert.throws(() => validateResponse("GET", "/internal/no-such-thing", 404, type, JSON.stringify({ ...problem, status: "404" })),
    OpenApiMismatch);
  // An undocumented status (or, under a `default` answer, its content type), an undocumented content type, a body that is not JSON.
  assert.throws(() => validateResponse("GET", "/api/health", 418, "application/json", "{}"), /is not documented/);
  assert.throws(() => validateResponse("GET", "/api/health", 200, "text/plain", "ok"), /content type text\/plain is not documented/);
  assert.throws(() => validateResponse("GET", "/api/health", 200, "application/json", "ok"), /not JSON/);
  // Health's answer with none of its members.
  assert.throws(() => validateResponse("GET", "/api/health", 200, "application/json", "{}"), OpenApiMismatch);
  // A path no template matches is only ever the router's 404 problem.
  assert.throws(() => validateResponse("GET", "/internal/no-such-thing", 200, "application/json", "{}"), /no documented path matches/);
});
