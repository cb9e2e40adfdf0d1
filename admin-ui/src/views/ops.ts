import { get, type Schema } from "../api";
import { dateTime, h, maskedEmail, money, num } from "../format";
import { t, tx, type Key } from "../i18n";
import { period, rangeParams } from "../state";
import { card, table, withStates } from "../ui";
import { formatKpi } from "./summary";
import { dailyChart } from "./trends";

// The ops console's lenses (docs/product.md): which KPI lenses each service shows.
const LENSES: [string, string][] = [
  ["presstuner", "revenue"],
  ["presstuner", "workspace"],
  ["presstuner", "content"],
  ["pluid", "engagement"],
];

export async function render(root: HTMLElement): Promise<void> {
  await withStates(root, async () => {
    const [o, s] = await Promise.all([
      get<Schema<"Overview">>("/api/overview", rangeParams()),
      get<Schema<"Summary">>("/internal/funnel-events/summary", rangeParams()),
    ]);
    const lens = (service: string, name: string) =>
      h("section", { class: "lens", "data-lens": `${service}-${name}` }, h("h3", {}, `${service} · ${t(`lens_${name}` as Key)}`),
        h("div", { class: "cards" }, ...Object.entries(s.kpis)
          .filter(([, k]) => k.service === service && k.lens === name)
          .map(([id, k]) => { const c = card(tx(k.label), formatKpi(k)); c.dataset.kpi = id; return c; })));
    const timeline = h("div", { class: "chart" });
    root.replaceChildren(
      h("div", { class: "cards" },
        card(t("events"), num(o.totals.events)), card(t("users"), num(o.totals.users)),
        card(t("sessions"), num(o.totals.sessions)), card(t("today"), num(o.totals.today)), card(t("revenue"), money(o.revenue))),
      ...LENSES.map(([svc, name]) => lens(svc, name)),
      h("h2", {}, t("health")),
      table([t("service"), t("status"), t("lastSeen"), t("events"), t("users"), t("sessions"), t("today"), t("revenue"), t("topEvents")],
        o.services.map((x) => [
          x.service, h("span", { class: `health ${x.health}` }, x.health), dateTime(x.last_seen, period.tz), num(x.events), num(x.users),
          num(x.sessions), num(x.today), money(x.revenue), x.top_events.map((e) => `${e.event_type} ${num(e.count)}`).join(", "),
        ]), "health"),
      timeline,
      h("h2", {}, t("recent")),
      table([t("time"), t("type"), t("service"), t("email"), "trace_id"],
        o.recent.map((e) => [dateTime(e.ts, period.tz), e.event_type, e.service, maskedEmail(e.email_fingerprint, e.email_domain), e.trace_id ?? "–"])),
    );
    dailyChart(timeline, o.timeline, `${t("services")} · ${o.tz}`);
  });
}
