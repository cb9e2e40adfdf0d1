// The access log (admin keys): who looked up whom, exported, or changed what.
import { get, type Schema } from "../api";
import { dateTime, h, isFingerprint, num, shortFingerprint } from "../format";
import { t } from "../i18n";
import { period, rangeParams } from "../state";
import { empty, errorState, table, withStates } from "../ui";

const FILTERS = ["key", "subject"] as const;
const PAGE = "50";

type Entry = Schema<"AuditRow">;

/** A subject as shown: a fingerprint shortened (the whole value in its title), anything else as is. */
function subject(value: string | null | undefined, filter: (s: string) => void): Node | string {
  if (!value) return "–";
  return h("a", {
    href: "#", class: "audit-subject", title: value, "data-subject": value,
    onclick: (ev) => { ev.preventDefault(); filter(value); },
  }, isFingerprint(value) ? shortFingerprint(value) : value);
}

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const form = h("form", { class: "filters", id: "audit-filters" });
  const labels = { key: t("key"), subject: t("subject") };
  for (const f of FILTERS) {
    const input = h("input", { name: f, placeholder: labels[f], autocomplete: "off" });
    input.value = params.get(f) ?? "";
    form.append(h("label", {}, labels[f], input));
  }
  form.append(h("button", { type: "submit" }, t("filter")),
    h("button", { type: "button", onclick: () => { form.reset(); go("audit"); } }, t("clear")));
  const body = h("div", { class: "audit-body" });
  root.replaceChildren(h("h2", {}, t("audit")), h("p", { class: "muted" }, t("auditHint")), form, body);

  const filtered = (next: Partial<Record<(typeof FILTERS)[number], string>>) => {
    const qs = new URLSearchParams();
    for (const f of FILTERS) if (next[f]) qs.set(f, next[f]!);
    go(`audit?${qs}`);
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    filtered(Object.fromEntries(FILTERS.map((f) => [f, String(data.get(f) ?? "").trim()])));
  });
  const bySubject = (s: string) => filtered({ key: params.get("key") ?? undefined, subject: s });
  const row = (e: Entry): (Node | string)[] =>
    [dateTime(e.at, period.tz), e.key_name, e.route, e.kind, subject(e.subject, bySubject), e.rows == null ? "–" : num(e.rows)];

  const query = { ...rangeParams(), key: params.get("key") ?? undefined, subject: params.get("subject") ?? undefined, limit: PAGE };
  await withStates(body, async () => {
    const page = await get<Schema<"AuditPage">>("/internal/audit", query);
    if (!page.entries.length) {
      body.replaceChildren(empty());
      return;
    }
    let cursor = page.next_cursor ?? null;
    const tbl = table([t("time"), t("key"), t("route"), t("kind"), t("subject"), t("rows")], page.entries.map(row), "audit");
    const mark = (tr: Element, e: Entry) => ((tr as HTMLElement).dataset.id = String(e.id));
    tbl.querySelectorAll("tbody tr").forEach((tr, i) => mark(tr, page.entries[i]));
    const more = h("button", { type: "button", id: "audit-more", hidden: !cursor }, t("loadMore"));
    const failed = h("div");
    more.addEventListener("click", async () => {
      if (!cursor) return;
      more.disabled = true;
      failed.replaceChildren();
      try {
        const next = await get<Schema<"AuditPage">>("/internal/audit", { ...query, cursor });
        cursor = next.next_cursor ?? null;
        const tbody = tbl.querySelector("tbody")!;
        for (const e of next.entries) {
          const tr = h("tr", {}, ...row(e).map((c) => h("td", {}, c)));
          mark(tr, e);
          tbody.append(tr);
        }
      } catch (e) {
        failed.replaceChildren(errorState(e, () => more.click()));
      }
      more.disabled = false;
      more.hidden = !cursor;
    });
    body.replaceChildren(tbl, more, failed);
  });
}
