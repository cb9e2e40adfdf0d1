import assert from "node:assert/strict";
import { test } from "node:test";

import { FunnelBrowser, MAX_BEACON_BYTES, OPAQUE_ORIGIN_WARNING, packBeacons, type BrowserOptions } from "../src/browser";

/** A page: event targets for window and document, a beacon that records (or refuses), a fetch that records. */
function page(options: Partial<BrowserOptions> & { beaconAccepts?: boolean } = {}) {
  const beacons: Array<{ url: string; body: string }> = [];
  const fetches: Array<{ url: string; init: RequestInit }> = [];
  const warnings: string[] = [];
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
  const stored = new Map<string, string>();
  let n = 0;
  const funnel = new FunnelBrowser({
    url: "https://funnel.example/", key: "pk_docs0123456789abcdef", flushIntervalMs: 0,
    window: win, document: doc,
    sendBeacon: (url, body) => {
      if (options.beaconAccepts === false) return false;
      beacons.push({ url, body });
      return true;
    },
    fetch: async (url, init) => void fetches.push({ url, init }),
    storage: { getItem: (k) => stored.get(k) ?? null, setItem: (k, v) => void stored.set(k, v) },
    randomBytes: (len) => new Uint8Array(len).fill(++n),
    now: () => new Date("2026-12-03T10:00:00Z"),
    warn: (m) => warnings.push(m),
    ...options,
  });
  const hide = () => {
    doc.visibilityState = "hidden";
    doc.dispatchEvent(new Event("visibilitychange"));
  };
  const events = () => beacons.flatMap((b) => JSON.parse(b.body).events);
  return { funnel, beacons, fetches, warnings, win, doc, hide, events, stored };
}

test("queues events and sends them in one beacon when the page is hidden, with ids, times and the visitor's id", () => {
  const p = page();
  p.funnel.track("page_view", { properties: { page_name: "pricing" } });
  p.funnel.track("search", { properties: { search_term: "prompt" } });
  assert.equal(p.beacons.length, 0, "nothing leaves while the page is visible");
  p.doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(p.beacons.length, 0, "a visibilitychange to visible sends nothing");
  p.hide();
  assert.equal(p.beacons.length, 1);
  assert.equal(p.beacons[0].url, "https://funnel.example/collect?key=pk_docs0123456789abcdef");
  const [view, search] = p.events();
  assert.equal(view.event_type, "page_view");
  assert.equal(search.event_type, "search");
  assert.match(view.event_id, /^evt_[0-9a-f]{32}$/);
  assert.notEqual(view.event_id, search.event_id);
  assert.equal(view.occurred_at, "2026-12-03T10:00:00.000Z");
  assert.equal(view.anonymous_id, p.funnel.anonymousId);
  assert.equal(p.stored.get("funnel_anonymous_id"), p.funnel.anonymousId, "the visitor's id is kept");
  p.hide();
  assert.equal(p.beacons.length, 1, "an empty queue sends nothing");
});

test("pagehide sends what is queued too", () => {
  const p = page();
  p.funnel.track("engagement", { properties: { engagement_type: "scroll" } });
  p.win.dispatchEvent(new Event("pagehide"));
  assert.equal(p.events().length, 1);
});

test("splits into beacons of at most 64 KiB and 500 events, each event sent once", () => {
  const p = page();
  const long = "x".repeat(900);
  for (let i = 0; i < 200; i++) p.funnel.track("page_view", { properties: { page_name: `p${i}`, page_path: long } });
  p.funnel.flush();
  assert.ok(p.beacons.length >= 3, `${p.beacons.length} beacons`);
  for (const b of p.beacons) assert.ok(new TextEncoder().encode(b.body).length <= MAX_BEACON_BYTES);
  assert.deepEqual(p.events().map((e) => e.properties.page_name), [...Array(200).keys()].map((i) => `p${i}`));
  const small = packBeacons(Array.from({ length: 1200 }, (_, i) => JSON.stringify({ i })));
  assert.deepEqual(small.bodies.map((b) => JSON.parse(b).events.length), [500, 500, 200]);
  const huge = packBeacons([JSON.stringify({ x: "y".repeat(MAX_BEACON_BYTES) }), "{}"]);
  assert.equal(huge.tooLarge.length, 1);
  assert.equal(huge.bodies.length, 1);
});

test("falls back to a keepalive text/plain fetch when the beacon is refused", () => {
  const p = page({ beaconAccepts: false });
  p.funnel.track("page_view", { properties: { page_name: "home" } });
  p.funnel.flush();
  assert.equal(p.fetches.length, 1);
  const { url, init } = p.fetches[0];
  assert.equal(url, "https://funnel.example/collect?key=pk_docs0123456789abcdef");
  assert.equal(init.keepalive, true);
  assert.equal(init.method, "POST");
  assert.equal(init.credentials, "omit");
  assert.deepEqual(init.headers, { "content-type": "text/plain;charset=UTF-8" });
  assert.equal(JSON.parse(String(init.body)).events[0].event_type, "page_view");
});

test("track never throws: a type a page may not send and an unserializable event are dropped with a warning", () => {
  const p = page();
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.doesNotThrow(() => (p.funnel.track as (t: string, f?: unknown) => void)("purchase_completed", { properties: { amount: 1 } }));
  assert.doesNotThrow(() => p.funnel.track("page_view", { properties: { page_name: "x", page_title: circular as never } }));
  p.funnel.flush();
  assert.equal(p.beacons.length, 0);
  assert.equal(p.warnings.length, 2, p.warnings.join("\n"));
  assert.match(p.warnings[0], /purchase_completed cannot be sent from a browser/);
});

test("close sends what is left and stops listening", () => {
  const p = page();
  p.funnel.track("page_view", { properties: { page_name: "a" } });
  p.funnel.close();
  assert.equal(p.events().length, 1);
  p.funnel.track("page_view", { properties: { page_name: "b" } });
  p.hide();
  assert.equal(p.events().length, 1, "no listener after close");
});

test("a page whose origin is \"null\" is told once in the console and sends nothing, without throwing", () => {
  const p = page({ origin: "null" });
  assert.deepEqual(p.warnings, [OPAQUE_ORIGIN_WARNING]);
  assert.match(p.warnings[0], /origin_not_allowed/);
  p.funnel.track("page_view", { properties: { page_name: "pricing" } });
  p.funnel.track("search", { properties: { search_term: "x" } });
  p.hide();
  p.funnel.close();
  assert.equal(p.beacons.length + p.fetches.length, 0);
  assert.equal(p.warnings.length, 1, "said once");
  const listed = page({ origin: "https://docs.example.com" });
  listed.funnel.track("page_view", { properties: { page_name: "pricing" } });
  listed.hide();
  assert.equal(listed.beacons.length, 1);
  assert.deepEqual(listed.warnings, []);
});
