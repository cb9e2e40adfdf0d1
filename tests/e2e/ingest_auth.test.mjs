import assert from "node:assert/strict";
import { test } from "node:test";

import { assertProblem, call, ingestBearer, ingestSigned, INGEST, SECRETS, sign, uid } from "./client.mjs";

const batch = () => ({ events: [{ event_type: "app_open", event_id: uid() }] });

test("a body signed with the current secret is accepted", async () => {
  const res = await ingestSigned(batch());
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.results[0].status, "accepted");
});

test("the previous HMAC secret is accepted during rotation", async () => {
  const res = await ingestSigned(batch(), { signOpts: { secret: SECRETS.INGEST_HMAC_SECRET_PREVIOUS } });
  assert.equal(res.status, 200, res.text);
});

test("one good v1 among several is enough", async () => {
  const body = JSON.stringify(batch());
  const good = sign(body);
  const t = good.split(",")[0];
  const header = `${t},v1=${"0".repeat(64)},${good.split(",")[1]}`;
  const res = await call(INGEST, { method: "POST", headers: { "content-type": "application/json", "x-funnel-signature": header }, body });
  assert.equal(res.status, 200, res.text);
});

test("signature failures are 401 problems with distinct codes", async () => {
  const body = JSON.stringify(batch());
  const post = (headers) => call(INGEST, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  assertProblem(assert, await post({}), 401, "missing_credentials");
  assertProblem(assert, await post({ "x-funnel-signature": "v1=abc" }), 401, "malformed_signature");
  assertProblem(assert, await post({ "x-funnel-signature": sign(body, { secret: "wrong" }) }), 401, "bad_signature");
  assertProblem(assert, await post({ "x-funnel-signature": sign(body + " ") }), 401, "bad_signature");
  const old = Math.floor(Date.now() / 1000) - 301;
  assertProblem(assert, await post({ "x-funnel-signature": sign(body, { t: old }) }), 401, "stale_signature");
  const future = Math.floor(Date.now() / 1000) + 301;
  assertProblem(assert, await post({ "x-funnel-signature": sign(body, { t: future }) }), 401, "stale_signature");
});

test("a timestamp inside the window is accepted", async () => {
  const t = Math.floor(Date.now() / 1000) - 280;
  const res = await ingestSigned(batch(), { signOpts: { t } });
  assert.equal(res.status, 200, res.text);
});

test("the bearer key (current or previous) is accepted", async () => {
  for (const key of [SECRETS.INTERNAL_API_KEY, SECRETS.INTERNAL_API_KEY_PREVIOUS]) {
    const res = await ingestBearer(batch(), { key });
    assert.equal(res.status, 200, res.text);
  }
});

test("a wrong bearer key is bad_key and the answer names no key", async () => {
  const res = await ingestBearer(batch(), { key: "nope" });
  assertProblem(assert, res, 401, "bad_key");
  for (const secret of Object.values(SECRETS)) assert.ok(!res.text.includes(secret));
});

test("wrong content type is 415 after authentication", async () => {
  const body = JSON.stringify(batch());
  const res = await call(INGEST, { method: "POST", headers: { "content-type": "text/plain", "x-funnel-signature": sign(body) }, body });
  assertProblem(assert, res, 415, "unsupported_media_type");
});

test("invalid JSON is a 400 invalid_json", async () => {
  assertProblem(assert, await ingestSigned("{\"events\": ["), 400, "invalid_json");
  assertProblem(assert, await ingestSigned("[]"), 400, "invalid_body");
});

test("the body cap is 1 MiB: at the cap it is read, one byte over is 413", async () => {
  const MiB = 1024 * 1024;
  const pad = (size) => {
    const base = JSON.stringify({ events: [{ event_type: "app_open", event_id: uid() }], sent_at: null });
    return base.slice(0, -1) + " ".repeat(size - base.length) + "}";
  };
  const atCap = pad(MiB);
  assert.equal(Buffer.byteLength(atCap), MiB);
  assert.equal((await ingestSigned(atCap)).status, 200);
  assertProblem(assert, await ingestSigned(pad(MiB + 1)), 413, "payload_too_large");
});

test("the batch cap is 500 events: 500 are stored, 501 is 413", async () => {
  const events = (n) => Array.from({ length: n }, () => ({ event_type: "app_open", event_id: uid() }));
  const ok = await ingestSigned({ events: events(500) });
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  assert.equal(ok.body.processed, 500);
  assert.ok(ok.body.results.every((r) => r.status === "accepted"));
  assertProblem(assert, await ingestSigned({ events: events(501) }), 413, "too_many_events");
});

test("the ops console's /api/events is the same endpoint", async () => {
  const res = await ingestSigned(batch(), { path: "/api/events" });
  assert.equal(res.status, 200, res.text);
});
