import { can, get, type Schema } from "../api";
import { dateTime, h, maskedEmail, money, num, pct } from "../format";
import { t, tx, type Key } from "../i18n";
import { dayCount, isRunning, link, period, previousRange, rangeParams } from "../state";
import { card, deltaBadge, table, withStates } from "../ui";
import { formatKpi } from "./summary";
import { dailyChart } from "./trends";

// The ops console's lenses (docs/product.md): which KPI lenses each service shows.
const LENSES: [string, string][] = [
  ["presstuner", "revenue"],
  ["presstuner", "workspace"],
  ["presstuner", "content"],
  ["pluid", "engagement"],
];
/** An error rate from which a service is `failing`. */
export const FAILING_RATE = 0.2;
/** A running period with nothing for this long is `quiet` (the API's own rule). */
const QUIET_MS = 24 * 3_600_000;
/** How often the recent events refresh (only while the tab is visible). */
export const REFRESH_MS = 15_000;

type Service = Schema<"ServiceSnapshot">;

/** The service's state for the period shown, not "now": a past period with no events is not `live`. */
export function serviceState(s: Service, running: boolean, now = Date.now()): "live" | "failing" | "quiet" | "idle" | "silent" {
  if (!s.last_seen) return "silent";
  if (s.events === 0) return "idle";
  if (s.failures / s.events >= FAILING_RATE) return "failing";
  if (running && now - Date.parse(s.last_seen) > QUIET_MS) return "quiet";
  return "live";
}

/**
 * The services and their state now (the API's `health`: live, quiet, silent),
 * whatever period is shown, with when each last sent.
 */
function servicesCard(services: Service[]): HTMLElement {
  const heading = h("h3", { id: "services-now-title" }, t("servicesNow"));
  return h("section", { class: "card services-now", id: "services-now", "aria-labelledby": "services-now-title" },
    heading,
    h("p", { class: "muted" }, t("servicesNowHint")),
    h("ul", {}, ...services.map((x) => h("li", { "data-service": x.service, "data-health": x.health },
      h("strong", {}, x.service), " ",
      h("span", { class: `health ${x.health}` }, t(`state_${x.health}` as Key)), " · ",
      h("span", { class: "last-seen" }, `${t("lastSeen")}: ${dateTime(x.last_seen, period.tz)}`)))));
}

function change(now: number, before: number | undefined): [number | null, string] {
  if (before == null) return [null, ""];
  if (before === 0) return now === 0 ? [0, "0%"] : [1, `+${num(now)}`];
  const d = (now - before) / before;
  return [d, `${d > 0 ? "+" : ""}${pct(d)}`];
}

export async function render(root: HTMLElement, _params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const heading = h("h2", {}, t("ops"));
  const body = h("div");
  root.replaceChildren(heading, body);
  await withStates(body, async () => {
    // A one-day period charts its services by hour, as Trends does.
    const bucket = dayCount() === 1 ? { bucket: "hour" } : {};
    const [o, prev, s] = await Promise.all([
      get<Schema<"Overview">>("/api/overview", { ...rangeParams(), ...bucket }),
      get<Schema<"Overview">>("/api/overview", previousRange()),
      get<Schema<"Summary">>("/internal/funnel-events/summary", rangeParams()),
    ]);
    const running = isRunning();
    const before = new Map(prev.services.map((x) => [x.service, x]));
    const lens = (service: string, name: string) =>
      h("section", { class: "lens", "data-lens": `${service}-${name}` }, h("h3", {}, `${service} · ${t(`lens_${name}` as Key)}`),
        h("div", { class: "cards" }, ...Object.entries(s.kpis)
          .filter(([, k]) => k.service === service && k.lens === name)
          .map(([id, k]) => { const c = card(tx(k.label), formatKpi(k)); c.dataset.kpi = id; return c; })));
    const feedOf = (type: string) => link(`feed?type=${encodeURIComponent(type)}`);
    const rows = o.services.map((x) => {
      const state = serviceState(x, running);
      const [d, text] = change(x.events, before.get(x.service)?.events);
      return [
        x.service,
        h("span", { class: `health ${state}`, "data-state": state }, t(`state_${state}` as Key)),
        num(x.events),
        x.events ? pct(x.failures / x.events) : "–",
        deltaBadge(d, text, true) ?? "–",
        dateTime(x.last_seen, period.tz),
        x.failing_types.length
          ? h("span", { class: "failing-types" }, ...x.failing_types.flatMap((f, i) => [i ? ", " : "",
            h("a", { href: feedOf(f.event_type), class: "failing-type", "data-type": f.event_type }, `${f.event_type} ${num(f.count)}`)]))
          : "–",
        num(x.users), money(x.revenue),
      ];
    });
    const healthTable = table([t("service"), t("status"), t("events"), t("errorRate"), t("change"), t("lastSeen"), t("failingTypes"), t("users"), t("revenue")], rows, "health", t("health"));
    healthTable.querySelectorAll("tbody tr").forEach((tr, i) => ((tr as HTMLElement).dataset.service = o.services[i].service));
    const timeline = h("div", { class: "chart", id: "ops-chart" });
    const recentBox = h("div", { id: "ops-recent" });
    const recentTable = (events: Schema<"EventView">[]) => {
      const box = table([t("time"), t("type"), t("service"), t("email"), "trace_id", t("user"), t("session")],
        events.map((e) => [dateTime(e.ts, period.tz), e.event_type, e.service, maskedEmail(e.email_fingerprint, e.email_domain),
          e.trace_id ? h("a", { href: link(`trace?id=${encodeURIComponent(e.trace_id)}`), class: "trace-link" }, e.trace_id) : "–",
          e.user_id ?? "–", e.session_id ?? "–"]), "recent", t("recent"));
      box.querySelectorAll("tbody tr").forEach((tr, i) => ((tr as HTMLElement).dataset.id = String(events[i].id)));
      return box;
    };
    recentBox.replaceChildren(recentTable(o.recent));
    body.replaceChildren(
      h("div", { class: "cards" },
        card(t("events"), num(o.totals.events)), card(t("users"), num(o.totals.users)),
        card(t("sessions"), num(o.totals.sessions)), card(t("today"), num(o.totals.today)), card(t("revenue"), money(o.revenue))),
      servicesCard(o.services),
      h("h3", {}, t("health")),
      h("p", { class: "muted" }, t("stateHint"), " ", `${t("change")}: ${running ? t("comparedElapsed") : t("vsPrevious")}.`),
      healthTable,
      timeline,
      ...LENSES.map(([svc, name]) => lens(svc, name)),
      h("h3", {}, t("recent")),
      h("p", { class: "muted" }, t("refreshing")),
      recentBox,
    );
    dailyChart(timeline, o.timeline, `${t("services")} · ${o.tz}`);

    // The recent events refresh while this screen is shown and the tab is visible.
    const viaFeed = can("GET /internal/funnel-events");
    const refresh = async () => {
      if (document.hidden || !document.body.contains(recentBox)) return;
      try {
        const events = viaFeed
          ? (await get<Schema<"EventPage">>("/internal/funnel-events", { ...rangeParams(), limit: "20" })).events
          : (await get<Schema<"Overview">>("/api/overview", rangeParams())).recent;
        recentBox.replaceChildren(recentTable(events));
        recentBox.dataset.refreshed = String(Date.now());
      } catch {
        // The next tick tries again; the rows shown stay.
      }
    };
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    const onVisible = () => { if (!document.hidden) void refresh(); };
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("hashchange", () => { window.clearInterval(timer); document.removeEventListener("visibilitychange", onVisible); }, { once: true });
    void go;
  });
}
