// Browser collection in a real browser (Debian Chromium via playwright-core):
// two tiny pages on two loopback origins (two ports). The listed one loads the
// browser build of the client (clients/js/src/browser.ts, bundled here) and
// its events arrive when the page is left (pagehide → sendBeacon); the other
// origin is blocked by CORS and its requests (fetch, no-cors, beacon) refused by the worker; the
// publishable key sends no other type and reads nothing.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { bundleBrowser } from "../../clients/js/build.mjs";
// Every answer this test reads from the worker is checked against docs/openapi.json too.
import { uid } from "../e2e/client.mjs";
import { launchChromium } from "./chromium.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const VARS = JSON.parse(process.env.FUNNEL_VARS ?? "{}");
const PORTS = JSON.parse(process.env.FUNNEL_COLLECT_PORTS ?? "{}");
const PK = (VARS.PUBLISHABLE_KEYS ?? "").split(":")[0];
const ALLOWED = `http://127.0.0.1:${PORTS.allowed}`;
const OTHER = `http://127.0.0.1:${PORTS.other}`;
const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };

let browser;
let chromiumSession;
let build;
const servers = [];

/** A page server: `/` is a blank page, `/funnel-browser.js` the browser build. */
function serve(port, script) {
  const server = createServer((req, res) => {
    if (req.url === "/funnel-browser.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(script);
    } else {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>site</title><script src=\"/funnel-browser.js\"></script><body>site</body>");
    }
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
}

async function stored(type, ids) {
  const res = await fetch(`${BASE}/internal/funnel-events?type=${type}&limit=500`, { headers: AUTH });
  assert.equal(res.status, 200);
  const { events } = await res.json();
  return events.filter((e) => ids.includes(e.event_id));
}

before(async () => {
  assert.ok(PK.startsWith("pk_") && PORTS.allowed && PORTS.other, "run.mjs configures the site and its ports");
  build = mkdtempSync(join(tmpdir(), "funnel-browser-build-"));
  const script = readFileSync((await bundleBrowser(build)).iife, "utf8");
  await serve(PORTS.allowed, script);
  await serve(PORTS.other, script);
  chromiumSession = await launchChromium();
  browser = chromiumSession.context;
});

after(async () => {
  await chromiumSession?.close();
  for (const s of servers) s.close();
  if (build) rmSync(build, { recursive: true, force: true });
});

test("a page of the listed origin sends events with the browser build; they arrive when the page is left", async () => {
  const page = await browser.newPage();
  await page.goto(`${ALLOWED}/`);
  const ids = [uid("view"), uid("view"), uid("view")];
  await page.evaluate(({ url, key, ids }) => {
    const sender = window.funnel.init({ url, key, flushIntervalMs: 0 });
    for (const id of ids) sender.track("m_page_view", { event_id: id, properties: { page_path: location.pathname } });
    // A money type is not sent at all by the client.
    sender.track("purchase_completed", { properties: { amount: 1 } });
  }, { url: BASE, key: PK, ids });
  assert.equal((await stored("m_page_view", ids)).length, 0, "nothing is sent while the page is open");
  // Leaving the page fires pagehide: the queued events go out by sendBeacon.
  await page.goto("about:blank");
  let arrived = [];
  for (let i = 0; i < 40 && arrived.length < ids.length; i++) {
    await new Promise((r) => setTimeout(r, 250));
    arrived = await stored("m_page_view", ids);
  }
  assert.deepEqual(arrived.map((e) => e.event_id).sort(), [...ids].sort());
  assert.ok(arrived.every((e) => e.source === "e2e-site" && e.anonymous_id?.startsWith("anon_")), JSON.stringify(arrived[0]));
  await page.close();
});

test("a page of another origin is blocked by CORS and refused by the worker; nothing it sent is stored", async () => {
  const page = await browser.newPage();
  await page.goto(`${OTHER}/`);
  const ids = { cors: uid("other"), opaque: uid("other"), beacon: uid("other") };
  const outcome = await page.evaluate(async ({ url, key, ids }) => {
    const body = (id) => JSON.stringify({ events: [{ event_type: "m_page_view", event_id: id, anonymous_id: "a" }] });
    const target = `${url}/collect?key=${key}`;
    const headers = { "content-type": "text/plain;charset=UTF-8" };
    let cors;
    try {
      const res = await fetch(target, { method: "POST", headers, body: body(ids.cors) });
      cors = `read ${res.status}`;
    } catch (e) {
      cors = `blocked: ${e.name}`;
    }
    // Requests the browser sends whatever the answer's CORS headers (the page just cannot read
    // the answer): only the worker's origin check keeps them out.
    await fetch(target, { method: "POST", mode: "no-cors", headers, body: body(ids.opaque) });
    const sender = window.funnel.init({ url, key, flushIntervalMs: 0 });
    sender.track("m_page_view", { event_id: ids.beacon });
    const beacons = sender.flush();
    return { cors, beacons };
  }, { url: BASE, key: PK, ids });
  assert.equal(outcome.cors, "blocked: TypeError", "the page cannot read the answer");
  assert.equal(outcome.beacons, 1, "the beacon was handed to the browser");
  await page.goto("about:blank");
  // The same requests from the listed origin are stored within a second (first test); give these longer.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(await stored("m_page_view", Object.values(ids)), []);
  await page.close();
});

test("from the listed origin the publishable key sends no other type and reads nothing", async () => {
  const page = await browser.newPage();
  await page.goto(`${ALLOWED}/`);
  const ids = { money: uid("money"), metered: uid("metered") };
  const outcome = await page.evaluate(async ({ url, key, ids }) => {
    const res = await fetch(`${url}/collect?key=${key}`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ events: [
        { event_type: "purchase_completed", event_id: ids.money, properties: { amount: 10, currency: "USD" } },
        { event_type: "compile_prompt", event_id: ids.metered, user_id: "u1", properties: { prompt_id: "p1", model_type: "claude" } },
      ] }),
    });
    const body = await res.json();
    let read;
    try {
      const r = await fetch(`${url}/internal/funnel-events`, { headers: { authorization: `Bearer ${key}` } });
      read = `read ${r.status}`;
    } catch (e) {
      read = `blocked: ${e.name}`;
    }
    return { status: res.status, codes: body.results?.map((r) => r.errors.map((e) => e.code)), read };
  }, { url: BASE, key: PK, ids });
  // Every event refused: a problem with the per-event results, readable by the listed origin.
  assert.equal(outcome.status, 422, JSON.stringify(outcome));
  assert.ok(outcome.codes.every((c) => c.includes("not_browser_safe")), JSON.stringify(outcome));
  assert.equal(outcome.read, "blocked: TypeError", "a read with the key is refused (no CORS for reads)");
  assert.equal((await stored("purchase_completed", [ids.money])).length, 0);
  assert.equal((await stored("compile_prompt", [ids.metered])).length, 0);
  await page.close();
});
