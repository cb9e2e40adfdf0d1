// The operator console: hash-routed screens over the read APIs.
import "uplot/dist/uPlot.min.css";
import "./styles.css";

import { forgetKey, installKeyPrompt } from "./api";
import { h } from "./format";
import { currentLang, setLang, t, type Key } from "./i18n";
import { period, type Period } from "./state";
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
const SCREENS: [string, Key, View][] = [
  ["summary", "summary", summary.render],
  ["trends", "trends", trends.render],
  ["funnel", "funnel", funnel.render],
  ["feed", "feed", feed.render],
  ["trace", "trace", trace.render],
  ["ops", "ops", ops.render],
  ["catalog", "catalog", catalog.render],
  ["quarantine", "quarantine", quarantine.render],
  ["usage", "usage", usage.render],
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

async function show(): Promise<void> {
  const [name, params] = parseHash();
  const screen = SCREENS.find((s) => s[0] === name) ?? SCREENS[0];
  document.title = `${t(screen[1])} · ${t("title")}`;
  const main = h("main", { id: "screen", "data-screen": screen[0] });
  const nav = h("nav", {}, ...SCREENS.map(([n, label]) => h("a", { href: `#${n}`, class: n === screen[0] ? "active" : "", "data-nav": n }, t(label))));
  const lang = h("button", { type: "button", id: "lang", onclick: () => { setLang(currentLang() === "ko" ? "en" : "ko"); void show(); } }, currentLang() === "ko" ? "English" : "한국어");
  const signOut = h("button", { type: "button", onclick: () => { forgetKey(); location.reload(); } }, t("signOut"));
  document.body.replaceChildren(
    h("header", {}, h("h1", {}, t("title")), nav, h("div", { class: "actions" }, lang, signOut)),
    periodBar(() => void show()),
    main,
  );
  await screen[2](main, params, go);
}

setLang(currentLang());
installKeyPrompt(keyDialog());
window.addEventListener("hashchange", () => void show());
void show();
