// The operator console: hash-routed screens over the read APIs. Which
// screens and actions it offers follows the key's role: `GET /internal/whoami`
// lists the routes the key may call, and a screen whose routes are not all
// listed is not offered (an ingest key, which may read nothing, is told so).
import "uplot/dist/uPlot.min.css";
import "./styles.css";

import { changeKey, forgetKey, installKeyPrompt, onKeyChange, whoami, type WhoAmI } from "./api";
import { h } from "./format";
import { currentLang, setLang, t, type Key } from "./i18n";
import { period, type Period } from "./state";
import { errorState } from "./ui";
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
];

const TIME_ZONES = ["Asia/Seoul", "UTC", "America/New_York", "Europe/London", "Asia/Tokyo", Intl.DateTimeFormat().resolvedOptions().timeZone];

const go = (hash: string) => {
  location.hash = hash;
};

function parseHash(): [string, URLSearchParams] {
  const [name, qs] = location.hash.replace(/^#/, "").split("?");
  return [name || "summary", new URLSearchParams(qs ?? "")];
}

function keyDialog(): (reason: "missing" | "rejected") => Promise<string> {
  return (reason) => new Promise((resolve) => {
    const input = h("input", { type: "password", name: "key", autocomplete: "off", required: true, id: "key-input" });
    const dialog = h("dialog", { id: "key-dialog" },
      h("form", { method: "dialog" },
        h("h2", {}, reason === "rejected" ? t("keyRejected") : t("keyPrompt")),
        h("label", {}, t("keyPrompt"), input),
        h("p", { class: "muted" }, t("keyHint")),
        h("button", { type: "submit", id: "key-submit" }, t("signIn"))));
    dialog.addEventListener("close", () => {
      const v = input.value.trim();
      dialog.remove();
      if (v) resolve(v);
      else void keyDialog()(reason).then(resolve);
    });
    dialog.addEventListener("cancel", (e) => e.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
  });
}

function periodBar(onChange: () => void): HTMLElement {
  const ranges: [Period["range"], Key][] = [["today", "today"], ["7d", "days7"], ["14d", "days14"], ["30d", "days30"], ["custom", "custom"]];
  const from = h("input", { type: "date", name: "from", value: period.from ?? "" });
  const to = h("input", { type: "date", name: "to", value: period.to ?? "" });
  const custom = h("span", { class: "custom", hidden: period.range !== "custom" }, h("label", {}, t("from"), from), h("label", {}, t("to"), to),
    h("button", { type: "button", onclick: () => { period.from = from.value; period.to = to.value; onChange(); } }, t("apply")));
  const tz = h("select", { name: "tz", "aria-label": t("tz") }, ...[...new Set(TIME_ZONES)].map((z) => h("option", { value: z, selected: z === period.tz }, z)));
  tz.addEventListener("change", () => { period.tz = tz.value; onChange(); });
  return h("div", { class: "period", role: "group" },
    ...ranges.map(([r, label]) => h("button", { type: "button", class: period.range === r ? "active" : "", "data-range": r,
      onclick: () => { period.range = r; if (r !== "custom") onChange(); else custom.hidden = false; } }, t(label))),
    custom, h("label", { class: "tz" }, `${t("tz")}: `, tz));
}

// Each call of show() supersedes the earlier ones still waiting (for the key, or whoami).
let generation = 0;
/** The identity the header shows, once one is shown. */
let shown: WhoAmI | null = null;

const title = () => h("h1", {}, t("title"));

async function show(): Promise<void> {
  const mine = ++generation;
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
  const lang = h("button", { type: "button", id: "lang", onclick: () => { setLang(currentLang() === "ko" ? "en" : "ko"); void show(); } }, currentLang() === "ko" ? "English" : "한국어");
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
  const nav = h("nav", {}, ...allowed.map(([n, label]) => h("a", { href: `#${n}`, class: n === screen[0] ? "active" : "", "data-nav": n }, t(label))));
  document.body.replaceChildren(
    h("header", {}, title(), nav, actions),
    periodBar(() => void show()),
    main,
  );
  await screen[2](main, params, go);
}

// A key entered later (after a 401, or "another key") may have another role: redraw for it.
onKeyChange(() => {
  const before = shown;
  if (!before) return;
  whoami().then((me) => {
    if (me.key !== before.key || me.role !== before.role) void show();
  }, () => undefined);
});

setLang(currentLang());
installKeyPrompt(keyDialog());
window.addEventListener("hashchange", () => void show());
void show();
