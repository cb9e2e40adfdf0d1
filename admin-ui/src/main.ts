// The operator console: hash-routed screens over the read APIs. Which
// screens and actions it offers follows the key's role: `GET /internal/whoami`
// lists the routes the key may call, and a screen whose routes are not all
// listed is not offered (an ingest key, which may read nothing, is told so).
import "uplot/dist/uPlot.min.css";
import "./styles.css";

import { changeKey, forgetKey, installKeyPrompt, KeyDismissed, onKeyChange, whoami, type WhoAmI } from "./api";
import { h } from "./format";
import { currentLang, setLang, t, type Key } from "./i18n";
import { customRangeProblem, link, period, PERIOD_KEYS, readPeriod, type Period } from "./state";
import { clearInvalid, errorState, invalid } from "./ui";
import * as alerts from "./views/alerts";
import * as audit from "./views/audit";
import * as catalog from "./views/catalog";
import * as feed from "./views/feed";
import * as funnel from "./views/funnel";
import * as ops from "./views/ops";
import * as quarantine from "./views/quarantine";
import * as summary from "./views/summary";
import * as trace from "./views/trace";
import * as trends from "./views/trends";
import * as usage from "./views/usage";

type View = (root: HTMLElement, params: URLSearchParams, go: (hash: string) => void) => Promise<void>;
const SUMMARY = "GET /internal/funnel-events/summary";
/** Each screen: its hash, its label, how it renders, and the routes it reads (as whoami lists them). */
const SCREENS: [string, Key, View, string[]][] = [
  ["summary", "summary", summary.render, [SUMMARY]],
  ["trends", "trends", trends.render, [SUMMARY]],
  ["funnel", "funnel", funnel.render, ["GET /internal/funnels", "GET /internal/funnels/{name}"]],
  ["feed", "feed", feed.render, ["GET /internal/funnel-events"]],
  ["trace", "trace", trace.render, ["GET /internal/trace/{trace_id}"]],
  ["ops", "ops", ops.render, ["GET /api/overview", SUMMARY]],
  ["catalog", "catalog", catalog.render, ["GET /internal/catalog"]],
  ["quarantine", "quarantine", quarantine.render, ["GET /internal/quarantine"]],
  ["usage", "usage", usage.render, ["GET /internal/usage/summary", "GET /internal/usage/over-quota"]],
  ["audit", "audit", audit.render, ["GET /internal/audit"]],
  ["alerts", "alerts", alerts.render, ["GET /internal/alerts"]],
];

const TIME_ZONES = ["Asia/Seoul", "UTC", "America/New_York", "Europe/London", "Asia/Tokyo", Intl.DateTimeFormat().resolvedOptions().timeZone];

function parseHash(): [string, URLSearchParams] {
  const [name, qs] = location.hash.replace(/^#/, "").split("?");
  return [name || "summary", new URLSearchParams(qs ?? "")];
}

const go = (hash: string) => {
  location.hash = link(hash);
};

/** The current screen with a new period, its own filters kept. */
function goWithPeriod(): void {
  const [name, params] = parseHash();
  for (const k of PERIOD_KEYS) params.delete(k);
  go(`${name}?${params}`);
}

function keyDialog(): (reason: "missing" | "rejected") => Promise<string> {
  return (reason) => new Promise((resolve, reject) => {
    const input = h("input", { type: "password", name: "key", autocomplete: "off", required: true, id: "key-input" });
    const dialog = h("dialog", { id: "key-dialog" },
      h("form", { method: "dialog" },
        h("h2", {}, reason === "rejected" ? t("keyRejected") : t("keyPrompt")),
        h("label", {}, t("keyPrompt"), input),
        h("p", { class: "muted" }, t("keyHint")),
        h("button", { type: "submit", id: "key-submit" }, t("signIn"))));
    // Escape (or closing empty) dismisses the dialog: the screen then says no key was given and offers to enter one.
    let dismissed = false;
    dialog.addEventListener("cancel", () => { dismissed = true; });
    dialog.addEventListener("close", () => {
      const v = input.value.trim();
      dialog.remove();
      if (v && !dismissed) resolve(v);
      else reject(new KeyDismissed("no key entered"));
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function periodBar(onChange: () => void): HTMLElement {
  const ranges: [Period["range"], Key][] = [["today", "today"], ["7d", "days7"], ["14d", "days14"], ["30d", "days30"], ["custom", "custom"]];
  const from = h("input", { type: "date", name: "from", value: period.from ?? "" });
  const to = h("input", { type: "date", name: "to", value: period.to ?? "" });
  // A custom range is checked here (order, 400 days) before anything is sent.
  const custom = h("form", { class: "custom", hidden: period.range !== "custom" }, h("label", {}, t("from"), from), h("label", {}, t("to"), to),
    h("button", { type: "submit" }, t("apply")));
  custom.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearInvalid(custom);
    const problem = customRangeProblem(from.value, to.value);
    if (problem) return void invalid(problem === "dateOrder" ? to : from, t(problem));
    Object.assign(period, { range: "custom", from: from.value, to: to.value });
    onChange();
  });
  const zones = [...new Set([...TIME_ZONES, period.tz])];
  const tz = h("select", { name: "tz", id: "tz-select" }, ...zones.map((z) => h("option", { value: z, selected: z === period.tz }, z)));
  tz.addEventListener("change", () => { period.tz = tz.value; onChange(); });
  return h("div", { class: "period", role: "group", "aria-label": t("period") },
    ...ranges.map(([r, label]) => h("button", { type: "button", class: period.range === r ? "active" : "", "data-range": r, "aria-pressed": String(period.range === r),
      onclick: () => { if (r !== "custom") { period.range = r; onChange(); } else { custom.hidden = false; from.focus(); } } }, t(label))),
    custom, h("label", { class: "tz", for: "tz-select" }, t("tz")), tz);
}

// Each call of show() supersedes the earlier ones still waiting (for the key, or whoami).
let generation = 0;
/** The identity the header shows, once one is shown. */
let shown: WhoAmI | null = null;

const title = () => h("h1", {}, t("title"));

/** Whether show() runs for a navigation (focus then moves to the new screen's heading). */
let navigated = false;

async function show(): Promise<void> {
  const mine = ++generation;
  readPeriod(parseHash()[1]);
  if (!document.querySelector("body > header")) document.body.replaceChildren(h("header", {}, title()));
  let me: WhoAmI;
  try {
    me = await whoami();
  } catch (e) {
    if (mine === generation) document.body.replaceChildren(h("header", {}, title()), h("main", { id: "screen" }, errorState(e, () => void show())));
    return;
  }
  if (mine !== generation) return;
  shown = me;
  const allowed = SCREENS.filter(([, , , needs]) => needs.every((r) => me.routes.includes(r)));
  const [name, params] = parseHash();
  // A screen the key may not read is not offered; opened by its address, the API's 403 is shown.
  const screen = SCREENS.find((s) => s[0] === name) ?? allowed[0];
  const identity = h("span", { class: "whoami", id: "whoami", "data-role": me.role, title: t("keyRole") }, `${me.key} · ${me.role}`);
  const lang = h("button", { type: "button", id: "lang", lang: currentLang() === "ko" ? "en" : "ko", onclick: () => { setLang(currentLang() === "ko" ? "en" : "ko"); navigated = true; void show(); } }, currentLang() === "ko" ? "English" : "한국어");
  const signOut = h("button", { type: "button", onclick: () => { forgetKey(); location.reload(); } }, t("signOut"));
  const actions = h("div", { class: "actions" }, identity, lang, signOut);
  if (!allowed.length) {
    // An ingest key: nothing to read here.
    document.title = t("title");
    document.body.replaceChildren(
      h("header", {}, title(), actions),
      h("main", { id: "screen", "data-screen": "none" },
        h("div", { class: "state notice", id: "cannot-read", role: "alert" }, t("ingestOnly"), " ",
          h("button", { type: "button", id: "other-key", onclick: () => void changeKey() }, t("otherKey")))),
    );
    return;
  }
  document.title = `${t(screen[1])} · ${t("title")}`;
  const main = h("main", { id: "screen", "data-screen": screen[0] });
  const nav = h("nav", { "aria-label": t("screens") }, ...allowed.map(([n, label]) => h("a", {
    href: link(n), class: n === screen[0] ? "active" : "", "data-nav": n, "aria-current": n === screen[0] ? "page" : undefined,
  }, t(label))));
  // The skip link moves focus past the header and period bar to the screen.
  const skip = h("a", { href: "#", class: "skip-link", onclick: (ev) => { ev.preventDefault(); focusScreen(main); } }, t("skip"));
  const focused = navigated;
  navigated = false;
  document.body.replaceChildren(
    skip,
    h("header", {}, title(), nav, actions),
    periodBar(goWithPeriod),
    main,
  );
  main.setAttribute("tabindex", "-1");
  const rendering = screen[2](main, params, go);
  // Each navigation moves focus to the new screen's heading, not <body>.
  if (focused) focusScreen(main);
  await rendering;
  if (focused && (document.activeElement === document.body || document.activeElement === main)) focusScreen(main);
}

function focusScreen(main: HTMLElement): void {
  const heading = main.querySelector<HTMLElement>("h2");
  const target = heading ?? main;
  target.setAttribute("tabindex", "-1");
  target.focus();
}

// A key entered later (after a 401, or "another key") may have another role: redraw for it.
onKeyChange(() => {
  const before = shown;
  if (!before) return;
  whoami().then((me) => {
    if (me.key !== before.key || me.role !== before.role) void show();
  }, () => undefined);
});

// Back restores the feed's scroll itself, once its rows are loaded again.
history.scrollRestoration = "manual";
setLang(currentLang());
installKeyPrompt(keyDialog());
window.addEventListener("hashchange", () => { navigated = true; void show(); });
void show();
