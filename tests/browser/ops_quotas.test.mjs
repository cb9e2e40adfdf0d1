// The console's ops lenses and self-refresh, the quota screen and the funnel
// breakdown in a real browser against the running worker, each checked
// against the API's own numbers. Runs after console.test.mjs (which loads the
// demo data); screenshots go to test-artifacts/console/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

// Every answer this test reads from the worker is checked against docs/openapi.json too.
import { ingestBearer, uid } from "../e2e/client.mjs";
import { loadDemo } from "../e2e/worker.mjs";
import { launchChromium, watchErrors } from "./chromium.mjs";

const BASE = process.env.FUNNEL_URL;
const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
const ROOT = join(import.meta.dirname, "..", "..");
const SHOTS = join(ROOT, "test-artifacts", "console");
const TZ = "Asia/Seoul";
const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };
/** The lenses seed 000 lists per service: its panels (Revenue, Workspace, Engagement) and lenses (Content, Writing, Report). */
const LENSES = [["presstuner", "revenue"], ["presstuner", "workspace"], ["presstuner", "content"], ["pluid", "engagement"], ["pluid", "writing"], ["pluid", "report"]];

let browser;
let chromiumSession;
let page;
const pageErrors = [];

async function api(path, headers = AUTH, init = {}) {
  const res = await fetch(BASE + path, { ...init, headers: { ...headers, ...(init.headers ?? {}) } });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return res.json();
}

function seoulDate(offsetDays) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(Date.now() + offsetDays * 86_400_000));
}
const seoulMonth = (backMonths = 0) => {
  const [y, m] = seoulDate(0).split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 - backMonths, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
};
const rangeQuery = () => `from=${seoulDate(-13)}&to=${seoulDate(1)}&tz=${encodeURIComponent(TZ)}`;
const todayQuery = () => `from=${seoulDate(0)}&to=${seoulDate(1)}&tz=${encodeURIComponent(TZ)}`;
const nf = (n) => new Intl.NumberFormat("ko-KR").format(n);
const pf = (r) => (r == null ? "–" : new Intl.NumberFormat("ko-KR", { style: "percent", maximumFractionDigits: 1 }).format(r));

/** A KPI as the console formats it (admin-ui/src/views/summary.ts formatKpi), in Korean. */
function fmt(k) {
  if (k.value == null) return "–";
  if (k.unit === "money") return k.value.map((c) => new Intl.NumberFormat("ko-KR", { style: "currency", currency: c.currency }).format(c.amount)).join(" · ");
  if (k.unit === "ratio") return pf(k.value);
  if (k.unit === "count") return nf(k.value);
  if (k.unit === "per_user") return new Intl.NumberFormat("ko-KR", { maximumFractionDigits: 1 }).format(k.value);
  return String(k.value);
}

async function settled(p = page) {
  await p.waitForFunction(() => !document.querySelector(".state.loading"), null, { timeout: 60_000 });
}

async function open(hash, ready, p = page, timeout = 60_000) {
  await p.evaluate((x) => { location.hash = x; }, hash);
  try {
    await p.waitForSelector(ready, { timeout });
    await settled(p);
  } catch (e) {
    // Say what the screen showed instead (an error sentence, or still loading).
    const shown = await p.evaluate(() => document.querySelector("main")?.innerText.slice(0, 400) ?? "").catch(() => "");
    throw new Error(`${hash}: ${ready} did not appear; the screen shows: ${JSON.stringify(shown)}\n${e.message}`);
  }
}

async function enterKey(p, key) {
  await p.waitForSelector("#key-dialog[open]");
  await p.fill("#key-input", key);
  await p.click("#key-submit");
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // console.test.mjs loads the demo data; run alone (E2E_FILTER=ops_quotas), this file loads it.
  if (!(await api(`/internal/funnel-events/summary?${rangeQuery()}`)).kpis.pluid_notes.value) {
    loadDemo(process.env.FUNNEL_D1_DIR, SECRETS);
  }
  chromiumSession = await launchChromium({
    locale: "ko-KR",
    timezoneId: TZ,
    viewport: { width: 1280, height: 900 },
  });
  browser = chromiumSession.context;
  page = await browser.newPage();
  await watchErrors(page, pageErrors);
  await page.goto(`${BASE}/`);
  await enterKey(page, SECRETS.INTERNAL_API_KEY);
  await page.waitForSelector('#whoami[data-role="admin"]');
});

after(async () => {
  await chromiumSession?.close();
});

test("ops shows every lens of the seed, writing (user density) and report included, with the summary API's numbers", async () => {
  await open(`ops?range=14d&tz=${encodeURIComponent(TZ)}&every=0`, "#ops-body [data-lens]");
  const s = await api(`/internal/funnel-events/summary?${rangeQuery()}`);
  for (const [service, lens] of LENSES) {
    const want = Object.entries(s.kpis).filter(([, k]) => k.service === service && k.lens === lens).map(([id, k]) => [id, fmt(k)]).sort();
    assert.ok(want.length >= (lens === "content" ? 1 : 2), `${service}-${lens}: the API declares its KPIs`);
    const shown = await page.$$eval(`[data-lens="${service}-${lens}"] [data-kpi]`, (els) => els.map((e) => [e.dataset.kpi, e.querySelector(".card-value").textContent]));
    assert.deepEqual(shown.sort(), want, `${service}-${lens}`);
  }
  // User density: notes per writer, a quotient of the two API numbers (demo data in the period).
  const { pluid_notes: notes, pluid_writers: writers, pluid_notes_per_writer: density } = s.kpis;
  assert.ok(notes.value > 0 && writers.value > 0, "the demo's Pluid users wrote notes");
  assert.equal(density.value, Math.round((notes.value / writers.value) * 10_000) / 10_000);
  assert.ok(density.value >= 1, "a writer wrote at least one note");
  await page.screenshot({ path: join(SHOTS, "ops-lenses.png"), fullPage: true });
});

test("ops refreshes itself at its interval with the API's new numbers, never while the tab is hidden, one request set at a time", async () => {
  await open(`ops?range=today&tz=${encodeURIComponent(TZ)}&every=2`, "#ops-body[data-refresh-every='2'] [data-kpi=pluid_notes]");
  const card = () => page.$eval("[data-kpi=pluid_notes] .card-value", (e) => e.textContent);
  const refreshes = () => page.$eval("#ops-body", (e) => Number(e.dataset.refreshes));
  const before = await card();
  const writer = uid("writer");
  const notes = Array.from({ length: 3 }, (_, i) => ({ event_type: "note_upserted", event_id: uid("note"), user_id: writer, properties: { note_id: `n${i}`, length: 10 } }));
  const res = await ingestBearer({ events: notes });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.body.results.every((r) => r.status === "accepted"), JSON.stringify(res.body.results));
  const want = fmt((await api(`/internal/funnel-events/summary?${todayQuery()}`)).kpis.pluid_notes);
  assert.notEqual(want, before, "the API counts the new notes");
  await page.waitForFunction((w) => document.querySelector("[data-kpi=pluid_notes] .card-value")?.textContent === w, want, { timeout: 30_000 });
  assert.ok(await refreshes() >= 1);

  // Hidden: no request for 5 s (2.5 intervals); visible again: a refresh at once.
  const overview = [];
  const onRequest = (r) => { if (new URL(r.url()).pathname === "/api/overview") overview.push(r.url()); };
  page.on("request", onRequest);
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: true, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForTimeout(500); // a set already on its way may land
  const hiddenAt = await refreshes();
  overview.length = 0;
  await page.waitForTimeout(5_000);
  assert.equal(overview.length, 0, "no request while hidden");
  assert.equal(await refreshes(), hiddenAt, "no refresh while hidden");
  await page.evaluate(() => {
    Object.defineProperty(document, "hidden", { value: false, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForFunction((n) => Number(document.querySelector("#ops-body").dataset.refreshes) > n, hiddenAt, { timeout: 15_000 });
  page.off("request", onRequest);

  // Answers slower than the interval: the next set waits for the last (a set is 2 overviews, the summary and the feed).
  let inFlight = 0;
  let most = 0;
  const started = (r) => { if (/\/api\/overview|\/internal\/funnel-events/.test(r.url())) most = Math.max(most, ++inFlight); };
  const ended = (r) => { if (/\/api\/overview|\/internal\/funnel-events/.test(r.url())) inFlight--; };
  const slow = async (route) => { await new Promise((r) => setTimeout(r, 3_000)); await route.continue(); };
  await page.route("**/api/overview?**", slow);
  page.on("request", started);
  page.on("requestfinished", ended);
  page.on("requestfailed", ended);
  const startedAt = await refreshes();
  await page.waitForFunction((n) => Number(document.querySelector("#ops-body").dataset.refreshes) >= n + 2, startedAt, { timeout: 20_000 });
  await page.unroute("**/api/overview?**", slow);
  page.off("request", started);
  page.off("requestfinished", ended);
  page.off("requestfailed", ended);
  assert.ok(most <= 4, `${most} requests in flight at once`);
  // Leaving the screen stops the refresh.
  await open("catalog", "table.catalog");
  overview.length = 0;
  page.on("request", onRequest);
  await page.waitForTimeout(4_500);
  page.off("request", onRequest);
  assert.equal(overview.length, 0, "no ops request once another screen is shown");
});

test("the quota screen shows the API's plans and limits, the meter beside the KPI with why they differ, users at their limit and months", async () => {
  // A user at their limit: one compile against an override of 1.
  const capped = uid("capped");
  const put = await api("/internal/quotas/overrides", AUTH, {
    method: "PUT", headers: { "content-type": "application/json" },
    body: JSON.stringify({ subject_kind: "user", subject_id: capped, action: "compile", monthly_limit: 1 }),
  });
  assert.equal(put.override.monthly_limit, 1);
  const res = await ingestBearer({ events: [{ event_type: "compile_prompt", event_id: uid("cmp"), user_id: capped, properties: { prompt_id: "p1", model_type: "gpt-4" } }] });
  assert.equal(res.status, 200, res.text);

  const [from, to] = [seoulMonth(3), seoulMonth(0)];
  await open(`usage?from_month=${from}&to_month=${to}`, "table.quota-plans");
  await page.waitForSelector("table.usage-months");
  await settled();
  const q = await api("/internal/quotas");
  const plans = await page.$$eval("table.quota-plans tbody tr", (trs) => trs.map((tr) => [tr.dataset.action, ...[...tr.cells].slice(3).map((c) => c.textContent)]));
  assert.deepEqual(plans, q.actions.map((a) => [a.name, nf(a.limits.free), nf(a.limits.pro), nf(a.limits.team)]));

  // The meter and the usage KPI of the same month; where they may differ, the screen says why.
  const meter = await api("/internal/usage/summary");
  const kpis = (await api(`/internal/funnel-events/summary?from=${encodeURIComponent(meter.month.from)}&to=${encodeURIComponent(meter.month.to)}&tz=${encodeURIComponent(TZ)}`)).kpis;
  const rows = await page.$$eval("table.quota-kpi tbody tr", (trs) => trs.map((tr) => ({ action: tr.dataset.action, differs: tr.dataset.differs, cells: [...tr.cells].map((c) => c.textContent) })));
  assert.equal(rows.length, q.actions.length);
  for (const a of q.actions) {
    const row = rows.find((r) => r.action === a.name);
    const used = meter.actions.find((l) => l.action === a.name).total_used;
    const kpi = kpis[`easypick_usage_${a.name}`];
    assert.deepEqual(row.cells.slice(1, 3), [nf(used), kpi.value == null ? "–" : nf(kpi.value)], a.name);
    if (a.only_when) {
      assert.equal(row.differs, "true");
      assert.ok(row.cells[3].includes(`${a.only_when[0]} = ${a.only_when[1]}`), row.cells[3]);
    } else if (!kpi.estimate) {
      assert.equal(row.differs, "false");
      assert.equal(kpi.value, used, `${a.name}: said to count the same, and does`);
    }
  }
  assert.ok(rows.some((r) => r.action === "ai_tool_access" && r.differs === "true"), "ai_tool_access: the meter keeps only action_type = use");

  // Users at their limit: the API's list.
  const over = await api("/internal/usage/over-quota");
  assert.ok(over.users.some((u) => u.user_id === capped), "the capped user is at their limit");
  const listed = await page.$$eval("table.over-quota tbody tr", (trs) => trs.map((tr) => [tr.dataset.user, tr.dataset.action, ...[...tr.cells].slice(2).map((c) => c.textContent)]));
  assert.deepEqual(listed, over.users.map((u) => [u.user_id, u.line.action, nf(u.line.used), nf(u.line.limit), nf(u.line.remaining)]));

  // Usage per month over the chosen range.
  const history = await api(`/internal/usage/months?from_month=${from}&to_month=${to}`);
  assert.equal(history.months.length, 4);
  const months = await page.$$eval("table.usage-months tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(months, history.months.flatMap((m) => m.actions.map((a) => [m.month.month, a.action, nf(a.total_used), nf(a.users), nf(a.users_at_limit)])));
  await page.screenshot({ path: join(SHOTS, "usage-quotas.png"), fullPage: true });

  // One user's months.
  await open(`usage?user_id=${capped}&from_month=${from}&to_month=${to}`, "table.usage-months");
  const mine = await api(`/internal/usage/months?from_month=${from}&to_month=${to}&user_id=${capped}`);
  const mineRows = await page.$$eval("table.usage-months tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(mineRows, mine.months.flatMap((m) => m.user.map((l) => [m.month.month, l.action, nf(l.used), nf(l.limit), nf(l.remaining)])));
  assert.ok(mineRows.some((r) => r[0] === to && r[1] === "compile" && r[2] === "1" && r[3] === "1"), JSON.stringify(mineRows));

  const del = await fetch(`${BASE}/internal/quotas/overrides?subject_kind=user&subject_id=${capped}&action=compile`, { method: "DELETE", headers: AUTH });
  assert.equal(del.status, 200);
});

test("an admin sets and removes an override through the screen, and the API reflects each", async () => {
  const subject = uid("vip");
  await open("usage", "#override-form");
  await page.selectOption("#override-form select[name=subject_kind]", "tenant");
  await page.fill("#override-form input[name=subject_id]", subject);
  await page.selectOption("#override-form select[name=action]", "workflow_run");
  // A wrong limit is said next to the field, and nothing is sent.
  await page.fill("#override-form input[name=monthly_limit]", "-3");
  await page.click("#override-form button[type=submit]");
  await page.waitForSelector("#override-form input[name=monthly_limit][aria-invalid=true]");
  assert.ok(!(await api("/internal/quotas")).overrides.some((o) => o.subject_id === subject));

  await page.fill("#override-form input[name=monthly_limit]", "1234");
  await page.click("#override-form button[type=submit]");
  const row = `table.quota-overrides tr[data-subject="${subject}"]`;
  await page.waitForSelector(row);
  const set = (await api("/internal/quotas")).overrides.find((o) => o.subject_id === subject);
  assert.deepEqual([set?.subject_kind, set?.action, set?.monthly_limit], ["tenant", "workflow_run", 1234]);
  assert.equal(await page.$eval(row, (tr) => tr.cells[3].textContent), nf(1234));

  await page.click(`${row} button.override-remove`);
  await page.waitForSelector(row, { state: "detached" });
  assert.ok(!(await api("/internal/quotas")).overrides.some((o) => o.subject_id === subject), "removed in the API");
});

test("a read key sees the quotas but no control that edits them", {
  skip: !SECRETS.READ_KEY && "FUNNEL_SECRETS has no READ_KEY",
}, async () => {
  const me = await api("/internal/whoami", { authorization: `Bearer ${SECRETS.READ_KEY}` });
  assert.equal(me.role, "read");
  assert.ok(!me.routes.includes("PUT /internal/quotas/overrides"));
  const p = await browser.newPage();
  try {
    await p.goto(`${BASE}/cp/auth-commerce-funnel/#usage`);
    await enterKey(p, SECRETS.READ_KEY);
    await p.waitForSelector("table.quota-plans", { timeout: 30_000 });
    await p.waitForSelector("#quota-overrides");
    assert.equal(await p.$$eval("#override-form, button.override-remove, #quota-overrides input, #quota-overrides select", (els) => els.length), 0);
    assert.ok((await p.textContent("#quota-overrides")).includes("admin"));
    await p.screenshot({ path: join(SHOTS, "usage-read-key.png"), fullPage: true });
  } finally {
    await p.close();
  }
});

test("a funnel splits by the chosen dimension with each group's steps and conversion as the API answers", async () => {
  const name = "auth_commerce";
  const groupsOf = (b) => b.groups.map((g) => [g.other ? "" : g.value ?? "", String(g.other), nf(g.subjects),
    ...g.steps.map((s) => `${nf(s.count)}${s.index ? ` (${pf(s.conversion_from_previous)})` : ""}`), pf(g.overall_conversion)]);
  const shown = () => page.$$eval(`[data-funnel=${name}] table.breakdown tbody tr`, (trs) => trs.map((tr) => [tr.dataset.value, tr.dataset.other, ...[...tr.cells].slice(1).map((c) => c.textContent)]));

  await open(`funnel?range=14d&tz=${encodeURIComponent(TZ)}&by.${name}=email_domain`, `[data-funnel=${name}] table.breakdown`);
  const byDomain = await api(`/internal/funnels/${name}?${rangeQuery()}&by=email_domain`);
  assert.equal(byDomain.breakdown.by, "email_domain");
  assert.ok(byDomain.breakdown.groups.length >= 2, "the demo has several domains");
  assert.deepEqual(await shown(), groupsOf(byDomain.breakdown));
  await page.screenshot({ path: join(SHOTS, "funnel-breakdown.png"), fullPage: true });

  // Another dimension through the control.
  const options = await page.$$eval(`select.funnel-by[data-funnel=${name}] option`, (os) => os.map((o) => o.value));
  for (const d of ["", "email_domain", "source", "tenant_id"]) assert.ok(options.includes(d), d);
  await page.selectOption(`select.funnel-by[data-funnel=${name}]`, "source");
  await page.waitForFunction(() => location.hash.includes("by.auth_commerce=source"));
  await page.waitForFunction((n) => document.querySelector(`[data-funnel=${n}] table.breakdown caption`)?.textContent.endsWith("source"), name, { timeout: 30_000 });
  await settled();
  const bySource = await api(`/internal/funnels/${name}?${rangeQuery()}&by=source`);
  assert.deepEqual(await shown(), groupsOf(bySource.breakdown));
  // Every property offered is one the API accepts.
  for (const d of options.filter((o) => o && !["email_domain", "source", "tenant_id"].includes(o))) {
    await api(`/internal/funnels/${name}?${rangeQuery()}&by=${d}`);
  }
  // No split: no breakdown table.
  await page.selectOption(`select.funnel-by[data-funnel=${name}]`, "");
  await page.waitForFunction(() => !location.hash.includes("by.auth_commerce"));
  await settled();
  assert.equal(await page.$$eval(`[data-funnel=${name}] table.breakdown`, (t) => t.length), 0);
});

test("no page error or CSP violation on these screens", () => {
  assert.deepEqual(pageErrors, []);
});
