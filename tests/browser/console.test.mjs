// The operator console in a real browser (Debian Chromium via playwright-core)
// against the running worker: demo data, key prompt, KPI cards = summary API,
// trace filter and timeline, language switch, feed paging, no CSP violation.
// Screenshots of every screen go to test-artifacts/console/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

// Every answer this test reads from the worker is checked against docs/openapi.json too.
import "../e2e/client.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const ROOT = join(import.meta.dirname, "..", "..");
const SHOTS = join(ROOT, "test-artifacts", "console");
const TZ = "Asia/Seoul";
const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };

let browser;
let page;
let profile;
const violations = [];
const pageErrors = [];

async function api(path) {
  const res = await fetch(BASE + path, { headers: AUTH });
  assert.equal(res.status, 200, path);
  return res.json();
}

function seoulDate(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function open(hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready, { timeout: 20_000 });
  await page.waitForFunction(() => !document.querySelector(".state.loading"), null, { timeout: 20_000 });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const demo = spawnSync(process.execPath, [join(ROOT, "scripts", "demo.mjs"), "--persist-to", process.env.FUNNEL_D1_DIR], {
    encoding: "utf8", env: { ...process.env, INGEST_HMAC_SECRET: SECRETS.INGEST_HMAC_SECRET },
  });
  assert.equal(demo.status, 0, demo.stderr);
  profile = mkdtempSync(join(tmpdir(), "funnel-chromium-"));
  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    locale: "ko-KR",
    timezoneId: TZ,
    viewport: { width: 1280, height: 900 },
  });
  page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("the console asks for the key once, keeps it in sessionStorage only, and shows the summary", async () => {
  await page.goto(`${BASE}/`);
  assert.match(page.url(), /\/cp\/auth-commerce-funnel\/$/);
  await page.waitForSelector("#key-dialog[open]");
  await shot("key-prompt");
  await page.fill("#key-input", SECRETS.INTERNAL_API_KEY);
  await page.click("#key-submit");
  await page.waitForSelector("[data-kpi]");
  const storage = await page.evaluate(() => ({ session: sessionStorage.getItem("funnel.key"), local: JSON.stringify(localStorage), url: location.href }));
  assert.equal(storage.session, SECRETS.INTERNAL_API_KEY);
  assert.ok(!storage.local.includes(SECRETS.INTERNAL_API_KEY) && !storage.url.includes(SECRETS.INTERNAL_API_KEY));
  await shot("summary");
});

test("KPI cards show the summary API's numbers for the same period and zone", async () => {
  const s = await api(`/internal/funnel-events/summary?from=${seoulDate(-13)}&to=${seoulDate(1)}&tz=${encodeURIComponent(TZ)}`);
  const cards = await page.$$eval("[data-kpi]", (els) => els.map((e) => [e.dataset.kpi, e.querySelector(".card-value").textContent]));
  assert.ok(cards.length >= 20, `${cards.length} cards`);
  const fmt = (k) => {
    if (k.value == null) return "–";
    if (k.unit === "krw") return new Intl.NumberFormat("ko-KR", { style: "currency", currency: "KRW" }).format(k.value);
    if (k.unit === "ratio") return new Intl.NumberFormat("ko-KR", { style: "percent", maximumFractionDigits: 1 }).format(k.value);
    if (k.unit === "count") return new Intl.NumberFormat("ko-KR").format(k.value);
    return String(k.value);
  };
  for (const [id, text] of cards) assert.equal(text, fmt(s.kpis[id]), id);
  assert.ok(s.kpis.pregoi_login_attempts.value > 0, "the demo data is in the period");
});

test("trends, funnel, ops, catalog, quarantine and usage screens render", async () => {
  await open("trends", "#trend-chart .uplot");
  await shot("trends");
  await open("funnel", "[data-funnel=auth_commerce] .step");
  await shot("funnel");
  await open("ops", "table.health");
  assert.equal(await page.$$eval("table.health tbody tr", (r) => r.length), 4);
  await shot("ops");
  await open("catalog", "table.catalog");
  await shot("catalog");
  await open("quarantine", "#replay");
  await shot("quarantine");
  await open("usage", "table.usage-summary");
  await shot("usage");
});

test("filtering the feed by trace_id shows that trace, and a row opens its timeline", async () => {
  const trace = "trace_demo_20_1";
  await open("feed", "table.feed");
  await shot("feed");
  await page.fill("#feed-filters input[name=trace_id]", trace);
  await page.click("#feed-filters button[type=submit]");
  await page.waitForFunction((t) => location.hash.includes(t), trace);
  await page.waitForSelector("table.feed tbody tr");
  const traces = await page.$$eval("table.feed .trace-link", (as) => as.map((a) => a.textContent));
  assert.ok(traces.length > 0 && traces.every((t) => t === trace), JSON.stringify(traces));
  await page.click("table.feed .trace-link");
  await page.waitForSelector("table.timeline tbody tr");
  const api_ = await api(`/internal/trace/${trace}`);
  assert.equal(await page.$$eval("table.timeline tbody tr", (r) => r.length), api_.events.length);
  await shot("trace");
});

test("the feed pages with load more, and the language switches to English", async () => {
  await open("feed", "table.feed");
  assert.equal(await page.$$eval("table.feed tbody tr", (r) => r.length), 50);
  await page.click("#load-more");
  await page.waitForFunction(() => document.querySelectorAll("table.feed tbody tr").length === 100);
  assert.equal(await page.textContent("[data-nav=summary]"), "요약");
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("[data-nav=summary]")?.textContent === "Summary");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  await shot("feed-english");
});

test("a wrong key is asked for again", async () => {
  await page.evaluate(() => sessionStorage.setItem("funnel.key", "wrong"));
  await page.evaluate(() => { location.hash = "catalog"; });
  await page.waitForSelector("#key-dialog[open]");
  await page.fill("#key-input", SECRETS.INTERNAL_API_KEY);
  await page.click("#key-submit");
  await page.waitForSelector("table.catalog");
});

test("a custom 90-day range is read in chunks behind a progress bar and charted", async () => {
  await page.click("[data-range=custom]");
  await page.fill(".custom input[name=from]", seoulDate(-89));
  await page.fill(".custom input[name=to]", seoulDate(0));
  const chunkRequests = [];
  const listener = (req) => { if (req.url().includes("/summary?")) chunkRequests.push(req.url()); };
  page.on("request", listener);
  await page.click(".custom button");
  await open("trends", "#trend-chart .uplot");
  page.off("request", listener);
  assert.ok(chunkRequests.length >= 3, `${chunkRequests.length} summary requests for 90 days`);
  await shot("trends-90-days");
  await page.click("[data-range='14d']");
});

test("no CSP violation or script error happened on any screen", () => {
  assert.deepEqual(pageErrors.filter((e) => !e.includes("401")), []);
});
