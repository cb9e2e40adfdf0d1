import { can, get, type Schema } from "../api";
import { dateTime, h, maskedEmail, money, num, pct } from "../format";
import { t, tx, type Key } from "../i18n";
import { dayCount, isRunning, link, period, previousRange, rangeParams } from "../state";
import { card, deltaBadge, table, withStates } from "../ui";
import { formatKpi } from "./summary";
import { dailyChart } from "./trends";

// The ops console's lenses (docs/product.md, seed 000): which KPI lenses each service shows.
export const LENSES: [string, string][] = [
  ["presstuner", "revenue"],
  ["presstuner", "workspace"],
  ["presstuner", "content"],
  ["pluid", "engagement"],
  ["pluid", "writing"],
  ["pluid", "report"],
];
/** An error rate from which a service is `failing`. */
export const FAILING_RATE = 0.2;
/** A running period with nothing for this long is `quiet` (the API's own rule). */
const QUIET_MS = 24 * 3_600_000;
/** How often the screen refreshes by default, in seconds (only while the tab is visible). */
export const DEFAULT_REFRESH_S = 30;
/** The intervals the operator can pick (0: never). */
const REFRESH_CHOICES = [10, 30, 60, 300, 0];

/** The refresh interval of the address's `every` (seconds, 2 to 3600, or 0 for never), else the default. */
export function refreshSeconds(params: URLSearchParams): number {
  const raw = params.get("every");
  if (raw == null || !/^\d{1,4}$/.test(raw)) return DEFAULT_REFRESH_S;
  const n = Number(raw);
  return n === 0 || (n >= 2 && n <= 3600) ? n : DEFAULT_REFRESH_S;
}

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

type Loaded = { o: Schema<"Overview">; prev: Schema<"Overview">; s: Schema<"Summary">; recent: Schema<"EventView">[] };

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const heading = h("h2", {}, t("ops"));
  const every = refreshSeconds(params);
  const choice = h("select", { name: "every", id: "ops-refresh" },
    ...[...new Set([...REFRESH_CHOICES, every])].map((n) => {
      const o = h("option", { value: String(n) }, n === 0 ? t("refreshOff") : `${n} s`);
      o.selected = n === every;
      return o;
    }));
  choice.addEventListener("change", () => {
    const next = new URLSearchParams(params);
    next.set("every", choice.value);
    go(`ops?${next}`);
  });
  const controls = h("p", { class: "muted ops-refresh" }, h("label", {}, `${t("refreshEvery")} `, choice), " ", t("refreshHidden"));
  const body = h("div", { id: "ops-body", "data-refresh-every": String(every), "data-refreshes": "0" });
  root.replaceChildren(heading, controls, body);
  const viaFeed = () => can("GET /internal/funnel-events");
  const load = async (refreshing: boolean): Promise<Loaded> => {
    // A one-day period charts its services by hour, as Trends does.
    const bucket = dayCount() === 1 ? { bucket: "hour" } : {};
    const [o, prev, s, feed] = await Promise.all([
      get<Schema<"Overview">>("/api/overview", { ...rangeParams(), ...bucket }),
      get<Schema<"Overview">>("/api/overview", previousRange()),
      get<Schema<"Summary">>("/internal/funnel-events/summary", rangeParams()),
      // A refresh reads the recent events from the feed when the key may (the same rows, newest first).
      refreshing && viaFeed() ? get<Schema<"EventPage">>("/internal/funnel-events", { ...rangeParams(), limit: "20" }) : null,
    ]);
    return { o, prev, s, recent: feed ? feed.events : o.recent };
  };
  await withStates(body, async () => {
    draw(body, await load(false));
    // The whole screen refreshes every `every` seconds while it is shown and the tab is
    // visible: one request set at a time (the next waits for the last), none while hidden.
    let timer = 0;
    let inFlight = false;
    let stopped = every === 0;
    const schedule = () => {
      window.clearTimeout(timer);
      if (!stopped && !document.hidden) timer = window.setTimeout(() => void tick(), every * 1000);
    };
    const stop = () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
    const tick = async () => {
      if (stopped) return;
      if (!document.body.contains(body)) return stop();
      if (document.hidden || inFlight) return;
      inFlight = true;
      try {
        const data = await load(true);
        if (!stopped && document.body.contains(body)) {
          draw(body, data);
          body.dataset.refreshes = String(Number(body.dataset.refreshes) + 1);
          body.querySelector<HTMLElement>("#ops-recent")!.dataset.refreshed = String(Date.now());
        }
      } catch {
        // The next tick tries again; what is shown stays.
      } finally {
        inFlight = false;
        schedule();
      }
    };
    const onVisibility = () => {
      if (document.hidden) window.clearTimeout(timer);
      else void tick();
    };
    if (!stopped) {
      document.addEventListener("visibilitychange", onVisibility);
      window.addEventListener("hashchange", stop, { once: true });
      schedule();
    }
  });
}

/** Draws the screen's cards, services, health table, chart, lenses and recent events. */
function draw(body: HTMLElement, { o, prev, s, recent }: Loaded): void {
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
  const recentTable = table([t("time"), t("type"), t("service"), t("email"), "trace_id", t("user"), t("session")],
    recent.map((e) => [dateTime(e.ts, period.tz), e.event_type, e.service, maskedEmail(e.email_fingerprint, e.email_domain),
      e.trace_id ? h("a", { href: link(`trace?id=${encodeURIComponent(e.trace_id)}`), class: "trace-link" }, e.trace_id) : "–",
      e.user_id ?? "–", e.session_id ?? "–"]), "recent", t("recent"));
  recentTable.querySelectorAll("tbody tr").forEach((tr, i) => ((tr as HTMLElement).dataset.id = String(recent[i].id)));
  recentBox.replaceChildren(recentTable);
  body.replaceChildren(
    h("div", { class: "cards", id: "ops-totals" },
      card(t("events"), num(o.totals.events)), card(t("users"), num(o.totals.users)),
      card(t("sessions"), num(o.totals.sessions)), card(t("today"), num(o.totals.today)), card(t("revenue"), money(o.revenue))),
    servicesCard(o.services),
    h("h3", {}, t("health")),
    h("p", { class: "muted" }, t("stateHint"), " ", `${t("change")}: ${running ? t("comparedElapsed") : t("vsPrevious")}.`),
    healthTable,
    timeline,
    ...LENSES.map(([svc, name]) => lens(svc, name)),
    h("h3", {}, t("recent")),
    recentBox,
  );
  dailyChart(timeline, o.timeline, `${t("services")} · ${o.tz}`);
}
