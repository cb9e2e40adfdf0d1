import { get, type Schema } from "../api";
import { dateTime, h, isFingerprint, maskedEmail } from "../format";
import { t } from "../i18n";
import { link, period, rangeParams } from "../state";
import { clearInvalid, drills, empty, errorState, eventDetails, invalid, table, withStates } from "../ui";
import { isTraceId } from "./trace";

const FILTERS = ["type", "q_email", "email_fingerprint", "trace_id", "tenant_id", "user_id", "source", "success", "error_code"] as const;
const POLL_MS = 5000;
const PAGE = 50;
/** The API's largest page: rows restored after Back are read in one request up to this. */
const MAX_PAGE = 500;

/** What Back restores: how many rows were loaded and where the page was scrolled (kept in this history entry). */
type Kept = { feedRows?: number; feedScroll?: number };

function keep(update: Kept): void {
  history.replaceState({ ...(history.state ?? {}), ...update }, "");
}

function cells(e: Schema<"EventView">, byPerson: (fp: string) => string): (Node | string)[] {
  const result = e.success === false || e.error_code ? t("failure") : e.success ? t("success") : "–";
  return [
    h("span", { class: "when" }, expander(e), dateTime(e.ts, period.tz)), e.event_type, e.service,
    e.email_fingerprint
      ? h("a", { href: byPerson(e.email_fingerprint), class: "person", title: t("personEvents") }, maskedEmail(e.email_fingerprint, e.email_domain))
      : "–",
    e.trace_id ? h("a", { href: link(`trace?id=${encodeURIComponent(e.trace_id)}`), class: "trace-link" }, e.trace_id) : "–",
    e.tenant_id ?? "–", result, e.error_code ?? "", e.error_message ?? "", drills(e.links),
  ];
}

/**
 * The disclosure button of an event's row: it opens a full-width row under it
 * with the event's details (made on first open, then shown and hidden).
 */
function expander(e: Schema<"EventView">): HTMLButtonElement {
  const id = `event-${e.id}-details`;
  const button = h("button", { type: "button", class: "expand", "aria-expanded": "false", title: t("showDetails") },
    h("span", { class: "arrow", "aria-hidden": "true" }, "▸"), h("span", { class: "sr-only" }, `${t("showDetails")}: ${e.event_type}`));
  button.addEventListener("click", () => {
    const tr = button.closest("tr")!;
    let detail = document.getElementById(id) as HTMLTableRowElement | null;
    if (!detail) {
      detail = h("tr", { id, class: "event-detail", hidden: true, "aria-label": t("eventDetails") },
        h("td", { colspan: String(tr.cells.length) }, eventDetails(e)));
      tr.after(detail);
      button.setAttribute("aria-controls", id);
    }
    const open = button.getAttribute("aria-expanded") !== "true";
    detail.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  });
  return button;
}

/** An event's row of the feed, marked with the event's id. */
function row(e: Schema<"EventView">, byPerson: (fp: string) => string): HTMLTableRowElement {
  return h("tr", { "data-id": String(e.id) }, ...cells(e, byPerson).map((c) => h("td", {}, c)));
}

/** A personal address (not an `@domain`) that must become a fingerprint before it reaches the URL. */
const isAddress = (v: string) => /^[^@\s]+@[^@\s]+$/.test(v);

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const form = h("form", { class: "filters", id: "feed-filters", novalidate: true });
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  for (const f of FILTERS) {
    const label = { type: t("type"), q_email: t("email"), email_fingerprint: "fingerprint", trace_id: "trace_id", tenant_id: t("tenant"), user_id: t("userId"), source: t("source"), success: t("result"), error_code: t("errorCode") }[f];
    const input = f === "success"
      ? h("select", { name: f }, h("option", { value: "" }, t("any")), h("option", { value: "true" }, t("success")), h("option", { value: "false" }, t("failure")))
      : h("input", { name: f, autocomplete: "off", type: f === "q_email" ? "search" : "text" });
    input.value = params.get(f) ?? "";
    inputs.set(f, input);
    form.append(h("label", {}, label, input));
  }
  const live = h("input", { type: "checkbox", name: "live", checked: params.get("live") === "1" });
  form.append(h("button", { type: "submit" }, t("filter")), h("label", { class: "inline" }, live, t("live")));
  const formProblem = h("div", { class: "form-problem" });
  const body = h("div", { class: "feed-body" });
  root.replaceChildren(h("h2", {}, t("feed")), form, formProblem, body);

  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
  const query = { ...rangeParams(), ...filters };
  const byPerson = (fp: string) => link(`feed?email_fingerprint=${fp}`);
  const hashOf = (values: Record<string, string>) => {
    const qs = new URLSearchParams();
    for (const f of FILTERS) if (values[f]) qs.set(f, values[f]);
    if (live.checked) qs.set("live", "1");
    return `feed?${qs}`;
  };
  // Live is part of the address: it survives a period change, a reload and Back.
  live.addEventListener("change", () => history.replaceState(history.state, "", link(hashOf(Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""]))))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearInvalid(form);
    formProblem.replaceChildren();
    const values = Object.fromEntries(FILTERS.map((f) => [f, inputs.get(f)!.value.trim()]));
    // Checked here first: a mistake is said next to its field and nothing is sent.
    if (values.email_fingerprint && !isFingerprint(values.email_fingerprint)) return void invalid(inputs.get("email_fingerprint")!, t("fingerprintBad"));
    if (values.trace_id && !isTraceId(values.trace_id)) return void invalid(inputs.get("trace_id")!, t("traceBad"));
    if (values.q_email && !isAddress(values.q_email) && !/^@[^@\s]+$/.test(values.q_email)) return void invalid(inputs.get("q_email")!, t("emailBad"));
    if (values.q_email && values.email_fingerprint) return void invalid(inputs.get("q_email")!, t("emailBad"));
    if (values.q_email && isAddress(values.q_email)) {
      // The address goes to the API once (never into the URL or history); the fingerprint it
      // was matched by takes its place in the address bar.
      try {
        const found = await get<Schema<"EventPage">>("/internal/funnel-events", { ...rangeParams(), q_email: values.q_email, limit: "1" });
        if (!found.email_fingerprint) throw new Error("no fingerprint in the answer");
        inputs.get("q_email")!.value = "";
        values.email_fingerprint = found.email_fingerprint;
        values.q_email = "";
      } catch (e) {
        formProblem.replaceChildren(errorState(e, () => form.requestSubmit()));
        return;
      }
    }
    go(hashOf(values));
  });

  let cursor: string | null = null;
  let newest: string | null = null;
  const kept: Kept = history.state ?? {};
  const headers = [t("time"), t("type"), t("service"), t("email"), "trace_id", t("tenant"), t("result"), t("errorCode"), t("detail"), t("drills")];
  await withStates(body, async () => {
    // After Back, as many rows as were loaded (one request), then the same scroll position.
    const first = Math.min(MAX_PAGE, Math.max(PAGE, kept.feedRows ?? PAGE));
    const page = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, limit: String(first) });
    cursor = page.next_cursor ?? null;
    newest = page.events[0]?.ts ?? null;
    if (!page.events.length) {
      body.replaceChildren(empty());
      return;
    }
    const box = table(headers, [], "feed", t("feed"));
    const tbody = box.querySelector("tbody")!;
    tbody.append(...page.events.map((e) => row(e, byPerson)));
    // Event rows only: an opened row's details are a row of their own.
    const eventRows = () => tbody.querySelectorAll<HTMLTableRowElement>("tr[data-id]");
    const more = h("button", { type: "button", id: "load-more", hidden: !cursor }, t("loadMore"));
    const failed = h("div", { class: "more-failed" });
    more.addEventListener("click", async () => {
      if (!cursor) return;
      more.disabled = true;
      failed.replaceChildren();
      try {
        const next = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, limit: String(PAGE), cursor });
        cursor = next.next_cursor ?? null;
        tbody.append(...next.events.map((e) => row(e, byPerson)));
        keep({ feedRows: eventRows().length });
      } catch (e) {
        // The button stays usable and the failure offers Retry.
        failed.replaceChildren(errorState(e, () => more.click()));
      } finally {
        more.disabled = false;
        more.hidden = !cursor;
      }
    });
    body.replaceChildren(box, more, failed);
    if (kept.feedScroll) window.scrollTo(0, kept.feedScroll);
    let scrollTimer = 0;
    const onScroll = () => {
      window.clearTimeout(scrollTimer);
      scrollTimer = window.setTimeout(() => { if (document.body.contains(box)) keep({ feedScroll: window.scrollY, feedRows: eventRows().length }); }, 100);
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    // Live mode: poll for rows newer than the newest shown, and prepend them.
    const timer = window.setInterval(async () => {
      if (!live.checked || document.hidden || !document.body.contains(box)) return;
      try {
        const fresh = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, from: newest ?? query.from, limit: "100" });
        const shown = new Set([...eventRows()].map((r) => r.dataset.id));
        for (const e of fresh.events.reverse()) {
          if (shown.has(String(e.id))) continue;
          const tr = row(e, byPerson);
          tr.classList.add("fresh");
          tbody.prepend(tr);
          newest = e.ts;
        }
      } catch {
        // The next tick tries again.
      }
    }, POLL_MS);
    window.addEventListener("hashchange", () => { window.clearInterval(timer); window.removeEventListener("scroll", onScroll); }, { once: true });
  });
}
