// The operator console in a real browser (Debian Chromium via playwright-core)
// against the running worker: demo data, key prompt, KPI cards = summary API,
// trace filter and timeline, language switch, feed paging, the key's role from
// whoami (screens and actions hidden accordingly, 403 said in words), the
// access log, no CSP violation. Screenshots of every screen go to
// test-artifacts/console/.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

// Every answer this test reads from the worker is checked against docs/openapi.json too.
import "../e2e/client.mjs";
import { loadDemo } from "../e2e/worker.mjs";
import { launchChromium, watchErrors } from "./chromium.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const ROOT = join(import.meta.dirname, "..", "..");
const SHOTS = join(ROOT, "test-artifacts", "console");
const TZ = "Asia/Seoul";
const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };

let browser;
let chromiumSession;
let page;
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
const SCREENS = ["summary", "trends", "funnel", "feed", "trace", "ops", "catalog", "quarantine", "usage", "audit", "alerts"];
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
  const whoami = [];
  const errors = await watchErrors(p, [], /status of 40[13]/);
  p.on("request", (r) => { if (new URL(r.url()).pathname === "/internal/whoami") whoami.push(r.url()); });
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

/** Opens a screen keeping the period of the current address (as the console's own links do). */
async function open(hash, ready, timeout = 20_000) {
  await page.evaluate((h) => {
    const [name, qs] = h.split("?");
    const want = new URLSearchParams(qs ?? "");
    const now = new URLSearchParams(location.hash.split("?")[1] ?? "");
    for (const k of ["range", "from", "to", "tz"]) if (now.has(k) && !want.has(k)) want.set(k, now.get(k));
    location.hash = `${name}?${want}`;
  }, hash);
  try {
    await page.waitForSelector(ready, { timeout });
    await page.waitForFunction(() => !document.querySelector(".state.loading"), null, { timeout });
  } catch (e) {
    // Say what the screen showed instead (an error sentence, or still loading).
    const shown = await page.evaluate(() => document.querySelector("main")?.innerText.slice(0, 300) ?? "").catch(() => "");
    throw new Error(`${hash}: ${ready} did not appear; the screen shows: ${JSON.stringify(shown)}\n${e.message}`);
  }
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  loadDemo(process.env.FUNNEL_D1_DIR, SECRETS);
  chromiumSession = await launchChromium({
    locale: "ko-KR",
    timezoneId: TZ,
    viewport: { width: 1280, height: 900 },
  });
  browser = chromiumSession.context;
  page = await browser.newPage();
  await watchErrors(page, pageErrors);
  page.on("request", (r) => { if (new URL(r.url()).pathname === "/internal/whoami") whoamiCalls.push(r.url()); });
});

after(async () => {
  await chromiumSession?.close();
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
    if (k.unit === "per_user") return new Intl.NumberFormat("ko-KR", { maximumFractionDigits: 1 }).format(k.value);
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
  // The console then shows that person's events by fingerprint.
  await page.waitForFunction((want) => location.hash.includes(`email_fingerprint=${want}`), fp);
  await settled(page);

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

  // Filter by subject: only that person's entries, as the API lists them: the
  // search by address, then the list by the fingerprint it was swapped for.
  const bySubject = await api(`/internal/audit?${rangeQuery()}&subject=${fp}`);
  assert.equal(bySubject.entries.length, 2, JSON.stringify(bySubject.entries));
  assert.ok(bySubject.entries.some((e) => e.id === entry.id) && bySubject.entries.every((e) => e.subject === fp));
  await page.fill("#audit-filters input[name=subject]", fp);
  await page.click("#audit-filters button[type=submit]");
  await auditRows(bySubject.entries.map((e) => e.id));
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

test("the right key is accepted after several wrong ones, and Escape closes the key dialog", async () => {
  await page.evaluate(() => sessionStorage.setItem("funnel.key", "wrong"));
  await page.evaluate(() => { location.hash = "catalog"; });
  for (let i = 0; i < 4; i++) {
    await page.waitForSelector("#key-dialog[open]");
    await page.fill("#key-input", `wrong-${i}`);
    await page.click("#key-submit");
    await page.waitForFunction(() => !document.querySelector("#key-dialog") || document.querySelector("#key-dialog").open);
  }
  await enterKey(page, SECRETS.INTERNAL_API_KEY);
  await page.waitForSelector("table.catalog");

  // Escape closes the dialog; the screen says no key was given and offers to enter one.
  await page.evaluate(() => sessionStorage.setItem("funnel.key", "wrong"));
  await page.evaluate(() => { location.hash = "usage"; });
  await page.waitForSelector("#key-dialog[open]");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".state.error[data-code=bad_key] .other-key");
  assert.equal(await page.$$eval("#key-dialog", (d) => d.length), 0, "the dialog is gone");
  await page.click(".state.error .other-key");
  await enterKey(page, SECRETS.INTERNAL_API_KEY);
  await page.waitForSelector("table.usage-summary");
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

/** Seconds of the local midnight starting `date` in `tz`. */
function midnightIn(date, tz) {
  const guess = Date.parse(`${date}T00:00:00Z`);
  const offset = (at) => {
    const f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000;
  };
  return (guess - offset(guess - offset(guess))) / 1000;
}

/** Every problem code the API can return: src/error.rs, every `bad(param, code, …)` in src, and docs/api.md's table. */
function problemCodes() {
  const codes = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (path.endsWith(".rs")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/bad\(\s*[^,]+,\s*"([a-z_]+)"/g)) codes.add(m[1]);
        if (path.endsWith("error.rs")) {
          for (const m of text.matchAll(/Problem::new\(\s*\d+,\s*"([a-z_]+)"/g)) codes.add(m[1]);
          for (const m of text.matchAll(/^\s*"([a-z]+_[a-z_]+)",\s*$/gm)) codes.add(m[1]);
          for (const m of text.matchAll(/=> \("([a-z_]+)",/g)) codes.add(m[1]);
        }
      }
    }
  };
  walk(join(ROOT, "src"));
  const api = readFileSync(join(ROOT, "docs", "api.md"), "utf8");
  const table = api.slice(api.indexOf("| `code` | Status | Where |"));
  for (const m of table.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)) codes.add(m[1]);
  return [...codes].sort();
}

const WIDTHS = [1366, 375];
/** Each screen and what shows it is ready. */
const READY = {
  summary: "[data-kpi]", trends: "#trend-chart .uplot", funnel: "[data-funnel] .step", feed: "table.feed",
  trace: "table.timeline", ops: "table.health", catalog: "table.catalog", quarantine: "#replay", usage: "table.usage-summary", audit: "table.audit",
  alerts: "table.alert-rules",
};

test("Today charts today only, in the chosen zone, and compares with the same elapsed time of yesterday", async () => {
  // A Seoul browser looking at Los Angeles: the chart follows the chosen zone, not the browser's.
  const LA = "America/Los_Angeles";
  const laDate = (offset) => new Intl.DateTimeFormat("en-CA", { timeZone: LA, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(Date.now() + offset * 86_400_000));
  const { p, errors } = await tab();
  try {
    const summaries = [];
    p.on("request", (r) => { if (r.url().includes("/internal/funnel-events/summary?")) summaries.push(new URL(r.url()).searchParams); });
    await p.goto(`${BASE}/cp/auth-commerce-funnel/#trends?range=today&tz=${encodeURIComponent(LA)}`);
    await enterKey(p, SECRETS.INTERNAL_API_KEY);
    await p.waitForSelector("#trend-chart .uplot, #trend-chart .state.empty");
    const today = laDate(0);
    const x = await p.$eval("#trend-chart", (el) => [Number(el.dataset.xMin), Number(el.dataset.xMax)]);
    assert.deepEqual(x, [midnightIn(today, LA), midnightIn(laDate(1), LA)], "the x-axis is today in Los Angeles");
    assert.ok(x[1] - x[0] >= 82_800 && x[1] - x[0] <= 90_000, "one day");
    // By hour: the summary was asked for hourly buckets, each within today in Los Angeles.
    assert.equal(await p.getAttribute("#trend-chart", "data-bucket"), "hour");
    const asked = summaries.find((q) => q.get("bucket") === "hour");
    assert.ok(asked, "hourly buckets were asked for");
    const hours = await (await fetch(`${BASE}/internal/funnel-events/summary?${asked}`, { headers: AUTH })).json();
    assert.ok(hours.daily.length >= 23 && hours.daily.length <= 25, `${hours.daily.length} hours`);
    for (const b of hours.daily) {
      const at = Date.parse(b.date) / 1000;
      assert.ok(at >= x[0] && at < x[1], `${b.date} within today`);
    }
    if (await p.$("#trend-chart table.chart-data")) {
      assert.equal(await p.$$eval("#trend-chart table.chart-data tbody tr", (r) => r.length), hours.daily.length, "the table has one row per hour");
    }
    assert.ok(await p.isVisible(".running-note"), "the running period is said to be unfinished");

    // The summary compares with yesterday up to the same time of day, not all of yesterday.
    summaries.length = 0;
    await p.evaluate(() => { location.hash = "summary?range=today&tz=Asia%2FSeoul"; });
    await p.waitForSelector("[data-kpi]");
    await settled(p);
    const prev = summaries.find((q) => q.get("from")?.includes("T"));
    assert.ok(prev, `a previous range as instants: ${summaries.map(String)}`);
    const from = Date.parse(prev.get("from"));
    const to = Date.parse(prev.get("to"));
    assert.equal(from / 1000, midnightIn(seoulDate(-1), TZ), "yesterday's midnight in Seoul");
    // Today in Seoul (`today` above is Los Angeles' date, another day for 17 hours of every day).
    const elapsed = Date.now() - midnightIn(seoulDate(0), TZ) * 1000;
    assert.ok(Math.abs(to - from - elapsed) < 120_000, `same elapsed time: ${to - from} vs ${elapsed}`);

    // Ops charts its services by hour too, over today in the chosen zone.
    await p.evaluate(() => { location.hash = "ops?range=today&tz=Asia%2FSeoul"; });
    await p.waitForSelector("#ops-chart .uplot, #ops-chart .state.empty");
    assert.equal(await p.getAttribute("#ops-chart", "data-bucket"), "hour");
    const opsX = await p.$eval("#ops-chart", (el) => [Number(el.dataset.xMin), Number(el.dataset.xMax)]);
    assert.deepEqual(opsX, [midnightIn(seoulDate(0), TZ), midnightIn(seoulDate(1), TZ)], "the x-axis is today in Seoul");
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
  }
});

test("the ops lens shows per service its state for the period, error rate, change and failing types that open the feed", async () => {
  await open(`ops?range=14d&tz=${encodeURIComponent(TZ)}`, "table.health");
  const o = await api(`/api/overview?${rangeQuery()}`);
  const rows = await page.$$eval("table.health tbody tr", (trs) => trs.map((tr) => ({
    service: tr.dataset.service, state: tr.querySelector(".health").dataset.state, cells: [...tr.cells].map((c) => c.textContent),
    failing: [...tr.querySelectorAll("a.failing-type")].map((a) => a.dataset.type),
  })));
  for (const s of o.services) {
    const r = rows.find((x) => x.service === s.service);
    assert.ok(r, s.service);
    assert.equal(r.cells[2], new Intl.NumberFormat("ko-KR").format(s.events));
    if (s.events) assert.equal(r.cells[3], new Intl.NumberFormat("ko-KR", { style: "percent", maximumFractionDigits: 1 }).format(s.failures / s.events));
    assert.deepEqual(r.failing, s.failing_types.map((f) => f.event_type));
  }
  assert.ok(rows.some((r) => r.failing.length), "the demo data has failures");
  await shot("ops-14d");

  // A failing type opens the feed filtered to it.
  const type = rows.find((r) => r.failing.length).failing[0];
  await page.click(`a.failing-type[data-type="${type}"]`);
  await page.waitForSelector("[data-screen=feed] table.feed");
  await settled(page);
  const types = await page.$$eval("table.feed tbody tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
  assert.ok(types.length && types.every((x) => x === type), JSON.stringify(types.slice(0, 5)));

  // A past period where nothing happened: no service is `live`.
  await open("ops?range=custom&from=2020-01-01&to=2020-01-07", "table.health");
  const states = await page.$$eval("table.health .health", (els) => els.map((e) => e.dataset.state));
  assert.ok(states.every((x) => x === "idle" || x === "silent"), JSON.stringify(states));
  await open(`ops?range=14d&tz=${encodeURIComponent(TZ)}`, "table.health");

  // The recent events refresh, but not while the tab is hidden.
  const refreshes = [];
  const listener = (r) => { if (/\/internal\/funnel-events\?.*limit=20/.test(r.url())) refreshes.push(r.url()); };
  page.on("request", listener);
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: true, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForTimeout(16_000);
  assert.equal(refreshes.length, 0, "no refresh while hidden");
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: false, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForSelector("#ops-recent[data-refreshed]");
  page.off("request", listener);
  assert.ok(refreshes.length >= 1, "refreshed once visible again");
  const cells = await page.$$eval("#ops-recent tbody tr td:nth-child(5)", (tds) => tds.map((td) => [td.textContent, !!td.querySelector("a.trace-link")]));
  assert.ok(cells.length > 0);
  for (const [text, linked] of cells) assert.equal(linked, text !== "–", `a trace id links to its trace: ${text}`);
});

test("period, zone and filters live in the URL: a reload keeps them, and Back restores the feed's rows and scroll", async () => {
  await open("summary?range=7d&tz=UTC", "[data-kpi]");
  await page.reload();
  await page.waitForSelector("[data-kpi]");
  assert.equal(await page.getAttribute("[data-range='7d']", "aria-pressed"), "true");
  assert.equal(await page.$eval("select[name=tz]", (s) => s.value), "UTC");
  assert.equal(await page.getAttribute("[data-nav=summary]", "aria-current"), "page");
  const fetched = page.waitForResponse((r) => r.url().includes("/summary?") && r.url().includes("tz=UTC"));
  await page.click("[data-range='30d']");
  await fetched;
  assert.match(await page.evaluate(() => location.hash), /range=30d/);

  // Live stays ticked when the period changes.
  await open(`feed?range=14d&tz=${encodeURIComponent(TZ)}`, "table.feed");
  await page.check("#feed-filters input[name=live]");
  await page.click("[data-range='7d']");
  await page.waitForFunction(() => location.hash.includes("range=7d"));
  await page.waitForSelector("table.feed");
  assert.equal(await page.isChecked("#feed-filters input[name=live]"), true);
  await page.uncheck("#feed-filters input[name=live]");
  await page.click("[data-range='14d']");
  await page.waitForFunction(() => location.hash.includes("range=14d"));
  await settled(page);

  // 150 rows, scrolled down, a trace opened, then Back.
  await page.waitForSelector("table.feed");
  for (const n of [100, 150]) {
    await page.click("#load-more");
    await page.waitForFunction((want) => document.querySelectorAll("table.feed tbody tr").length === want, n);
  }
  await page.evaluate(() => window.scrollTo(0, 2000));
  await page.waitForTimeout(300);
  const scrolled = await page.evaluate(() => window.scrollY);
  assert.ok(scrolled > 1000, `${scrolled}`);
  await page.click("table.feed tbody tr:nth-child(120) .trace-link, table.feed .trace-link");
  await page.waitForSelector("[data-screen=trace] table.timeline");
  await page.goBack();
  await page.waitForFunction(() => document.querySelectorAll("table.feed tbody tr").length === 150);
  await page.waitForTimeout(200);
  assert.ok(Math.abs(await page.evaluate(() => window.scrollY) - scrolled) < 50, "the scroll position is back");
});

test("an address typed into the email search becomes its fingerprint before it reaches the URL or history", async () => {
  const seen = [];
  const record = (f) => { if (f === page.mainFrame()) seen.push(f.url()); };
  page.on("framenavigated", record);
  await open("feed", "table.feed");
  const email = "Demo.User@Example.com";
  await page.fill("#feed-filters input[name=q_email]", email);
  await page.click("#feed-filters button[type=submit]");
  const fp = fingerprint(email);
  await page.waitForFunction((want) => location.hash.includes(`email_fingerprint=${want}`), fp);
  await settled(page);
  page.off("framenavigated", record);
  const urls = [...seen, page.url(), await page.evaluate(() => location.href)];
  for (const u of urls) assert.ok(!decodeURIComponent(u).toLowerCase().includes("demo.user"), u);
  assert.equal(await page.inputValue("#feed-filters input[name=q_email]"), "", "the address is not kept in the form either");
  // Going back never shows the address: the entry before is the feed without it.
  await page.goBack();
  await page.waitForFunction(() => !location.hash.includes("email_fingerprint"));
  assert.ok(!decodeURIComponent(page.url()).toLowerCase().includes("demo.user"));
  await page.goForward();
  await settled(page);
});

test("the trace says durations in words, marks failed steps, shows properties, and says when a trace is unknown", async () => {
  const trace = "trace_demo_20_1";
  const tl = await api(`/internal/trace/${trace}`);
  await open(`trace?id=${trace}`, "table.timeline");
  const text = await page.textContent("#trace-duration");
  assert.ok(!/ms$/.test(text) || tl.duration_ms < 1000, text);
  assert.ok(!text.includes(","), `no raw milliseconds: ${text}`);
  assert.equal(await page.$$eval("table.timeline tbody tr.failed", (r) => r.length), tl.events.filter((e) => tl.failures.some((f) => f.id === e.id) || e.success === false || e.error_code).length);
  assert.equal(await page.$$eval(".waterfall li", (l) => l.length), tl.events.length);
  assert.equal(await page.$$eval("table.timeline details.props", (d) => d.length), tl.events.filter((e) => Object.keys(e.properties ?? {}).length).length);
  // A payment's trace links each Stripe id to its Dashboard page, in a new tab without an opener.
  const [checkout] = (await api("/internal/funnel-events?type=m_checkout_session_created&limit=1")).events;
  const paid = await api(`/internal/trace/${checkout.trace_id}`);
  const want = paid.events.flatMap((e) => e.links.map((l) => l.url)).sort();
  assert.ok(want.some((u) => u.includes("/checkout/sessions/cs_")), `the API links the checkout session: ${want}`);
  await open(`trace?id=${checkout.trace_id}`, "table.timeline");
  const drills = await page.$$eval("table.timeline a.drill", (as) => as.map((a) => [a.getAttribute("href"), a.target, a.rel]));
  assert.deepEqual(drills.map((d) => d[0]).sort(), want);
  for (const [, target, rel] of drills) assert.deepEqual([target, rel], ["_blank", "noopener noreferrer"]);
  // The feed filtered to that trace shows the same links.
  assert.ok(Date.now() - Date.parse(checkout.ts) < 13 * 86_400_000, "the newest demo checkout is within the last 14 days");
  await open(`feed?trace_id=${checkout.trace_id}&range=14d`, "table.feed");
  const inFeed = await page.$$eval("table.feed a.drill", (as) => as.map((a) => a.getAttribute("href")));
  assert.deepEqual(inFeed.sort(), want);
  await open("trace?id=trace_nothing_here_42", "[data-screen=trace] .state");
  const none = await page.textContent("#timeline .state.empty");
  assert.ok(none.length > 20 && !/^(데이터가 없습니다|No data)/.test(none), none);
  // A wrong id is refused before anything is sent.
  let sent = 0;
  const listener = (r) => { if (r.url().includes("/internal/trace/")) sent++; };
  page.on("request", listener);
  await page.fill("#trace-input", "not a trace");
  await page.click("#trace-form button[type=submit]");
  await page.waitForSelector("#trace-input[aria-invalid=true]");
  page.off("request", listener);
  assert.equal(sent, 0);
});

/**
 * Opens the feed at `hash` and returns the page of events the console asked
 * for, read again from the API with the same query.
 */
async function feedWithItsPage(hash) {
  const asked = page.waitForResponse((r) => new URL(r.url()).pathname === "/internal/funnel-events" && r.request().method() === "GET");
  await open(hash, "table.feed");
  const url = new URL((await asked).url());
  return api(url.pathname + url.search);
}

/** Opens (or closes) a feed row's details with the keyboard and reads what they show. */
async function toggleDetails(id) {
  await page.focus(`table.feed tr[data-id="${id}"] button.expand`);
  await page.keyboard.press("Enter");
  return page.$eval(`table.feed tr[data-id="${id}"]`, (tr) => {
    const button = tr.querySelector("button.expand");
    const detail = document.getElementById(button.getAttribute("aria-controls") ?? "");
    const field = (f) => detail?.querySelector(`dd[data-field=${f}]`)?.textContent;
    return {
      expanded: button.getAttribute("aria-expanded"),
      below: tr.nextElementSibling === detail,
      visible: !!detail && !detail.hidden && detail.getBoundingClientRect().height > 0,
      properties: detail?.querySelector("pre.props-json")?.textContent,
      fields: Object.fromEntries(["user_id", "session_id", "tenant_id", "error_code", "error_message"].map((f) => [f, field(f)])),
      drills: [...(detail?.querySelectorAll("a.drill") ?? [])].map((a) => [a.getAttribute("href"), a.target, a.rel]),
    };
  });
}

test("a feed row opens with the keyboard to the event's user, session, tenant, error, properties and drill-downs, as the API returns them", async () => {
  // An app opening carries a user, a session and properties (scripts/demo.mjs).
  const feed = await feedWithItsPage(`feed?type=app_open&range=14d&tz=${encodeURIComponent(TZ)}`);
  const shown = await page.$$eval("table.feed tbody tr[data-id]", (trs) => trs.map((tr) => Number(tr.dataset.id)));
  assert.deepEqual(shown, feed.events.map((e) => e.id), "the console shows the page the API returns");
  const e = feed.events.find((x) => Object.keys(x.properties).length && x.user_id && x.session_id);
  assert.ok(e, "the demo data has an event with properties, a user and a session");
  assert.equal(await page.$eval(`table.feed tr[data-id="${e.id}"] button.expand`, (b) => b.getAttribute("aria-expanded")), "false");

  const open_ = await toggleDetails(e.id);
  assert.equal(open_.expanded, "true");
  assert.ok(open_.below && open_.visible, "the details show in a row right under the event");
  assert.deepEqual(JSON.parse(open_.properties), e.properties);
  const dash = (v) => v ?? "–";
  assert.deepEqual(open_.fields, {
    user_id: dash(e.user_id), session_id: dash(e.session_id), tenant_id: dash(e.tenant_id),
    error_code: dash(e.error_code), error_message: dash(e.error_message),
  });
  // The details row is not an event: the rows counted for Back and paging stay the events.
  assert.equal(await page.$$eval("table.feed tbody tr[data-id]", (r) => r.length), feed.events.length);
  await shot("feed-details");
  const closed = await toggleDetails(e.id);
  assert.equal(closed.expanded, "false");
  assert.ok(!closed.visible, "a second press closes the details");

  // A checkout shows its Stripe drill-downs in its details, and a failure its error.
  const pay = await feedWithItsPage(`feed?type=m_checkout_session_created&range=14d&tz=${encodeURIComponent(TZ)}`);
  const withLinks = pay.events.find((x) => x.links.length);
  assert.ok(withLinks, "the demo checkout has drill-downs");
  const d = await toggleDetails(withLinks.id);
  assert.deepEqual(JSON.parse(d.properties), withLinks.properties);
  assert.deepEqual(d.drills, withLinks.links.map((l) => [l.url, "_blank", "noopener noreferrer"]));
  const failed = (await feedWithItsPage(`feed?success=false&range=14d&tz=${encodeURIComponent(TZ)}`)).events.find((x) => x.error_code);
  assert.ok(failed, "the demo data has failures with an error code");
  const f = await toggleDetails(failed.id);
  assert.equal(f.fields.error_code, failed.error_code);
  assert.equal(f.fields.error_message, failed.error_message ?? "–");
  assert.deepEqual(JSON.parse(f.properties), failed.properties);
});

test("ops lists every service with its state now and when it last sent, and the recent events show their user and session", async () => {
  await open(`ops?range=14d&tz=${encodeURIComponent(TZ)}`, "#services-now");
  const o = await api(`/api/overview?${rangeQuery()}`);
  const items = await page.$$eval("#services-now li", (lis) => lis.map((li) => ({
    service: li.dataset.service, health: li.dataset.health,
    badge: li.querySelector(".health").className, lastSeen: li.querySelector(".last-seen").textContent,
  })));
  assert.deepEqual(items.map((i) => [i.service, i.health]), o.services.map((s) => [s.service, s.health]));
  assert.ok(o.services.some((s) => s.health === "live"), "the demo services sent today");
  const lang = await page.evaluate(() => document.documentElement.lang);
  for (const [i, s] of o.services.entries()) {
    assert.ok(items[i].badge.split(" ").includes(s.health), items[i].badge);
    const when = s.last_seen
      ? new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-US", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(s.last_seen))
      : "–";
    assert.ok(items[i].lastSeen.endsWith(when), `${s.service}: ${items[i].lastSeen} ≠ ${when}`);
  }

  // The recent table (the overview's events, or the feed's after a refresh) has user and session columns.
  const feed = await api(`/internal/funnel-events?${rangeQuery()}&limit=20`);
  const byId = new Map([...o.recent, ...feed.events].map((e) => [e.id, e]));
  const rows = await page.$$eval("#ops-recent tbody tr", (trs) => trs.map((tr) => [Number(tr.dataset.id), tr.cells[5].textContent, tr.cells[6].textContent]));
  assert.ok(rows.length > 0);
  for (const [id, user, session] of rows) {
    const e = byId.get(id);
    assert.ok(e, `recent event ${id} is one the API returns`);
    assert.deepEqual([user, session], [e.user_id ?? "–", e.session_id ?? "–"], `event ${id}`);
  }
  assert.ok(rows.some(([, user]) => user !== "–"), "the demo's recent events have users");
});

test("every problem code the API can return has a ko and an en sentence; offline and non-JSON answers are told apart", async () => {
  const codes = problemCodes();
  assert.ok(codes.length >= 40, `${codes.length} codes`);
  let answer = null;
  await page.route("**/internal/catalog?*", (route) => answer(route));
  try {
    const sentences = { ko: new Map(), en: new Map() };
    for (const lang of ["ko", "en"]) {
      if ((await page.evaluate(() => document.documentElement.lang)) !== lang) {
        await page.click("#lang");
        await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      }
      for (const code of codes) {
        const status = code === "not_found" ? 404 : code.startsWith("storage") ? 503 : 400;
        answer = (route) => route.fulfill({ status, contentType: "application/problem+json", body: JSON.stringify({ type: "x", title: "x", status, detail: `developer detail ${code}`, code }) });
        await page.evaluate(() => { location.hash = `catalog?n=${Math.random()}`; });
        await page.waitForSelector(`.state.error[data-code="${code}"]`);
        const text = await page.textContent(".state.error");
        assert.ok(!text.includes(code) && !text.includes("developer detail"), `${lang} ${code}: ${text}`);
        sentences[lang].set(code, text);
      }
    }
    for (const code of codes) assert.notEqual(sentences.ko.get(code), sentences.en.get(code), code);

    // Offline, then a proxy's HTML page: two different sentences, both with Retry.
    answer = (route) => route.abort("internetdisconnected");
    await page.evaluate(() => { location.hash = "catalog?n=offline"; });
    await page.waitForSelector(".state.error[data-code=network] button.retry");
    const offline = await page.textContent(".state.error");
    answer = (route) => route.fulfill({ status: 502, contentType: "text/html", body: "<html><body>Bad gateway</body></html>" });
    await page.evaluate(() => { location.hash = "catalog?n=proxy"; });
    await page.waitForSelector(".state.error[data-code=not_json] button.retry");
    const proxy = await page.textContent(".state.error");
    assert.notEqual(offline, proxy);
    assert.ok(!/TypeError|SyntaxError|Unexpected token/.test(offline + proxy), offline + proxy);
    // An input mistake offers no Retry (it would fail the same way).
    answer = (route) => route.fulfill({ status: 400, contentType: "application/problem+json", body: JSON.stringify({ type: "x", title: "x", status: 400, detail: "d", code: "invalid_tz" }) });
    await page.evaluate(() => { location.hash = "catalog?n=input"; });
    await page.waitForSelector(".state.error[data-code=invalid_tz]");
    assert.equal(await page.$$eval(".state.error button.retry", (b) => b.length), 0);
    // Retry works once the server answers again.
    answer = (route) => route.abort("internetdisconnected");
    await page.evaluate(() => { location.hash = "catalog?n=retry"; });
    await page.waitForSelector(".state.error[data-code=network] button.retry");
    answer = (route) => route.continue();
    await page.click(".state.error button.retry");
    await page.waitForSelector("table.catalog");
  } finally {
    await page.unroute("**/internal/catalog?*");
  }
  if ((await page.evaluate(() => document.documentElement.lang)) !== "ko") {
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "ko");
  }
});

test("a read that stalls is asked again after 25 s and the screen loads; stalled twice, it says so with Retry", async () => {
  const { p, errors } = await tab();
  // The page's timers run on a fake clock this test moves: no real 25 s waits.
  await p.clock.install();
  try {
    await p.goto(`${BASE}/#catalog`);
    await enterKey(p, SECRETS.INTERNAL_API_KEY);
    await p.waitForSelector("table.catalog");
    const stalled = [];
    let stalls = 0;
    // The next `stalls` catalog requests get no answer (held, never fulfilled).
    await p.route("**/internal/catalog?*", (route) => {
      if (stalls > 0) {
        stalls -= 1;
        stalled.push(route);
      } else {
        route.continue();
      }
    });
    // One stall: the read is aborted at 25 s and sent again, which loads the screen.
    stalls = 1;
    await p.evaluate(() => { location.hash = "catalog?n=stall-once"; });
    await p.waitForSelector(".state.loading");
    await waitFor(() => stalled.length === 1);
    await p.clock.runFor(20_000);
    assert.ok(await p.$(".state.loading"), "still waiting before 25 s");
    await p.clock.runFor(6_000);
    await p.waitForSelector("table.catalog");
    // Two stalls: after the second 25 s the screen says the server did not answer in time, with Retry.
    stalls = 2;
    await p.evaluate(() => { location.hash = "catalog?n=stall-twice"; });
    await waitFor(() => stalled.length === 2);
    await p.clock.runFor(25_500);
    await waitFor(() => stalled.length === 3);
    await p.clock.runFor(25_500);
    await p.waitForSelector(".state.error[data-code=timeout] button.retry");
    const text = await p.textContent(".state.error");
    assert.ok(/응답하지 않았습니다/.test(text), text);
    await p.click(".state.error button.retry");
    await p.waitForSelector("table.catalog");
    await p.unroute("**/internal/catalog?*");
    for (const r of stalled) await r.abort().catch(() => {});
  } finally {
    await p.close();
  }
  assert.deepEqual(errors.filter((e) => !/ERR_FAILED|ERR_ABORTED|Failed to load resource/.test(e)), []);
});

/** Polls a condition of this test process (not the page) until it holds. */
async function waitFor(condition, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeout} ms: ${condition}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("input is checked before sending: reversed custom dates, a bad fingerprint; a failed Load more can be retried", async () => {
  await open(`feed?range=14d&tz=${encodeURIComponent(TZ)}`, "table.feed");
  const sent = [];
  const listener = (r) => { if (r.url().includes("/internal/")) sent.push(r.url()); };
  page.on("request", listener);
  await page.click("[data-range=custom]");
  await page.fill(".custom input[name=from]", seoulDate(0));
  await page.fill(".custom input[name=to]", seoulDate(-5));
  await page.click(".custom button[type=submit]");
  await page.waitForSelector(".custom input[aria-invalid=true]");
  await page.fill("#feed-filters input[name=email_fingerprint]", "ABC");
  await page.click("#feed-filters button[type=submit]");
  await page.waitForSelector("#feed-filters input[name=email_fingerprint][aria-invalid=true]");
  page.off("request", listener);
  assert.deepEqual(sent, [], "nothing was sent");

  await open(`feed?range=14d&tz=${encodeURIComponent(TZ)}`, "table.feed");
  await page.route("**/internal/funnel-events?*cursor=*", (route) => route.abort("internetdisconnected"));
  await page.click("#load-more");
  await page.waitForSelector(".more-failed .state.error[data-code=network] button.retry");
  assert.equal(await page.isEnabled("#load-more"), true, "Load more stays usable");
  await page.unroute("**/internal/funnel-events?*cursor=*");
  await page.click(".more-failed button.retry");
  await page.waitForFunction(() => document.querySelectorAll("table.feed tbody tr").length === 100);
});

test("the funnel explains its counting, KPI cards follow the declared order, and deltas are coloured by whether up is good", async () => {
  await open(`funnel?range=14d&tz=${encodeURIComponent(TZ)}`, "[data-funnel] .step");
  assert.ok((await page.textContent("#funnel-explain")).length > 50);
  const reasons = await page.$$eval("[data-funnel] .step-numbers", (els) => els.map((e) => e.textContent));
  assert.ok(reasons.every((r) => !/\bnone\b/.test(r)), "no bare `none` reason");
  // Who dropped at a step: the API's traces, each opening its timeline.
  const f = await api(`/internal/funnels/auth_commerce?${rangeQuery()}`);
  const step = f.funnel.steps.find((x) => x.dropped_traces.length);
  assert.ok(step, "someone dropped somewhere in the demo data");
  const listed = await page.$$eval(`[data-funnel=auth_commerce] li.step[data-event="${step.event}"] a.dropped-trace`, (as) => as.map((a) => a.textContent));
  assert.deepEqual(listed, step.dropped_traces);
  await page.click(`[data-funnel=auth_commerce] li.step[data-event="${step.event}"] details.dropped summary`);
  await page.click(`[data-funnel=auth_commerce] li.step[data-event="${step.event}"] a.dropped-trace`);
  await page.waitForSelector("[data-screen=trace] table.timeline");
  assert.ok(page.url().includes(encodeURIComponent(step.dropped_traces[0])));

  await open(`summary?range=14d&tz=${encodeURIComponent(TZ)}`, "[data-kpi]");
  const s = await api(`/internal/funnel-events/summary?${rangeQuery()}`);
  const declared = Object.keys(s.kpis);
  const cards = await page.$$eval(".kpi-group", (groups) => groups.map((g) => [...g.querySelectorAll("[data-kpi]")].map((c) => c.dataset.kpi)));
  for (const group of cards) {
    const positions = group.map((id) => declared.indexOf(id));
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `cards in declared order: ${group}`);
  }
  const deltas = await page.$$eval("[data-kpi] .delta", (els) => els.map((d) => [d.closest("[data-kpi]").dataset.kpi, d.dataset.direction, d.dataset.good, getComputedStyle(d).color]));
  assert.ok(deltas.length > 0, "some KPI changed");
  assert.ok(Object.values(s.kpis).some((k) => k.better === "lower"), "the catalog marks some KPIs lower-is-better");
  for (const [id, dir, good, colour] of deltas) {
    // The catalog says which way is good (`better`), not the KPI's name.
    const upIsBad = s.kpis[id].better === "lower";
    if (dir === "flat") continue;
    assert.equal(good, (dir === "up") !== upIsBad ? "good" : "bad", id);
    assert.equal(colour, good === "good" ? "rgb(21, 128, 61)" : "rgb(185, 28, 28)", id);
  }
});

test("trends has a series picker (top five by volume first) and a table alternative", async () => {
  await open(`trends?range=14d&tz=${encodeURIComponent(TZ)}`, "#trend-chart .uplot");
  const pressed = () => page.$$eval("#trend-chart .series-picker button[aria-pressed=true]", (b) => b.map((x) => x.dataset.series));
  const before = await pressed();
  assert.ok(before.length > 0 && before.length <= 5, JSON.stringify(before));
  const s = await api(`/internal/funnel-events/summary?${rangeQuery()}`);
  const top = Object.entries(s.totals).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([k]) => k);
  assert.deepEqual(new Set(before), new Set(top));
  const other = await page.$eval("#trend-chart .series-picker button[aria-pressed=false]", (b) => b.dataset.series);
  await page.click(`#trend-chart .series-picker button[data-series="${other}"]`);
  assert.ok((await pressed()).includes(other));
  const headers = await page.$$eval("#trend-chart table.chart-data th", (th) => th.map((x) => x.textContent));
  assert.ok(headers.includes(other), "the table follows the picked series");
  assert.equal(await page.$$eval("#trend-chart table.chart-data tbody tr", (r) => r.length), s.daily.length);
});

/**
 * The rate chart's table alternative against the summary API's `daily_rates`
 * for the same range: one row per day, one column per default rate (its
 * catalog label in the console's language), each cell the rate in percent as
 * the console formats it with its numerator/denominator, "–" when the
 * denominator is 0. Returns the API's answer.
 */
async function rateTableMatchesApi(query) {
  const s = await api(`/internal/funnel-events/summary?${query}`);
  // The chart of this range (not the previous screen's, still there until the new one is drawn).
  await page.waitForFunction(([first, n]) => {
    const rows = document.querySelectorAll("#rate-chart table.chart-data tbody tr");
    return rows.length === n && rows[0].firstElementChild.textContent === first;
  }, [s.daily[0].date, s.daily.length], { timeout: 20_000 });
  // The seed's two rates, in the catalog's order (the API's key order), as every series is.
  const defaults = Object.keys(s.kpis).filter((k) => k === "pregoi_checkout_completion_rate" || k === "pregoi_otp_failure_rate");
  assert.equal(defaults.length, 2);
  assert.equal(await page.getAttribute("#rate-chart", "data-series"), defaults.join(" "), "the seed's two rates are shown first");
  const lang = await page.evaluate(() => document.documentElement.lang);
  const locale = lang === "ko" ? "ko-KR" : "en-US";
  const pct = (r) => (r == null ? "–" : new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(r));
  const num = (n) => new Intl.NumberFormat(locale).format(n);
  const headers = await page.$$eval("#rate-chart table.chart-data thead th", (th) => th.map((x) => x.textContent));
  assert.deepEqual(headers.slice(1), defaults.map((k) => s.kpis[k].label[lang]), "one column per default rate, named by its catalog label");
  const rows = await page.$$eval("#rate-chart table.chart-data tbody tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  const expected = s.daily.map((d, i) => [d.date, ...defaults.map((k) => {
    const r = s.daily_rates[k][i];
    assert.equal(r.date, d.date);
    return `${pct(r.value)} (${num(r.numerator)}/${num(r.denominator)})`;
  })]);
  assert.deepEqual(rows, expected);
  return s;
}

test("trends charts every ratio KPI per day in percent, the seed's two first; its table equals the API's daily_rates, a day without a denominator shows –, not 0 %", async () => {
  await open(`trends?range=14d&tz=${encodeURIComponent(TZ)}`, "#rate-chart .uplot");
  assert.equal(await page.getAttribute("#rate-chart", "data-bucket"), "day");
  const recent = await rateTableMatchesApi(rangeQuery());
  const picker = await page.$$eval("#rate-chart .series-picker button[data-series]", (b) => b.map((x) => x.dataset.series));
  const ratios = Object.entries(recent.kpis).filter(([, k]) => k.unit === "ratio").map(([id]) => id);
  assert.deepEqual(picker, ratios, "the picker offers every ratio KPI, in the catalog's order");
  assert.ok(recent.daily_rates.pregoi_checkout_completion_rate.some((r) => r.value != null && r.value > 0), "the demo's days have real rates to compare");

  // Days before the demo's 30 days: the API says 0/0 (value null); the console says –, never 0 %.
  const from = seoulDate(-36);
  const to = seoulDate(-23);
  await open(`trends?range=custom&from=${from}&to=${to}&tz=${encodeURIComponent(TZ)}`, "#rate-chart .uplot");
  const older = await rateTableMatchesApi(`from=${from}&to=${seoulDate(-22)}&tz=${encodeURIComponent(TZ)}`);
  const emptyDays = older.daily_rates.pregoi_checkout_completion_rate.filter((r) => r.denominator === 0);
  assert.ok(emptyDays.length > 0, "the range has a day whose denominator is 0");
  assert.ok(emptyDays.every((r) => r.value === null), "the API leaves it without a value");
  const cells = await page.$$eval("#rate-chart table.chart-data tbody tr", (trs) => trs.map((tr) => tr.children[1].textContent));
  for (const r of emptyDays) {
    const cell = cells[older.daily.findIndex((d) => d.date === r.date)];
    assert.ok(cell.startsWith("–") && !cell.includes("0%"), `${r.date}: ${cell}`);
  }
  await shot("trends-rates");
  await open(`trends?range=14d&tz=${encodeURIComponent(TZ)}`, "#rate-chart .uplot");
});

test("keyboard: a skip link, and focus moves to the new screen's heading on navigation", async () => {
  await open(`summary?range=14d&tz=${encodeURIComponent(TZ)}`, "[data-kpi]");
  await page.click("[data-nav=catalog]");
  await page.waitForSelector("table.catalog");
  await page.waitForFunction(() => document.activeElement?.tagName === "H2");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), await page.textContent("main h2"));
  // From the top of a freshly loaded page, the first Tab reaches the skip link.
  await page.reload();
  await page.waitForSelector("table.catalog");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link", "the first Tab reaches the skip link");
  await page.keyboard.press("Enter");
  assert.ok(await page.evaluate(() => !!document.activeElement.closest("main")), "focus moved into the screen");
});

test("every screen at 1366 and 375 px: no serious or critical axe violation, no page-level sideways scroll; screenshots", async () => {
  const axe = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
  const report = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const screen of SCREENS) {
      const hash = screen === "trace" ? "trace?id=trace_demo_20_1" : screen;
      // A busy machine can take a while over everything the suite stored: a longer wait here.
      await open(`${hash}${hash.includes("?") ? "&" : "?"}range=14d&tz=${encodeURIComponent(TZ)}`, READY[screen], 60_000);
      // The feed is checked with a row's details open (its disclosure row and what it shows).
      if (screen === "feed") await page.click("table.feed tbody tr[data-id] button.expand");
      await page.waitForTimeout(100);
      const wide = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(wide[0] <= wide[1], `${screen} at ${width}px scrolls sideways: ${wide}`);
      if (width < 600) {
        // A compact header: the header and period bar leave most of a phone's first screen (812 px) to the data.
        const chrome = await page.$eval(".period", (el) => el.getBoundingClientRect().bottom + window.scrollY);
        assert.ok(chrome <= 812 * 0.25, `${screen}: header and period bar end at ${chrome}px`);
      }
      // axe is evaluated through the test's own channel, so the console's CSP stays strict.
      if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axe);
      const violations = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ["violations"] });
        return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
      });
      if (violations.length) report.push(`${screen} @${width}: ${violations.join("; ")}`);
      await shot(`${screen}-${width}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(report, []);
});

test("no CSP violation or script error happened on any screen", () => {
  // Failed loads were made on purpose above (refused keys, made-up problems, offline); each test checked its own.
  assert.deepEqual(pageErrors.filter((e) => !e.includes("401") && !e.startsWith("Failed to load resource")), []);
});
