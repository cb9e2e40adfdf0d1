// Thousands of malformed requests against the real worker: every answer is
// a 4xx problem+json (never a 5xx, never a hang), and the valid events sent
// between them are all stored.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { BASE, INGEST, SECRETS, sign, uid } from "./client.mjs";

const TIMEOUT_MS = 15_000;
const tenant = uid("garbage");

async function send(path, { method = "POST", headers = {}, body } = {}) {
  const res = await fetch(BASE + path, { method, headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, headers: res.headers };
}

const signedHeaders = (body, extra = {}) => ({
  "content-type": "application/json",
  "x-funnel-signature": sign(body),
  ...extra,
});

function signed(body, extra) {
  return { headers: signedHeaders(body, extra), body };
}

const rnd = (n) => randomBytes(n);
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

/** One malformed request: [label, path, init]. */
function garbage(i) {
  const kinds = [
    () => ["random bytes, signed", INGEST, signed(rnd(1 + (i % 300)))],
    () => ["random bytes, unsigned", INGEST, { headers: { "content-type": "application/json" }, body: rnd(64) }],
    () => ["truncated json", INGEST, signed(`{"events":[{"event_type":"app_open"`)],
    () => ["trailing comma", INGEST, signed(`{"events":[{"event_type":"app_open"},]}`)],
    () => ["NaN", INGEST, signed(`{"events":[{"event_type":"app_open","success":NaN}]}`)],
    () => ["comment", INGEST, signed(`{"events":[] /* x */}`)],
    // Numbers past every bound: one such event must never poison a sum (422 value_out_of_range, or 400 invalid_json).
    () => ["numeric extreme", INGEST, signed(`{"events":[{"event_type":"purchase_completed","event_id":"${uid("x")}","properties":{"amount":${pick(["1e308", "-1e308", "1000000000000.01", "-1", "1e999", "-1e999", "1e-300"])},"currency":"KRW"}}]}`)],
    () => ["undeclared numeric extreme", INGEST, signed(`{"events":[{"event_type":"app_open","properties":{"n":${pick(["1e308", "-1e308", "9007199254740993.5", "1e16"])}}}]}`)],
    () => ["deep nesting", INGEST, signed(`{"events":[${"[".repeat(5000)}${"]".repeat(5000)}]}`)],
    () => ["deep object", INGEST, signed(`{"events":[{"properties":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}]}`)],
    () => ["huge string", INGEST, signed(JSON.stringify({ events: [{ event_type: "x".repeat(900_000) }] }))],
    () => ["over 1 MiB", INGEST, signed(JSON.stringify({ events: [{ event_type: "app_open", error_message: "y".repeat(1_100_000) }] }))],
    () => ["events not an array", INGEST, signed(`{"events":"app_open"}`)],
    () => ["events of wrong types", INGEST, signed(`{"events":[1,null,"s",[],true]}`)],
    () => ["wrong field types", INGEST, signed(JSON.stringify({ events: [{ event_type: 5, properties: [], success: "yes", trace_id: {} }] }))],
    () => ["NUL in strings", INGEST, signed(JSON.stringify({ events: [{ event_type: "app\u0000open", user_id: "\u0000" }] }))],
    () => ["invalid UTF-8", INGEST, signed(Buffer.concat([Buffer.from('{"events":[{"event_type":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]))],
    () => ["lone surrogate escape", INGEST, signed(`{"events":[{"event_type":"\\ud800"}]}`)],
    () => ["duplicate keys", INGEST, signed(`{"events":[{"event_type":"app_open","event_type":"search"}]}`)],
    () => ["duplicate top-level keys", INGEST, signed(`{"events":[],"events":[{"event_type":"app_open"}]}`)],
    () => ["empty body", INGEST, signed("")],
    () => ["json scalar", INGEST, signed("42")],
    () => ["too many events", INGEST, signed(JSON.stringify({ events: Array.from({ length: 501 }, () => ({ event_type: "app_open" })) }))],
    () => ["wrong content type", INGEST, { headers: { ...signedHeaders("{}"), "content-type": "text/plain" }, body: "{}" }],
    () => ["huge trace header", INGEST, signed(JSON.stringify({ events: [{ event_type: "app_open", anonymous_id: "a" }] }).replace("app_open", "nope"), { "x-trace-id": `trace_${"x".repeat(12_000)}` })],
    () => ["huge signature header", INGEST, { headers: { "content-type": "application/json", "x-funnel-signature": `t=1,v1=${"a".repeat(12_000)}` }, body: "{}" }],
    () => ["huge bearer", "/internal/funnel-events", { method: "GET", headers: { authorization: `Bearer ${"k".repeat(12_000)}` } }],
    () => ["garbage signature", INGEST, { headers: { "content-type": "application/json", "x-funnel-signature": rnd(40).toString("latin1").replace(/[^\x20-\x7e]/g, "x") }, body: "{}" }],
    () => ["wrong method on ingest", INGEST, { method: pick(["GET", "PUT", "DELETE", "PATCH"]) }],
    () => ["OPTIONS preflight", pick([INGEST, "/internal/funnel-events", "/api/overview"]), { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } }],
    () => ["POST on a read", pick(["/internal/funnel-events", "/internal/catalog", "/api/health"]), { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` }, body: "{}" }],
    () => ["unknown internal path", `/internal/${pick(["x", "funnel-events/../../etc", "trace", "funnels/a/b", "%00"])}`, { method: "GET" }],
    () => ["unknown api path", `/api/${pick(["x", "events/1", "overview/extra"])}`, { method: "GET" }],
    () => ["bad query", `/internal/funnel-events?${pick(["from=%ff", "limit=1e9", "cursor=" + "A".repeat(600), "type=" + ",".repeat(3000), "q_email=%00@x", "tz=../../etc/passwd"])}`, { method: "GET", headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } }],
    () => ["bad trace path", `/internal/trace/${pick(["%", "%zz", "trace_%00", "x".repeat(300), "trace_%ff"])}`, { method: "GET", headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } }],
  ];
  return kinds[i % kinds.length]();
}

test("thousands of malformed requests get 4xx problem+json and valid events between them are stored", async () => {
  const total = 2000;
  const valid = [];
  const failures = [];
  let next = 0;
  async function worker() {
    while (next < total) {
      const i = next++;
      if (i % 40 === 0) {
        const event_id = uid("ok");
        const body = JSON.stringify({ events: [{ event_type: "app_open", event_id, tenant_id: tenant }] });
        const res = await send(INGEST, signed(body));
        if (res.status !== 200) failures.push(`valid event ${event_id}: ${res.status} ${res.text.slice(0, 200)}`);
        valid.push(event_id);
        continue;
      }
      const [label, path, init] = garbage(i);
      let res;
      try {
        res = await send(path, init);
      } catch (e) {
        failures.push(`${label}: no answer (${e.name})`);
        continue;
      }
      const ok = res.status >= 400 && res.status < 500 && res.type.startsWith("application/problem+json");
      if (!ok) failures.push(`${label} ${path.slice(0, 60)}: ${res.status} ${res.type} ${res.text.slice(0, 120)}`);
      if (res.headers.get("access-control-allow-origin")) failures.push(`${label}: sent CORS headers`);
      for (const [name, value] of Object.entries(SECRETS)) {
        if (res.text.includes(value)) failures.push(`${label}: the answer contains ${name}`);
      }
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker));
  assert.deepEqual([...new Set(failures)].slice(0, 20), []);

  const stored = new Set();
  let cursor;
  do {
    const qs = new URLSearchParams({ tenant_id: tenant, limit: "500", ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${BASE}/internal/funnel-events?${qs}`, { headers: { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` } });
    const page = await res.json();
    for (const e of page.events) stored.add(e.event_id);
    cursor = page.next_cursor;
  } while (cursor);
  assert.equal(valid.length, total / 40);
  assert.deepEqual(valid.filter((id) => !stored.has(id)), [], "every valid event was stored");
});
