import uPlot from "uplot";

import { get, type Schema } from "../api";
import { h, num } from "../format";
import { currentLang, t } from "../i18n";
import { addDays, dayCount, isRunning, midnight, period, rangeParams } from "../state";
import { empty, table, withStates } from "../ui";

/** Ten colours told apart by most colour vision (Tableau 10, darkened for contrast on white). */
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#4d4d4d", "#999900", "#17becf"];
/** Ranges longer than this are read a chunk at a time, with a progress bar. */
const CHUNK_DAYS = 31;
/** Series shown at first: the top few by volume. */
const DEFAULT_SERIES = 5;

/**
 * A daily chart over the period in its zone: points at each local midnight of
 * `tz`, ticks in `tz` (not the browser's zone), the x-axis exactly the period
 * (so `Today` lies within today), the running day dashed. A series picker
 * (top few by volume first; at most one colour each) and a table alternative
 * come with it.
 */
export function dailyChart(el: HTMLElement, daily: Schema<"DailyBucket">[], title: string, tz = period.tz): void {
  const totals = new Map<string, number>();
  for (const d of daily) for (const [k, n] of Object.entries(d.counts)) totals.set(k, (totals.get(k) ?? 0) + n);
  const keys = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  if (!daily.length) {
    el.replaceChildren(empty());
    return;
  }
  // Hourly buckets (a one-day range) are keyed by their UTC start; daily ones by their local date.
  const hourly = daily[0].date.includes("T");
  const xs = daily.map((d) => (hourly ? Date.parse(d.date) : midnight(d.date, tz)) / 1000);
  const start = hourly ? midnight(rangeParams().from, tz) / 1000 : xs[0];
  const end = hourly ? midnight(rangeParams().to, tz) / 1000 : midnight(addDays(daily[daily.length - 1].date, 1), tz) / 1000;
  el.dataset.bucket = hourly ? "hour" : "day";
  // The x-axis's range (seconds), for whoever checks it spans exactly the period.
  el.dataset.xMin = String(start);
  el.dataset.xMax = String(end);
  if (!keys.length) {
    el.replaceChildren(empty());
    return;
  }
  const chosen = new Set(keys.filter((k) => totals.get(k)! > 0).slice(0, DEFAULT_SERIES));
  const running = isRunning();
  const plotBox = h("div", { class: "plot", role: "img", "aria-label": `${title}: ${t("chartTable")}` });
  const picker = h("fieldset", { class: "series-picker" }, h("legend", {}, t("series")), h("p", { class: "muted" }, t("seriesHint")));
  const tableBox = h("div");
  const note = running ? h("p", { class: "muted running-note" }, t("running")) : null;
  el.replaceChildren(h("h3", { class: "chart-title" }, title), plotBox, note ?? "", picker, h("details", { class: "chart-table" }, h("summary", {}, t("chartTable")), tableBox));

  const draw = () => {
    const shown = keys.filter((k) => chosen.has(k));
    const colour = new Map(shown.map((k, i) => [k, COLORS[i % COLORS.length]]));
    // The running bucket: the last one already begun (later hours of today have not happened: no line there).
    const now = Date.now() / 1000;
    const last = running ? Math.max(0, xs.filter((x) => x <= now).length - 1) : xs.length - 1;
    const when = (v: number) => new Intl.DateTimeFormat(currentLang(), hourly ? { timeZone: tz, hour: "2-digit", minute: "2-digit" } : { timeZone: tz, dateStyle: "medium" }).format(v * 1000);
    const series: uPlot.Series[] = [{ label: t("date"), value: (_u, v) => (v == null ? "" : when(v)) }];
    const data: (number | null)[][] = [xs];
    for (const k of shown) {
      const values = daily.map((d) => d.counts[k] ?? 0);
      // The finished days solid; the running day (last point) joined by a dashed segment.
      data.push(values.map((v, i) => (i > last || (running && i === last && last > 0) ? null : v)));
      series.push({ label: k, stroke: colour.get(k), width: 2, points: { show: xs.length < 3 } });
      if (running) {
        data.push(values.map((v, i) => (i >= last - 1 && i <= last ? v : null)));
        series.push({ label: `${k} …`, stroke: colour.get(k), width: 2, dash: [6, 4], points: { show: true } });
      }
    }
    const width = Math.max(260, Math.min(1100, (el.clientWidth || 900) - 24));
    plotBox.replaceChildren();
    new uPlot({
      width, height: width < 500 ? 220 : 320,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: { x: { time: true, range: () => [start, end] } },
      legend: { show: false },
      series,
      axes: [{}, { size: 60 }],
    }, data as uPlot.AlignedData, plotBox);
    picker.querySelectorAll<HTMLButtonElement>("button[data-series]").forEach((b) => {
      const on = chosen.has(b.dataset.series!);
      b.setAttribute("aria-pressed", String(on));
      const swatch = b.querySelector<HTMLElement>(".swatch")!;
      swatch.style.setProperty("--c", colour.get(b.dataset.series!) ?? "transparent");
    });
    tableBox.replaceChildren(table([hourly ? t("hour") : t("date"), ...shown], daily.map((d, i) => [hourly ? when(xs[i]) : d.date, ...shown.map((k) => num(d.counts[k] ?? 0))]), "chart-data", title));
  };
  for (const k of keys) {
    picker.append(h("button", {
      type: "button", class: "series", "data-series": k, "aria-pressed": "false",
      onclick: () => {
        if (chosen.has(k)) chosen.delete(k);
        else if (chosen.size < COLORS.length) chosen.add(k);
        draw();
      },
    }, h("span", { class: "swatch", "aria-hidden": "true" }), `${k} (${num(totals.get(k))})`));
  }
  draw();
}

export async function render(root: HTMLElement): Promise<void> {
  const heading = h("h2", {}, t("trends"));
  const body = h("div");
  root.replaceChildren(heading, body);
  await withStates(body, async () => {
    const range = rangeParams();
    const chunks: { from: string; to: string }[] = [];
    for (let from = range.from; from < range.to; from = addDays(from, CHUNK_DAYS)) {
      const to = addDays(from, CHUNK_DAYS) < range.to ? addDays(from, CHUNK_DAYS) : range.to;
      chunks.push({ from, to });
    }
    const bar = h("progress", { max: String(chunks.length), value: "0", id: "trend-progress", "aria-label": t("progress") });
    if (chunks.length > 1) body.replaceChildren(h("p", { class: "state loading", role: "status" }, `${t("progress")} `, bar));
    const daily: Schema<"DailyBucket">[] = [];
    // A one-day range is charted by hour (the rollups are hourly).
    const bucket = dayCount() === 1 ? "hour" : undefined;
    for (const [i, c] of chunks.entries()) {
      const s = await get<Schema<"Summary">>("/internal/funnel-events/summary", { ...c, tz: range.tz, bucket });
      daily.push(...s.daily);
      bar.value = i + 1;
    }
    const chart = h("div", { class: "chart", id: "trend-chart" });
    body.replaceChildren(chart);
    dailyChart(chart, daily, bucket ? `${range.tz} · ${range.from} · ${t("hour")}` : `${range.tz} · ${daily.length}d`);
  });
}
