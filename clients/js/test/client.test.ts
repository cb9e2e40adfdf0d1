import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, test } from "node:test";

import { backoffMs, FunnelClient, retryAfterMs, type EventOutcome, type FunnelClientOptions } from "../src/index";
import { acceptAll, fakeServer, problem, type Received, type Script } from "./fake-server";

const SECRET = "test-secret-for-the-fake-server";
const servers: Array<{ close: () => Promise<void> }> = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** A client against a fresh fake server; waits are recorded, not slept. */
async function setup(script?: Script, options: Partial<FunnelClientOptions> = {}) {
  const server = await fakeServer(script);
  servers.push(server);
  const sleeps: number[] = [];
  const warnings: string[] = [];
  const client = new FunnelClient({
    url: server.url, secret: SECRET, flushIntervalMs: 5, random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms), logger: { warn: (m) => warnings.push(m) }, ...options,
  });
  return { client, server, sleeps, warnings };
}

const appOpen = (i: number, extra: Record<string, unknown> = {}) => ({ event_type: "app_open" as const, user_id: `u${i}`, ...extra });
const ids = (r: Received) => r.body.events.map((e) => e.event_id as string);

test("cuts batches at 500 events and gives every event its own event_id", async () => {
  const { client, server } = await setup();
  const outcomes = await Promise.all([...Array(1201).keys()].map((i) => client.track("app_open", { user_id: `u${i}` })));
  await client.flush();
  assert.deepEqual(server.received.map((r) => r.body.events.length), [500, 500, 201]);
  const sent = server.received.flatMap(ids);
  assert.equal(new Set(sent).size, 1201, "event ids are unique");
  assert.ok(sent.every((id) => /^evt_[0-9a-f]{32}$/.test(id)));
  assert.ok(outcomes.every((o) => o.status === "accepted" && o.attempts === 1));
  assert.deepEqual(outcomes.map((o) => o.event_id), sent, "each outcome belongs to its event");
});

test("keeps a caller's event_id and occurred_at, and adds occurred_at and sent_at otherwise", async () => {
  const { client, server } = await setup(undefined, { now: () => Date.parse("2026-12-01T00:00:00Z") });
  await client.track("app_open", { event_id: "mine-1", occurred_at: "2026-11-30T10:00:00Z" });
  await client.track("app_open", { user_id: "u" });
  await client.flush();
  const events = server.received.flatMap((r) => r.body.events);
  assert.equal(events[0].event_id, "mine-1");
  assert.equal(events[0].occurred_at, "2026-11-30T10:00:00Z");
  assert.equal(events[1].occurred_at, "2026-12-01T00:00:00.000Z");
  assert.equal(server.received[0].body.sent_at, "2026-12-01T00:00:00.000Z");
});

test("cuts batches so no request body is over 1 MiB, counting bytes not characters", async () => {
  const { client, server } = await setup();
  const wide = "가".repeat(30_000); // 3 bytes per character in UTF-8: ~90 KB per event
  const outcomes = await Promise.all([...Array(40).keys()].map((i) => client.track("app_open", appOpen(i, { error_message: wide }))));
  assert.ok(outcomes.every((o) => o.status === "accepted"));
  assert.ok(server.received.length >= 4, `${server.received.length} requests`);
  for (const r of server.received) assert.ok(r.bytes <= 1024 * 1024, `a body of ${r.bytes} bytes`);
  assert.ok(server.received[0].bytes > 900 * 1024, "batches are filled close to the limit");
  assert.equal(server.received.flatMap(ids).length, 40);
});

test("a smaller maxBatchBytes is honoured, and an event alone over it fails locally without a request", async () => {
  const { client, server } = await setup(undefined, { maxBatchBytes: 4000 });
  await Promise.all([...Array(12).keys()].map((i) => client.track("app_open", appOpen(i, { error_message: "x".repeat(900) }))));
  for (const r of server.received) assert.ok(r.bytes <= 4000);
  assert.ok(server.received.length >= 3);
  const before = server.received.length;
  const big = await client.track("app_open", { error_message: "y".repeat(5000) });
  assert.equal(big.status, "failed");
  assert.equal(big.errors?.[0].code, "event_too_large");
  assert.equal(server.received.length, before);
});

test("a partial batch leaves after flushIntervalMs without a flush", async () => {
  const { client, server } = await setup(undefined, { flushIntervalMs: 60 });
  const started = Date.now();
  const outcomes = [client.track("app_open", appOpen(1)), client.track("app_open", appOpen(2)), client.track("app_open", appOpen(3))];
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.received.length, 0, "not sent before the interval");
  const settled = await Promise.all(outcomes);
  assert.ok(Date.now() - started >= 55);
  assert.equal(server.received.length, 1);
  assert.equal(server.received[0].body.events.length, 3);
  assert.ok(settled.every((o) => o.status === "accepted"));
});

test("signs the exact body with the contract's header, or sends the bearer key", async () => {
  const { client, server } = await setup();
  await client.track("app_open", appOpen(1));
  const r = server.received[0];
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers["x-funnel-signature"]));
  assert.ok(m, String(r.headers["x-funnel-signature"]));
  assert.equal(m[2], createHmac("sha256", SECRET).update(`${m[1]}.${r.raw}`).digest("hex"));
  assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 5);
  assert.equal(r.headers.authorization, undefined);
  assert.equal(r.headers["content-type"], "application/json");

  const bearer = await setup(undefined, { secret: undefined, apiKey: "key_123" });
  await bearer.client.track("app_open", appOpen(1));
  assert.equal(bearer.server.received[0].headers.authorization, "Bearer key_123");
  assert.equal(bearer.server.received[0].headers["x-funnel-signature"], undefined);
});

test("retries 503 with the same event ids, waiting at least Retry-After, and re-signs each attempt", async () => {
  const { client, server, sleeps } = await setup((r, n) => (n <= 2 ? problem(503, "storage_unavailable", { "retry-after": "2" }) : acceptAll(r)));
  const outcome = await client.track("app_open", appOpen(1));
  assert.equal(outcome.status, "accepted");
  assert.equal(outcome.attempts, 3);
  assert.equal(server.received.length, 3);
  assert.equal(new Set(server.received.map((r) => ids(r)[0])).size, 1, "a retry carries the same event_id");
  // Retry-After: 2 is waited out in full, plus jitter of up to a quarter (random() = 0.5: an eighth).
  assert.deepEqual(sleeps, [2250, 2250]);
  for (const r of server.received) {
    const [, t, v1] = /^t=(\d+),v1=(\w+)$/.exec(String(r.headers["x-funnel-signature"]))!;
    assert.equal(v1, createHmac("sha256", SECRET).update(`${t}.${r.raw}`).digest("hex"));
  }
});

test("retries 429, 500 and dropped connections with growing, jittered waits", async () => {
  const replies = [problem(429, "rate_limited"), problem(500, "internal"), "drop" as const];
  const { client, server, sleeps } = await setup((r, n) => replies[n - 1] ?? acceptAll(r), { retryBaseMs: 100 });
  const outcome = await client.track("app_open", appOpen(1));
  assert.equal(outcome.status, "accepted");
  assert.equal(server.received.length, 4);
  // random() = 0.5: three quarters of 100, 200, 400.
  assert.deepEqual(sleeps, [75, 150, 300]);
});

test("never retries a 4xx: the batch fails with the problem's code after one request", async () => {
  for (const [status, code] of [[401, "bad_signature"], [400, "invalid_json"], [415, "unsupported_media_type"], [403, "insufficient_scope"]] as const) {
    const { client, server, sleeps, warnings } = await setup(() => problem(status, code));
    const outcomes = await Promise.all([client.track("app_open", appOpen(1)), client.track("app_open", appOpen(2))]);
    await client.flush();
    assert.equal(server.received.length, 1, `${status} was sent again`);
    assert.deepEqual(sleeps, []);
    for (const o of outcomes) {
      assert.equal(o.status, "failed");
      assert.equal(o.errors?.[0].code, code);
      assert.equal(o.http_status, status);
    }
    assert.match(warnings.join("\n"), new RegExp(`2 of 2 events not delivered.*${code}`));
  }
});

test("a 413 splits the batch in halves until each part fits; a single event too large is rejected", async () => {
  const { client, server } = await setup((r) =>
    r.body.events.some((e) => e.user_id === "huge") ? problem(413, "payload_too_large")
      : r.body.events.length > 3 ? problem(413, "payload_too_large") : acceptAll(r));
  const outcomes = await client.trackBatch([...Array(10).keys()].map((i) => appOpen(i)).concat([appOpen(0, { user_id: "huge" })]));
  const accepted = outcomes.filter((o) => o.status === "accepted");
  assert.equal(accepted.length, 10);
  const huge = outcomes[10];
  assert.equal(huge.status, "rejected");
  assert.equal(huge.errors?.[0].code, "payload_too_large");
  const stored = server.received.filter((r) => r.body.events.length <= 3 && !r.body.events.some((e) => e.user_id === "huge")).flatMap(ids);
  assert.equal(stored.length, 10, "each event reached the service in exactly one accepted request");
  assert.equal(new Set(stored).size, 10);
});

test("returns and logs per-event results: accepted, duplicate, rejected with codes; the log holds no event contents", async () => {
  const { client, warnings } = await setup((r) => ({
    status: 200,
    body: {
      success: false, processed: 2, failed: 1, errors: ["events[2]: ..."], warnings: [],
      results: [
        { index: 0, status: "accepted", event_id: ids(r)[0] },
        { index: 1, status: "duplicate", event_id: ids(r)[1] },
        { index: 2, status: "rejected", event_id: ids(r)[2], errors: [{ code: "missing_required_property", field: "properties.plan_tier", message: "required" }] },
      ],
    },
  }));
  const seen: EventOutcome[] = [];
  const outcomes = await client.trackBatch([
    { event_type: "m_auth_login_start", email: "secret.person@example.com" },
    appOpen(2),
    { event_type: "m_checkout_click", trace_id: "trace_x", properties: { plan_tier: "pro" } },
  ]);
  seen.push(...outcomes);
  assert.deepEqual(seen.map((o) => o.status), ["accepted", "duplicate", "rejected"]);
  assert.equal(seen[2].errors?.[0].field, "properties.plan_tier");
  assert.equal(client.counts.accepted, 1);
  assert.equal(client.counts.duplicate, 1);
  assert.equal(client.counts.rejected, 1);
  const log = warnings.join("\n");
  assert.match(log, /1 of 3 events not delivered: m_checkout_click evt_\w+: rejected missing_required_property\(properties.plan_tier\)/);
  assert.ok(!log.includes("secret.person"), "no event field is logged");
});

test("a 422 with results settles every event from its results, without a retry", async () => {
  const { client, server } = await setup((r) => ({
    status: 422,
    headers: { "content-type": "application/problem+json" },
    body: { code: "all_rejected", success: false, processed: 0, failed: 1, errors: [], warnings: [],
            results: [{ index: 0, status: "rejected", event_id: ids(r)[0], errors: [{ code: "unknown_event_type", field: "event_type", message: "" }] }] },
  }));
  const o = await client.track("app_open", appOpen(1));
  assert.equal(o.status, "rejected");
  assert.equal(o.errors?.[0].code, "unknown_event_type");
  assert.equal(server.received.length, 1);
});

test("gives up after maxRetries with retries_exhausted", async () => {
  const { client, server, sleeps } = await setup(() => problem(503, "storage_unavailable"), { maxRetries: 2 });
  const o = await client.track("app_open", appOpen(1));
  assert.equal(o.status, "failed");
  assert.equal(o.errors?.[0].code, "retries_exhausted");
  assert.equal(o.http_status, 503);
  assert.equal(o.attempts, 3);
  assert.equal(server.received.length, 3);
  assert.equal(sleeps.length, 2);
});

test("track never throws: unserializable, untyped and after-close events settle as failed", async () => {
  const { client, server } = await setup();
  const bigint = await client.track("app_open", { properties: { n: 1n } } as never);
  assert.equal(bigint.status, "failed");
  assert.equal(bigint.errors?.[0].code, "invalid_event");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal((await client.track("app_open", { properties: cyclic } as never)).errors?.[0].code, "invalid_event");
  assert.equal((await client.track("" as never)).errors?.[0].code, "missing_required_field");
  assert.equal((await client.trackBatch([null as never]))[0].status, "failed");
  const pending = client.track("app_open", appOpen(1));
  const closed = await client.close();
  assert.equal(closed.length, 1);
  assert.equal((await pending).status, "accepted");
  const late = await client.track("app_open", appOpen(2));
  assert.equal(late.errors?.[0].code, "client_closed");
  assert.equal(server.received.flatMap(ids).length, 1);
});

test("a full buffer refuses further events instead of growing without bound", async () => {
  const { client } = await setup(undefined, { maxBufferedEvents: 3, maxBatchEvents: 10 });
  const outcomes = [0, 1, 2, 3].map((i) => client.track("app_open", appOpen(i)));
  await client.flush();
  const settled = await Promise.all(outcomes);
  assert.deepEqual(settled.map((o) => o.status), ["accepted", "accepted", "accepted", "failed"]);
  assert.equal(settled[3].errors?.[0].code, "buffer_full");
});

test("flush waits for batches already in flight, and concurrency bounds parallel requests", async () => {
  let inFlight = 0;
  let most = 0;
  const server = await fakeServer(acceptAll);
  servers.push(server);
  const slowFetch: typeof fetch = async (input, init) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 20));
    try {
      return await fetch(input, init);
    } finally {
      inFlight--;
    }
  };
  const client = new FunnelClient({ url: server.url, secret: SECRET, maxBatchEvents: 10, concurrency: 2, fetch: slowFetch, flushIntervalMs: 0 });
  for (let i = 0; i < 95; i++) void client.track("app_open", appOpen(i));
  const all = await client.flush();
  assert.equal(all.length, 95);
  assert.ok(all.every((o) => o.status === "accepted"));
  assert.equal(most, 2);
  assert.equal(server.received.length, 10);
});

test("backoff doubles up to its cap, jitters between half and all, and never undercuts Retry-After", () => {
  const opts = { baseMs: 100, maxMs: 1000, retryAfterMaxMs: 8000 };
  assert.equal(backoffMs(1, null, opts, () => 0), 50);
  assert.equal(backoffMs(1, null, opts, () => 1), 100);
  assert.equal(backoffMs(3, null, opts, () => 1), 400);
  assert.equal(backoffMs(10, null, opts, () => 1), 1000);
  assert.equal(backoffMs(1, 700, opts, () => 0), 700);
  assert.equal(backoffMs(1, 5000, opts, () => 0), 5000, "Retry-After is obeyed beyond maxMs");
  assert.equal(backoffMs(1, 5000, opts, () => 1), 6250, "and jittered up to a quarter later");
  assert.equal(backoffMs(1, 60_000, opts, () => 0), 8000, "up to retryAfterMaxMs");
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs("Wed, 02 Dec 2026 10:00:10 GMT", Date.parse("2026-12-02T10:00:00Z")), 10_000);
  assert.equal(retryAfterMs("soon"), null);
  assert.equal(retryAfterMs(null), null);
});
