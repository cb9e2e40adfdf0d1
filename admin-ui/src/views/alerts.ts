// Alerts: the incidents the every-minute cron opened (open ones first, then
// those resolved in the last 7 days) and the rules it evaluates.
import { get, type Schema } from "../api";
import { dateTime, h, num } from "../format";
import { t, tx } from "../i18n";
import { period } from "../state";
import { empty, table, withStates } from "../ui";

type Incident = Schema<"Incident">;
type Rule = Schema<"AlertRule">;

/** Rows of incidents, each marked with its id (the browser test compares them with the API's). */
function incidents(list: Incident[], rules: Rule[], resolved: boolean, cls: string): HTMLElement {
  if (!list.length) return empty(resolved ? t("alertsNoneRecent") : t("alertsNoneOpen"));
  const label = (name: string) => tx(rules.find((r) => r.name === name)?.label) || name;
  const headers = [t("alertOpenedAt"), ...(resolved ? [t("alertResolvedAt")] : []), t("alertRule"), t("alertScope"), t("detail"), t("alertNotified")];
  const rows = list.map((i) => [
    dateTime(i.opened_at, period.tz),
    ...(resolved ? [dateTime(i.resolved_at, period.tz)] : []),
    h("span", { class: "alert-rule", title: i.rule }, label(i.rule)),
    h("span", { class: "alert-scope" }, i.scope || "–"),
    i.summary,
    (resolved ? i.resolve_notified_at : i.notified_at) ? t("yes") : t("no"),
  ]);
  const box = table(headers, rows, `alerts ${cls}`);
  box.querySelectorAll("tbody tr").forEach((tr, n) => ((tr as HTMLElement).dataset.id = String(list[n].id)));
  return box;
}

function watches(rule: Rule): string {
  const w = rule.watch;
  switch (w.kind) {
    case "service_silent": return `${num(w.minutes)} min`;
    case "failure_rate": return `${w.events.join(", ")} · ${num(w.window_hours)} h · ≥ ${num(w.min_events)}`;
    case "quarantine_growth": return `≥ ${num(w.at_least)} / ${num(w.window_minutes)} min`;
    case "users_at_quota": return `≥ ${num(w.at_least)}`;
  }
}

export async function render(root: HTMLElement): Promise<void> {
  const body = h("div");
  root.replaceChildren(h("h2", {}, t("alerts")), body);
  await withStates(body, async () => {
    const list = await get<Schema<"AlertList">>("/internal/alerts");
    const hooks = list.webhooks ? `${t("alertWebhooks")}: ${num(list.webhooks)}` : t("alertNoWebhook");
    body.replaceChildren(
      h("p", { class: "muted", id: "alert-webhooks" }, hooks),
      h("h3", {}, t("alertsOpen")), incidents(list.open, list.rules, false, "alerts-open"),
      h("h3", {}, t("alertsRecent")), incidents(list.recent, list.rules, true, "alerts-recent"),
      h("h3", {}, t("alertRules")),
      table([t("alertRule"), t("detail"), "kind"],
        list.rules.map((r) => [h("span", { class: "alert-rule", title: r.name }, tx(r.label)), watches(r), r.watch.kind]), "alert-rules"),
    );
  });
}
