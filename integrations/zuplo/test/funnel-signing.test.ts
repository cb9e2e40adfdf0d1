import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { acceptTraceId, signatureHeader, signedForward, SIGNATURE_HEADER, TRACE_HEADER } from "../src/funnel-signing";
import funnelSignPolicy from "../src/policy";

// The same file the worker's Rust tests read (tests/gateway_vectors.rs).
const vectors = JSON.parse(readFileSync(new URL("../../../tests/vectors/gateway.json", import.meta.url), "utf8"));

test("signs every shared vector exactly as the worker expects", async () => {
  assert.ok(vectors.signatures.length >= 4);
  for (const v of vectors.signatures) {
    assert.equal(await signatureHeader(v.secret, v.body, v.timestamp), v.expected_header, v.name);
  }
});

test("applies the same trace rule as the worker", () => {
  for (const v of vectors.trace_ids) {
    assert.equal(acceptTraceId(v.input), v.accepted, JSON.stringify(v.input));
  }
  assert.equal(acceptTraceId(null), null);
  assert.equal(acceptTraceId(undefined), null);
});

test("forwards a valid trace id trimmed and signs the exact body", async () => {
  const v = vectors.signatures[0];
  const incoming = new Request("https://gw.example/ingest", {
    method: "POST",
    headers: { "content-type": "application/json", [TRACE_HEADER]: "  trace_abc  ", authorization: "Bearer leak" },
    body: v.body,
  });
  const out = await signedForward(incoming, "https://funnel.example/internal/funnel-events/ingest", v.secret, () => v.timestamp);
  assert.equal(out.url, "https://funnel.example/internal/funnel-events/ingest");
  assert.equal(out.headers.get(TRACE_HEADER), "trace_abc");
  assert.equal(out.headers.get(SIGNATURE_HEADER), v.expected_header);
  assert.equal(out.headers.get("authorization"), null, "client credentials are not forwarded");
  assert.equal(await out.text(), v.body);
});

test("drops an invalid trace id instead of forwarding it", async () => {
  const incoming = new Request("https://gw.example/ingest", {
    method: "POST",
    headers: { "content-type": "application/json", [TRACE_HEADER]: "not-a-trace" },
    body: "{}",
  });
  const out = await signedForward(incoming, "https://funnel.example/ingest", "s");
  assert.equal(out.headers.get(TRACE_HEADER), null);
  assert.match(out.headers.get(SIGNATURE_HEADER) ?? "", /^t=\d+,v1=[0-9a-f]{64}$/);
});

test("the policy refuses to run without a secret", async () => {
  const req = new Request("https://gw.example/ingest", { method: "POST", body: "{}" });
  await assert.rejects(funnelSignPolicy(req, {}, { secret: "", upstreamUrl: "https://x" }), /secret/);
});

test("rejects a timestamp that is not unix seconds", async () => {
  await assert.rejects(signatureHeader("s", "{}", -1), RangeError);
  await assert.rejects(signatureHeader("s", "{}", 1.5), RangeError);
});
