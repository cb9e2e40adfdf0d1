// The console keeps the D1 session bookmark (X-Funnel-Bookmark) and sends it
// back: after a quarantine replay, the list it reloads is asked with the
// replay's bookmark (or a newer one), so the operator reads their own write
// even from a read replica. Fails if the console stopped sending the header,
// or the worker stopped answering it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import "../e2e/client.mjs";
import { launchChromium } from "./chromium.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const HEADER = "x-funnel-bookmark";

let browser;
let chromiumSession;

before(async () => {
  chromiumSession = await launchChromium({
    locale: "en-US",
    viewport: { width: 1280, height: 900 },
  });
  browser = chromiumSession.context;
});

after(async () => {
  await chromiumSession?.close();
});

test("after a quarantine replay the console reloads the list with the replay's bookmark, and keeps the newest one in sessionStorage", async () => {
  const page = await browser.newPage();
  const answered = [];
  page.on("response", (res) => { const b = res.headers()[HEADER]; if (b) answered.push(b); });
  /** The next answer to `method path`, with the bookmark its request sent and the one it answered. */
  const exchange = async (method, path) => {
    const res = await page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path);
    return { sent: (await res.request().allHeaders())[HEADER] ?? null, answered: res.headers()[HEADER] ?? null, status: res.status() };
  };
  const firstList = exchange("GET", "/internal/quarantine");
  await page.goto(`${BASE}/cp/auth-commerce-funnel/#quarantine`);
  await page.waitForSelector("#key-dialog[open]");
  await page.fill("#key-input", SECRETS.INTERNAL_API_KEY);
  await page.click("#key-submit");
  const list = await firstList;
  assert.equal(list.status, 200);
  assert.ok(list.answered, `the quarantine list answered no ${HEADER}`);
  await page.waitForSelector("#replay");

  const replayed = exchange("POST", "/internal/quarantine/replay");
  const reloaded = exchange("GET", "/internal/quarantine");
  await page.click("#replay");
  const replay = await replayed;
  assert.equal(replay.status, 200);
  assert.ok(replay.answered, "the replay answered no bookmark");
  assert.ok(replay.sent && replay.sent >= list.answered, `the replay was sent with ${replay.sent}, not the list's bookmark ${list.answered}`);
  const reload = await reloaded;
  assert.ok(reload.sent && reload.sent >= replay.answered,
    `the reload after the replay sent ${reload.sent}, not the replay's bookmark ${replay.answered}`);
  await page.waitForSelector(".replay-result:not(:empty)");

  const kept = await page.evaluate(() => sessionStorage.getItem("funnel.bookmark"));
  assert.equal(kept, answered.sort().at(-1));
  await page.close();
});

test("a bookmark the service refuses is dropped, so the console recovers on Retry", async () => {
  const page = await browser.newPage();
  await page.addInitScript((key) => {
    sessionStorage.setItem("funnel.key", key);
    sessionStorage.setItem("funnel.bookmark", "not a bookmark");
  }, SECRETS.INTERNAL_API_KEY);
  await page.goto(`${BASE}/cp/auth-commerce-funnel/#catalog`);
  await page.waitForSelector('.state.error[data-code="invalid_bookmark"] button.retry');
  assert.equal(await page.evaluate(() => sessionStorage.getItem("funnel.bookmark")), null);
  await page.click(".state.error button.retry");
  await page.waitForSelector("table.catalog");
  assert.ok(await page.evaluate(() => sessionStorage.getItem("funnel.bookmark")));
  await page.close();
});
