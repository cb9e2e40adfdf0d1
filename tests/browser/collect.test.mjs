// Browser collection in a real browser (Debian Chromium via playwright-core):
// two tiny pages on two loopback origins (two ports). The listed one loads the
// browser build of the client (clients/js/src/browser.ts, bundled here) and
// its events arrive when the page is left (pagehide → sendBeacon); the other
// origin is blocked by CORS and its requests (fetch, no-cors, beacon) refused by the worker; the
// publishable key sends no other type and reads nothing; the listed page can read
// a 413 (CORS on the shell's refusals); a sandboxed frame (origin "null") sends nothing.
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

/** A page server: `/` is a blank page (`/no-referrer` the same with `Referrer-Policy: no-referrer`), `/funnel-browser.js` the browser build. */
function serve(port, script) {
  const server = createServer((req, res) => {
    if (req.url === "/funnel-browser.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(script);
    } else if (req.url === "/no-referrer") {
      // A page whose referrer policy withholds its origin: its beacons leave with `Origin: null`.
      res.writeHead(200, { "content-type": "text/html", "referrer-policy": "no-referrer" });
      res.end("<!doctype html><title>site</title><script src=\"/funnel-browser.js\"></script><body>site</body>");
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

test("the listed origin's page can read a 413 (the shell's refusal carries CORS headers); another origin's cannot", async () => {
  const read = async (origin) => {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const outcome = await page.evaluate(async ({ url, key }) => {
      try {
        const res = await fetch(`${url}/collect?key=${key}`, {
          method: "POST",
          headers: { "content-type": "text/plain;charset=UTF-8" },
          body: " ".repeat(65_537),
        });
        return `read ${res.status} ${(await res.json()).code}`;
      } catch (e) {
        return `blocked: ${e.name}`;
      }
    }, { url: BASE, key: PK });
    await page.close();
    return outcome;
  };
  assert.equal(await read(ALLOWED), "read 413 payload_too_large");
  assert.equal(await read(OTHER), "blocked: TypeError");
});

test("a sandboxed frame (origin \"null\") is told once in the console and sends nothing; a no-referrer page of the listed origin still sends from Chromium", async () => {
  const page = await browser.newPage();
  const said = [];
  page.on("console", (m) => said.push(m.text()));
  const collects = [];
  page.on("request", (r) => r.url().includes("/collect") && collects.push(r.url()));
  await page.goto(`${ALLOWED}/`);
  // A sandboxed iframe (no allow-same-origin): `location.origin` is "null".
  await page.evaluate(({ url, key, script }) => new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.sandbox = "allow-scripts";
    frame.srcdoc = `<script src="${script}"></script><script>
      const s = window.funnel.init({ url: "${url}", key: "${key}", flushIntervalMs: 0 });
      s.track("m_page_view", { anonymous_id: "a" });
      s.flush();
      console.log("frame done " + location.origin);
    </script>`;
    frame.onload = resolve;
    document.body.append(frame);
  }), { url: BASE, key: PK, script: `${ALLOWED}/funnel-browser.js` });
  for (let i = 0; i < 20 && !said.some((t) => t.startsWith("frame done")); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(said.includes("frame done null"), said.join(" | "));
  assert.equal(said.filter((t) => t.includes('origin is "null"')).length, 1, said.join(" | "));
  assert.deepEqual(collects, [], "the frame made no request");
  await page.close();

  // A page of the listed origin served with Referrer-Policy: no-referrer. The Fetch standard
  // sends `Origin: null` for its no-cors POSTs (refused, as above); Chromium sends the page's
  // origin for its beacons and no-cors requests all the same, so they arrive (docs/api.md).
  const strict = await browser.newPage();
  await strict.goto(`${ALLOWED}/no-referrer`);
  const ids = { opaque: uid("noref"), beacon: uid("noref") };
  await strict.evaluate(async ({ url, key, ids }) => {
    const body = JSON.stringify({ events: [{ event_type: "m_page_view", event_id: ids.opaque, anonymous_id: "a" }] });
    await fetch(`${url}/collect?key=${key}`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body });
    const s = window.funnel.init({ url, key, flushIntervalMs: 0 });
    s.track("m_page_view", { event_id: ids.beacon });
  }, { url: BASE, key: PK, ids });
  await strict.goto("about:blank");
  let arrived = [];
  for (let i = 0; i < 40 && arrived.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 250));
    arrived = await stored("m_page_view", Object.values(ids));
  }
  assert.deepEqual(arrived.map((e) => e.event_id).sort(), Object.values(ids).sort());
  await strict.close();
});
