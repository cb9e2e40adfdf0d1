// The operator console in a real browser (Debian Chromium via playwright-core)
// against the running worker: demo data, key prompt, KPI cards = summary API,
// trace filter and timeline, language switch, feed paging, the key's role from
// whoami (screens and actions hidden accordingly, 403 said in words), the
// access log, no CSP violation. Screenshots of every screen go to
// test-artifacts/console/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
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
const pageErrors = [];
/** Every `GET /internal/whoami` the main page sent. */
const whoamiCalls = [];

async function api(path, headers = AUTH) {
  const res = await fetch(BASE + path, { headers });
  assert.equal(res.status, 200, path);
  return res.json();
}

const bearer = (key) => ({ authorization: `Bearer ${key}` });
const fingerprint = (email) => createHmac("sha256", SECRETS.EMAIL_FINGERPRINT_KEY).update(email.trim().toLowerCase()).digest("hex");
const rangeQuery = (tz = TZ) => `from=${seoulDate(-13)}&to=${seoulDate(1)}&tz=${encodeURIComponent(tz)}`;
const SCREENS = ["summary", "trends", "funnel", "feed", "trace", "ops", "catalog", "quarantine", "usage", "audit"];
/** admin-ui/src/i18n.ts `forbidden` and `ingestOnly`, in both languages. */
const FORBIDDEN = {
  ko: "이 키의 역할로는 이 작업을 할 수 없습니다. 권한이 있는 키로 다시 시도하세요.",
  en: "This key's role does not allow this. Try again with a key that may do it.",
};
const INGEST_ONLY = {
  ko: "이 키는 이벤트 전송(ingest) 전용이라 데이터를 읽을 수 없습니다.",
  en: "This key can only send events (ingest); it cannot read any data.",
};

/** Waits until the console's current screen finished loading. */
async function settled(p) {
  await p.waitForFunction(() => !document.querySelector(".state.loading"), null, { timeout: 20_000 });
}

/**
 * A second tab (its own sessionStorage, so its own key) that records its
 * whoami calls and its errors; refused calls (401/403) are expected there.
 */
async function tab() {
  const p = await browser.newPage();
  const errors = [];
  const whoami = [];
  p.on("console", (m) => { if (m.type() === "error" && !/status of 40[13]/.test(m.text())) errors.push(m.text()); });
  p.on("pageerror", (e) => errors.push(String(e)));
  p.on("request", (r) => { if (new URL(r.url()).pathname === "/internal/whoami") whoami.push(r.url()); });
  await p.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { p, errors, whoami };
}

/** Waits until the access-log table shows exactly these entries, in this order. */
async function auditRows(ids) {
  await page.waitForFunction((want) => {
    const got = [...document.querySelectorAll("table.audit tbody tr")].map((tr) => Number(tr.dataset.id));
    return !document.querySelector(".state.loading") && JSON.stringify(got) === JSON.stringify(want);
  }, ids, { timeout: 20_000 });
}

async function enterKey(p, key) {
  await p.waitForSelector("#key-dialog[open]");
  await p.fill("#key-input", key);
  await p.click("#key-submit");
}

function seoulDate(offsetDays) {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

async function shot(name, p = page) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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
  page.on("request", (r) => { if (new URL(r.url()).pathname === "/internal/whoami") whoamiCalls.push(r.url()); });
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

test("the header shows the key's name and role from whoami, asked once for the key; an admin key sees every screen", async () => {
  const me = await api("/internal/whoami");
  assert.equal(me.role, "admin");
  assert.equal(await page.textContent("#whoami"), `${me.key} · admin`);
  assert.equal(await page.getAttribute("#whoami", "data-role"), "admin");
  assert.deepEqual(await page.$$eval("nav [data-nav]", (as) => as.map((a) => a.dataset.nav)), SCREENS);
  for (const screen of ["feed", "catalog", "usage", "summary"]) await open(screen, `[data-screen=${screen}]`);
  assert.equal(whoamiCalls.length, 1, "one whoami call for the key, however many screens were opened");
});

test("KPI cards show the summary API's numbers for the same period and zone", async () => {
  const s = await api(`/internal/funnel-events/summary?from=${seoulDate(-13)}&to=${seoulDate(1)}&tz=${encodeURIComponent(TZ)}`);
  const cards = await page.$$eval("[data-kpi]", (els) => els.map((e) => [e.dataset.kpi, e.querySelector(".card-value").textContent]));
  assert.ok(cards.length >= 20, `${cards.length} cards`);
  const fmt = (k) => {
    if (k.value == null) return "–";
    if (k.unit === "money") {
      return k.value.map((c) => new Intl.NumberFormat("ko-KR", { style: "currency", currency: c.currency }).format(c.amount)).join(" · ");
    }
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

test("the access log lists the feed search by email just made in the console, in the chosen zone, filtered by subject and key", async () => {
  // Other lookups first: two by this key, and one by the read key when the harness has one.
  const lookup = (headers) => api(`/internal/funnel-events?email_fingerprint=${randomBytes(32).toString("hex")}&limit=1`, headers);
  await lookup(AUTH);
  await lookup(AUTH);
  if (SECRETS.READ_KEY) await lookup(bearer(SECRETS.READ_KEY));
  const email = `audit-${randomBytes(6).toString("hex")}@example.com`;
  const fp = fingerprint(email);
  await open("feed", "table.feed");
  await page.fill("#feed-filters input[name=q_email]", email);
  const searched = page.waitForResponse((r) => r.url().includes("/internal/funnel-events?") && r.url().includes("q_email="));
  await page.click("#feed-filters button[type=submit]");
  assert.equal((await searched).status(), 200);

  await open("audit", "table.audit");
  // The table is the API's first page for the same period and zone, in order.
  const apiPage = await api(`/internal/audit?${rangeQuery()}&limit=50`);
  const ids = await page.$$eval("table.audit tbody tr", (trs) => trs.map((tr) => Number(tr.dataset.id)));
  assert.deepEqual(ids, apiPage.entries.map((e) => e.id));
  const entry = apiPage.entries.find((e) => e.subject === fp);
  assert.ok(entry, "the API logged the console's search by email");
  assert.equal(entry.kind, "email_fingerprint");
  assert.equal(entry.route, "GET /internal/funnel-events");
  assert.ok(!JSON.stringify(apiPage).includes(email), "the log holds no address");
  const cells = () => page.$eval(`table.audit tr[data-id="${entry.id}"]`, (tr) => {
    const subject = tr.querySelector(".audit-subject");
    return { cells: [...tr.cells].map((c) => c.textContent), subject: subject.textContent, title: subject.title };
  });
  const fmt = (iso, tz) => page.evaluate(([at, zone]) => new Intl.DateTimeFormat("ko-KR", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).format(new Date(at)), [iso, tz]);
  const row = await cells();
  assert.deepEqual(row.cells, [await fmt(entry.at, TZ), entry.key_name, "GET /internal/funnel-events", "email_fingerprint", `${fp.slice(0, 8)}…`, String(entry.rows)]);
  assert.equal(row.title, fp, "the whole fingerprint is in the title");
  await shot("audit");

  // Another zone: the same entry at its UTC time, then back.
  const timeIs = async (tz) => page.waitForFunction(([id, t]) => document.querySelector(`table.audit tr[data-id="${id}"] td`)?.textContent === t,
    [entry.id, await fmt(entry.at, tz)], { timeout: 20_000 });
  await page.selectOption("select[name=tz]", "UTC");
  await timeIs("UTC");
  await page.selectOption("select[name=tz]", TZ);
  await timeIs(TZ);
  await settled(page);

  // Filter by subject: only that person's entries, as the API lists them.
  const bySubject = await api(`/internal/audit?${rangeQuery()}&subject=${fp}`);
  assert.deepEqual(bySubject.entries.map((e) => e.id), [entry.id]);
  await page.fill("#audit-filters input[name=subject]", fp);
  await page.click("#audit-filters button[type=submit]");
  await auditRows([entry.id]);
  await shot("audit-subject");

  // Filter by key: that key's entries, as the API lists them.
  const byKey = await api(`/internal/audit?${rangeQuery()}&key=${encodeURIComponent(entry.key_name)}&limit=50`);
  assert.ok(byKey.entries.length >= 3 && byKey.entries.every((e) => e.key_name === entry.key_name));
  if (SECRETS.READ_KEY) assert.ok(apiPage.entries.some((e) => e.key_name !== entry.key_name), "another key's entry is filtered out");
  await page.fill("#audit-filters input[name=subject]", "");
  await page.fill("#audit-filters input[name=key]", entry.key_name);
  await page.click("#audit-filters button[type=submit]");
  await auditRows(byKey.entries.map((e) => e.id));
  const keys = await page.$$eval("table.audit tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.ok(keys.every((k) => k === entry.key_name), JSON.stringify(keys));
});

test("the access log pages with load more through next_cursor", async () => {
  // Enough entries for two pages: lookups by fingerprint, each logged.
  for (let i = 0; i < 55; i++) await api(`/internal/funnel-events?email_fingerprint=${randomBytes(32).toString("hex")}&limit=1`);
  const first = await api(`/internal/audit?${rangeQuery()}&limit=50`);
  assert.ok(first.next_cursor, "more than one page");
  const second = await api(`/internal/audit?${rangeQuery()}&limit=50&cursor=${encodeURIComponent(first.next_cursor)}`);
  await open("summary", "[data-kpi]");
  await open("audit", "table.audit");
  await auditRows(first.entries.map((e) => e.id));
  assert.equal(await page.isVisible("#audit-more"), true);
  await page.click("#audit-more");
  await auditRows([...first.entries, ...second.entries].map((e) => e.id));
  assert.equal(await page.isVisible("#audit-more"), !!second.next_cursor, "load more stays only while there is a next page");
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

test("a read key sees the read screens only, no replay, and a 403 in words without a new key prompt", {
  skip: !SECRETS.READ_KEY && "FUNNEL_SECRETS has no READ_KEY: tests/e2e/run.mjs must configure a read key in API_KEYS (see the report)",
}, async () => {
  const me = await api("/internal/whoami", bearer(SECRETS.READ_KEY));
  assert.equal(me.role, "read");
  const { p, errors, whoami } = await tab();
  try {
    await p.goto(`${BASE}/cp/auth-commerce-funnel/#quarantine`);
    await enterKey(p, SECRETS.READ_KEY);
    await p.waitForSelector("#whoami");
    await p.waitForSelector("[data-screen=quarantine] table.quarantine, [data-screen=quarantine] .state.empty");
    await settled(p);
    const lang = await p.evaluate(() => document.documentElement.lang);
    assert.equal(await p.textContent("#whoami"), `${me.key} · read`);
    assert.equal(await p.getAttribute("#whoami", "data-role"), "read");
    // No access log in the navigation (not there at all, not merely disabled); no replay button.
    assert.deepEqual(await p.$$eval("nav [data-nav]", (as) => as.map((a) => a.dataset.nav)), SCREENS.filter((s) => s !== "audit"));
    assert.equal(await p.$$eval("#replay", (b) => b.length), 0);
    await shot("read-key-quarantine", p);
    // The server agrees: the read key may not read the access log or replay.
    const refused = await fetch(`${BASE}/internal/audit`, { headers: bearer(SECRETS.READ_KEY) });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).code, "insufficient_scope");

    // Opened by its address, the access log shows the API's 403 in words; the key is kept and not asked again.
    await p.evaluate(() => { location.hash = "audit"; });
    await p.waitForSelector(".state.error[data-code=insufficient_scope]");
    const message = await p.textContent(".state.error");
    assert.ok(message.includes(FORBIDDEN[lang]), message);
    assert.ok(!message.includes("insufficient_scope") && !message.includes("403"), message);
    assert.equal(await p.$$eval("#key-dialog", (d) => d.length), 0, "a 403 does not ask for the key");
    assert.equal(await p.evaluate(() => sessionStorage.getItem("funnel.key")), SECRETS.READ_KEY);
    await shot("read-key-forbidden", p);

    // What the role allows still works.
    await p.evaluate(() => { location.hash = "feed"; });
    await p.waitForSelector("table.feed");
    assert.equal(whoami.length, 1, "one whoami call for the key");
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
  }
});

test("an ingest key is told it cannot read, and may enter another key", {
  skip: !SECRETS.INGEST_KEY && "FUNNEL_SECRETS has no INGEST_KEY: tests/e2e/run.mjs must configure an ingest key in API_KEYS",
}, async () => {
  const me = await api("/internal/whoami", bearer(SECRETS.INGEST_KEY));
  assert.equal(me.role, "ingest");
  const { p, errors, whoami } = await tab();
  try {
    await p.goto(`${BASE}/cp/auth-commerce-funnel/`);
    await enterKey(p, SECRETS.INGEST_KEY);
    await p.waitForSelector("#cannot-read");
    const lang = await p.evaluate(() => document.documentElement.lang);
    assert.equal(await p.textContent("#whoami"), `${me.key} · ingest`);
    assert.ok((await p.textContent("#cannot-read")).includes(INGEST_ONLY[lang]));
    assert.equal(await p.$$eval("nav, .period, [data-kpi]", (els) => els.length), 0, "no screen, no period, no data");
    await shot("ingest-key", p);
    // Another key: the console redraws for its role.
    await p.click("#other-key");
    await enterKey(p, SECRETS.INTERNAL_API_KEY);
    await p.waitForSelector('#whoami[data-role="admin"]');
    // The summary over everything the suite stored so far can take a while on a busy machine.
    await p.waitForSelector("[data-kpi]", { timeout: 90_000 });
    assert.equal(await p.getAttribute("#whoami", "data-role"), "admin");
    assert.equal(await p.$$eval("[data-nav=audit]", (a) => a.length), 1);
    assert.equal(whoami.length, 2, "one whoami call per key");
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
  }
});

test("no CSP violation or script error happened on any screen", () => {
  assert.deepEqual(pageErrors.filter((e) => !e.includes("401")), []);
});
