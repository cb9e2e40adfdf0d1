import { ApiError, changeKey } from "./api";
import { h } from "./format";
import { t } from "./i18n";

/** What a failed call says to the operator: a role too small is said in words, never as a code. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.code === "insufficient_scope") return t("forbidden");
  return e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : String(e);
}

/** The error state: retry, or (for a role too small) another key; a 403 never asks for the key by itself. */
export function errorState(e: unknown, retry: () => void): HTMLElement {
  const scope = e instanceof ApiError && e.code === "insufficient_scope";
  return h("div", { class: "state error", role: "alert", "data-code": e instanceof ApiError ? e.code : "error" },
    h("strong", {}, t("error")), " ", errorText(e), " ",
    scope
      ? h("button", { type: "button", class: "other-key", onclick: () => void changeKey().then(retry) }, t("otherKey"))
      : h("button", { type: "button", onclick: retry }, t("retry")));
}

/** Runs `load` with a visible loading state, and shows an error state (with retry) if it fails. */
export async function withStates(root: HTMLElement, load: () => Promise<void>, slow = false): Promise<void> {
  root.replaceChildren(h("p", { class: "state loading", role: "status" }, slow ? `${t("progress")} — ${t("loading")}` : t("loading")));
  try {
    await load();
  } catch (e) {
    root.replaceChildren(errorState(e, () => void withStates(root, load, slow)));
  }
}

export const empty = (): HTMLElement => h("p", { class: "state empty" }, t("empty"));

export function table(headers: string[], rows: (Node | string)[][], cls = ""): HTMLElement {
  return h("table", { class: cls },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
}

export function card(label: string, value: string, note?: Node | string, cls = ""): HTMLElement {
  return h("div", { class: `card ${cls}` }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), note ? h("div", { class: "card-note" }, note) : null);
}
