import { ApiError, changeKey, type Schema } from "./api";
import { problemCode, problemText, retryable } from "./errors";
import { h } from "./format";
import { t } from "./i18n";

/** What a failed call says to the operator: one translated sentence, never a code or developer text. */
export function errorText(e: unknown): string {
  return problemText(e);
}

/**
 * The error state. A role too small or a missing key offers another key (a
 * 403 never asks by itself); a failure that may pass on a second try offers
 * Retry; an input mistake says what to change and offers neither.
 */
export function errorState(e: unknown, retry: () => void): HTMLElement {
  const code = problemCode(e);
  const keyProblem = e instanceof ApiError && (code === "insufficient_scope" || code === "bad_key");
  return h("div", { class: "state error", role: "alert", "data-code": code },
    h("strong", {}, t("error")), " ", problemText(e), " ",
    keyProblem
      ? h("button", { type: "button", class: "other-key", onclick: () => void changeKey().then(retry, () => undefined) }, t("otherKey"))
      : retryable(e) ? h("button", { type: "button", class: "retry", onclick: retry }, t("retry")) : null);
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

export const empty = (text = t("empty")): HTMLElement => h("p", { class: "state empty" }, text);

/** A table inside its own scrolling box: a wide table never scrolls the page sideways. */
export function table(headers: string[], rows: (Node | string)[][], cls = "", caption?: string): HTMLElement {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption ?? headers.slice(0, 3).join(", ") },
    h("table", { class: cls },
      caption ? h("caption", { class: "sr-only" }, caption) : null,
      h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c)))))));
}

/** The table element inside what `table()` returned. */
export const tableOf = (box: HTMLElement): HTMLTableElement => box.querySelector("table")!;

export function card(label: string, value: string, note?: Node | string, cls = ""): HTMLElement {
  return h("div", { class: `card ${cls}` }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), note ? h("div", { class: "card-note" }, note) : null);
}

/**
 * A change against the previous period: arrow, sign and colour by whether up
 * is good for this measure (more failures is bad). The words say it too.
 */
export function deltaBadge(change: number | null, text: string, upIsGood: boolean): HTMLElement | null {
  if (change == null || !Number.isFinite(change)) return null;
  const dir = change > 0 ? "up" : change < 0 ? "down" : "flat";
  const good = dir === "flat" ? "neutral" : (dir === "up") === upIsGood ? "good" : "bad";
  const arrow = dir === "up" ? "▲" : dir === "down" ? "▼" : "■";
  return h("span", { class: `delta ${good}`, "data-direction": dir, "data-good": good },
    h("span", { "aria-hidden": "true" }, `${arrow} `), text, h("span", { class: "sr-only" }, ` (${t(good === "good" ? "better" : good === "bad" ? "worse" : "same")})`));
}

/** Marks an input as wrong with a message tied to it; returns false so callers can `return mark(...)`. */
export function invalid(input: HTMLElement, message: string): false {
  const id = `${input.getAttribute("name") ?? "field"}-problem`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
  document.getElementById(id)?.remove();
  input.closest("label")?.after(h("span", { class: "field-problem", id, role: "alert" }, message));
  input.focus();
  return false;
}

export function clearInvalid(form: HTMLElement): void {
  form.querySelectorAll("[aria-invalid]").forEach((el) => { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
  form.parentElement?.querySelectorAll(".field-problem").forEach((el) => el.remove());
}

/** An event's drill-downs as the API worked them out (Stripe Dashboard, the
 * tenant's onboarding page): each opens in a new tab, without an opener. */
export function drills(links: Schema<"Link">[]): HTMLElement | string {
  return links.length
    ? h("span", { class: "drills" }, ...links.flatMap((l, i) => [i ? " " : "",
      h("a", { href: l.url, target: "_blank", rel: "noopener noreferrer", class: "drill", "data-kind": l.kind },
        l.kind === "tenant_onboarding" ? t("drillTenant") : `${t("drillStripe")}${l.mode === "test" ? " (test)" : ""}`)]))
    : "–";
}

/** An event's properties as the API returned them (scrubbed as stored), one JSON block. */
export function propertiesBlock(properties: Record<string, unknown> | undefined): HTMLElement {
  return h("pre", { class: "props-json" }, JSON.stringify(properties ?? {}, null, 2));
}

/** How many properties an event carries (0 when none). */
export const propertyCount = (e: Schema<"EventView">): number => Object.keys(e.properties ?? {}).length;

/**
 * An event's details (the feed's expanded row): who and where (user, session,
 * tenant), its error, its properties and its drill-downs; each value is marked
 * by `data-field` so it can be read back.
 */
export function eventDetails(e: Schema<"EventView">): HTMLElement {
  const field = (name: string, label: string, value: Node | string | null | undefined) =>
    [h("dt", {}, label), h("dd", { "data-field": name }, value ?? "–")];
  return h("div", { class: "event-details" },
    h("dl", {},
      ...field("user_id", t("userId"), e.user_id),
      ...field("session_id", t("sessionId"), e.session_id),
      ...field("tenant_id", t("tenant"), e.tenant_id),
      ...field("error_code", t("errorCode"), e.error_code),
      ...field("error_message", t("detail"), e.error_message),
      ...field("drills", t("drills"), drills(e.links))),
    h("h4", {}, `${t("properties")} (${propertyCount(e)})`),
    propertiesBlock(e.properties));
}
