// The console's alerts screen in a real browser, checked against
// GET /internal/alerts: the open incidents and those resolved recently (same
// ids, in the same order, with their rule and scope), the declared rules, and
// the webhook line. An AI-organize failure spike is made first, so there is an
// open incident to show whatever ran before.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ingestSigned, uid } from "../e2e/client.mjs";
import { launchChromium, watchErrors } from "./chromium.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const AUTH = { authorization: `Bearer ${SECRETS.READ_KEY}` };

let browser;
let chromiumSession;
let page;
const pageErrors = [];

async function api(path) {
  const res = await fetch(BASE + path, { headers: AUTH });
  assert.equal(res.status, 200, path);
  return res.json();
}

before(async () => {
  chromiumSession = await launchChromium({
    locale: "ko-KR",
    timezoneId: "Asia/Seoul",
    viewport: { width: 1280, height: 900 },
  });
  browser = chromiumSession.context;
  page = await browser.newPage();
  await watchErrors(page, pageErrors);
});

after(async () => {
  await chromiumSession?.close();
});

/** What a table of the screen shows: each row's id, rule name and scope. */
const rows = (cls) => page.$$eval(`table.${cls} tbody tr`, (trs) => trs.map((tr) => ({
  id: Number(tr.dataset.id),
  rule: tr.querySelector(".alert-rule").title,
  scope: tr.querySelector(".alert-scope").textContent,
})));
const expected = (list) => list.map((i) => ({ id: i.id, rule: i.rule, scope: i.scope || "–" }));

test("the alerts screen shows the API's open and recent incidents, its rules and its webhooks", async () => {
  const tag = uid("organize");
  const failed = Array.from({ length: 12 }, (_, i) => ({ event_type: "ai_organize_failed", event_id: `${tag}_${i}` }));
  assert.equal((await ingestSigned({ events: failed })).status, 200);
  const cron = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  assert.equal(cron.status, 200);

  const list = await api("/internal/alerts");
  assert.ok(list.open.some((i) => i.rule === "ai_organize_failure_rate"), JSON.stringify(list.open));

  await page.goto(`${BASE}/`);
  await page.waitForSelector("#key-dialog[open]");
  await page.fill("#key-input", SECRETS.READ_KEY);
  await page.click("#key-submit");
  await page.waitForSelector("[data-nav=alerts]");
  await page.click("[data-nav=alerts]");
  await page.waitForSelector("table.alerts-open");
  await page.waitForFunction(() => !document.querySelector(".state.loading"));

  assert.deepEqual(await rows("alerts-open"), expected(list.open));
  if (list.recent.length) {
    assert.deepEqual(await rows("alerts-recent"), expected(list.recent));
  } else {
    assert.equal(await page.$$eval("table.alerts-recent", (t) => t.length), 0);
  }
  const organize = list.open.find((i) => i.rule === "ai_organize_failure_rate");
  const summary = await page.$eval(`table.alerts-open tr[data-id="${organize.id}"]`, (tr) => tr.textContent);
  assert.ok(summary.includes(organize.summary), summary);
  assert.ok(summary.includes("AI 정리 실패율 30% 초과"), "the rule's Korean label");

  const rules = await page.$$eval("table.alert-rules tbody tr .alert-rule", (s) => s.map((e) => e.title));
  assert.deepEqual(rules, list.rules.map((r) => r.name));
  assert.equal(list.webhooks, 1, "run.mjs configures one receiver");
  assert.equal(await page.textContent("#alert-webhooks"), "알림을 보내는 웹훅: 1");
  assert.deepEqual(pageErrors, []);
});
