import { get, type Schema } from "../api";
import { dateTime, h, maskedEmail } from "../format";
import { t } from "../i18n";
import { period, rangeParams } from "../state";
import { empty, table, withStates } from "../ui";

const FILTERS = ["type", "q_email", "email_fingerprint", "trace_id", "tenant_id", "source", "success", "error_code"] as const;
const POLL_MS = 5000;

function row(e: Schema<"EventView">, open: (trace: string) => void, byPerson: (fp: string) => void): (Node | string)[] {
  const result = e.success === false || e.error_code ? t("failure") : e.success ? t("success") : "–";
  return [
    dateTime(e.ts, period.tz), e.event_type, e.service,
    e.email_fingerprint
      ? h("a", { href: "#", class: "person", title: t("personEvents"), onclick: (ev) => { ev.preventDefault(); byPerson(e.email_fingerprint!); } }, maskedEmail(e.email_fingerprint, e.email_domain))
      : "–",
    e.trace_id ? h("a", { href: `#trace?id=${encodeURIComponent(e.trace_id)}`, class: "trace-link", onclick: (ev) => { ev.preventDefault(); open(e.trace_id!); } }, e.trace_id) : "–",
    e.tenant_id ?? "–", result, e.error_code ?? "", e.error_message ?? "",
  ];
}

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const form = h("form", { class: "filters", id: "feed-filters" });
  for (const f of FILTERS) {
    const label = { type: t("type"), q_email: t("email"), email_fingerprint: "fingerprint", trace_id: "trace_id", tenant_id: t("tenant"), source: t("source"), success: t("result"), error_code: t("errorCode") }[f];
    const input = f === "success"
      ? h("select", { name: f }, h("option", { value: "" }, t("any")), h("option", { value: "true" }, t("success")), h("option", { value: "false" }, t("failure")))
      : h("input", { name: f, placeholder: label, autocomplete: "off" });
    (input as HTMLInputElement).value = params.get(f) ?? "";
    form.append(h("label", {}, label, input));
  }
  const live = h("input", { type: "checkbox", name: "live" });
  form.append(h("button", { type: "submit" }, t("filter")), h("label", { class: "inline" }, live, t("live")));
  const body = h("div", { class: "feed-body" });
  root.replaceChildren(h("h2", {}, t("feed")), form, body);

  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
  const query = { ...rangeParams(), ...filters };
  const openTrace = (id: string) => go(`trace?id=${encodeURIComponent(id)}`);
  const byPerson = (fp: string) => go(`feed?email_fingerprint=${fp}`);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const qs = new URLSearchParams();
    for (const f of FILTERS) {
      const v = String(data.get(f) ?? "").trim();
      if (v) qs.set(f, v);
    }
    go(`feed?${qs}`);
  });

  let cursor: string | null = null;
  let newest: string | null = null;
  const headers = [t("time"), t("type"), t("service"), t("email"), "trace_id", t("tenant"), t("result"), t("errorCode"), t("detail")];
  await withStates(body, async () => {
    const page = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, limit: "50" });
    cursor = page.next_cursor ?? null;
    newest = page.events[0]?.ts ?? null;
    if (!page.events.length) {
      body.replaceChildren(empty());
      return;
    }
    const tbl = table(headers, page.events.map((e) => row(e, openTrace, byPerson)), "feed");
    const more = h("button", { type: "button", id: "load-more", hidden: !cursor }, t("loadMore"));
    more.addEventListener("click", async () => {
      if (!cursor) return;
      more.disabled = true;
      const next = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, limit: "50", cursor });
      cursor = next.next_cursor ?? null;
      const tbody = tbl.querySelector("tbody")!;
      for (const e of next.events) tbody.append(h("tr", {}, ...row(e, openTrace, byPerson).map((c) => h("td", {}, c))));
      more.disabled = false;
      more.hidden = !cursor;
    });
    body.replaceChildren(tbl, more);
    // Live mode: poll for rows newer than the newest shown, and prepend them.
    const timer = window.setInterval(async () => {
      if (!live.checked || !document.body.contains(tbl)) return;
      const fresh = await get<Schema<"EventPage">>("/internal/funnel-events", { ...query, from: newest ?? query.from, limit: "100" });
      const tbody = tbl.querySelector("tbody")!;
      const shown = new Set([...tbody.querySelectorAll("tr")].map((r) => r.dataset.id));
      for (const e of fresh.events.reverse()) {
        if (shown.has(String(e.id))) continue;
        const tr = h("tr", { class: "fresh" }, ...row(e, openTrace, byPerson).map((c) => h("td", {}, c)));
        tr.dataset.id = String(e.id);
        tbody.prepend(tr);
        newest = e.ts;
      }
    }, POLL_MS);
    window.addEventListener("hashchange", () => window.clearInterval(timer), { once: true });
    tbl.querySelectorAll("tbody tr").forEach((tr, i) => ((tr as HTMLElement).dataset.id = String(page.events[i].id)));
  });
}
