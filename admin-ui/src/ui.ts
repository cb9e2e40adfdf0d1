import { ApiError } from "./api";
import { h } from "./format";
import { t } from "./i18n";

/** Runs `load` with a visible loading state, and shows an error state (with retry) if it fails. */
export async function withStates(root: HTMLElement, load: () => Promise<void>, slow = false): Promise<void> {
  root.replaceChildren(h("p", { class: "state loading", role: "status" }, slow ? `${t("progress")} — ${t("loading")}` : t("loading")));
  try {
    await load();
  } catch (e) {
    const message = e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : String(e);
    root.replaceChildren(
      h("div", { class: "state error", role: "alert" }, h("strong", {}, t("error")), " ", message, " ",
        h("button", { type: "button", onclick: () => void withStates(root, load, slow) }, t("retry"))),
    );
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
