import uPlot from "uplot";

import { get, type Schema } from "../api";
import { h, num, pct } from "../format";
import { currentLang, t, tx } from "../i18n";
import { addDays, dayCount, isRunning, midnight, period, rangeParams } from "../state";
import { empty, table, withStates } from "../ui";

/** Ten colours told apart by most colour vision (Tableau 10, darkened for contrast on white). */
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#4d4d4d", "#999900", "#17becf"];
/** Ranges longer than this are read a chunk at a time, with a progress bar. */
const CHUNK_DAYS = 31;
/** Series shown at first: the top few by volume. */
const DEFAULT_SERIES = 5;
/** Rates shown at first: the seed's checkout completion and OTP failure rates. */
const DEFAULT_RATES = ["pregoi_checkout_completion_rate", "pregoi_otp_failure_rate"];

type Summary = Schema<"Summary">;

/** What a time chart draws: its buckets, the series a picker offers, and how values read. */
interface ChartSpec {
  /** The buckets: local dates (`2026-03-01`) by day, UTC instants of each hour's start by hour. */
  dates: string[];
  /** Every series the picker offers, in its order. */
  keys: string[];
  /** The series shown at first. */
  initial: string[];
  /** A series' name (picker, table header). */
  name: (k: string) => string;
  /** What the picker shows after the name (e.g. the series' total). */
  note?: (k: string) => string;
  /** The value of series `k` in bucket `i`; null is a gap in the line, never a zero. */
  value: (i: number, k: string) => number | null;
  /** The table alternative's cell for series `k` in bucket `i`. */
  cell: (i: number, k: string) => string;
  /** The y axis's tick labels and range, when not plain counts. */
  yTicks?: (v: number) => string;
  yRange?: (min: number | null, max: number | null) => [number, number];
  hint: string;
}

/**
 * A chart over the period in its zone: points at each local midnight of
 * `tz` (or at each hour's start), ticks in `tz` (not the browser's zone), the
 * x-axis exactly the period (so `Today` lies within today), the running
 * bucket dashed. A series picker (at most one colour each) and a table
 * alternative come with it. `el` gets `data-bucket`, `data-x-min`,
 * `data-x-max` (seconds) and `data-series` (the shown series, space-separated).
 */
function timeChart(el: HTMLElement, spec: ChartSpec, title: string, tz: string): void {
  const { dates, keys } = spec;
  if (!dates.length) {
    el.replaceChildren(empty());
    return;
  }
  // Hourly buckets (a one-day range) are keyed by their UTC start; daily ones by their local date.
  const hourly = dates[0].includes("T");
  const xs = dates.map((d) => (hourly ? Date.parse(d) : midnight(d, tz)) / 1000);
  const start = hourly ? midnight(rangeParams().from, tz) / 1000 : xs[0];
  const end = hourly ? midnight(rangeParams().to, tz) / 1000 : midnight(addDays(dates[dates.length - 1], 1), tz) / 1000;
  el.dataset.bucket = hourly ? "hour" : "day";
  // The x-axis's range (seconds), for whoever checks it spans exactly the period.
  el.dataset.xMin = String(start);
  el.dataset.xMax = String(end);
  if (!keys.length) {
    el.replaceChildren(empty());
    return;
  }
  const chosen = new Set(spec.initial);
  const running = isRunning();
  const plotBox = h("div", { class: "plot", role: "img", "aria-label": `${title}: ${t("chartTable")}` });
  const picker = h("fieldset", { class: "series-picker" }, h("legend", {}, t("series")), h("p", { class: "muted" }, spec.hint));
  const tableBox = h("div");
  const note = running ? h("p", { class: "muted running-note" }, t("running")) : null;
  el.replaceChildren(h("h3", { class: "chart-title" }, title), plotBox, note ?? "", picker, h("details", { class: "chart-table" }, h("summary", {}, t("chartTable")), tableBox));

  const draw = () => {
    const shown = keys.filter((k) => chosen.has(k));
    el.dataset.series = shown.join(" ");
    const colour = new Map(shown.map((k, i) => [k, COLORS[i % COLORS.length]]));
    // The running bucket: the last one already begun (later hours of today have not happened: no line there).
    const now = Date.now() / 1000;
    const last = running ? Math.max(0, xs.filter((x) => x <= now).length - 1) : xs.length - 1;
    const when = (v: number) => new Intl.DateTimeFormat(currentLang(), hourly ? { timeZone: tz, hour: "2-digit", minute: "2-digit" } : { timeZone: tz, dateStyle: "medium" }).format(v * 1000);
    const series: uPlot.Series[] = [{ label: t("date"), value: (_u, v) => (v == null ? "" : when(v)) }];
    const data: (number | null)[][] = [xs];
    for (const k of shown) {
      const values = dates.map((_d, i) => spec.value(i, k));
      // The finished buckets solid; the running one (last point) joined by a dashed segment.
      data.push(values.map((v, i) => (i > last || (running && i === last && last > 0) ? null : v)));
      series.push({ label: spec.name(k), stroke: colour.get(k), width: 2, points: { show: xs.length < 3 } });
      if (running) {
        data.push(values.map((v, i) => (i >= last - 1 && i <= last ? v : null)));
        series.push({ label: `${spec.name(k)} …`, stroke: colour.get(k), width: 2, dash: [6, 4], points: { show: true } });
      }
    }
    const width = Math.max(260, Math.min(1100, (el.clientWidth || 900) - 24));
    const yTicks = spec.yTicks;
    const yRange = spec.yRange;
    plotBox.replaceChildren();
    new uPlot({
      width, height: width < 500 ? 220 : 320,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: { x: { time: true, range: () => [start, end] }, ...(yRange ? { y: { range: (_u, min, max) => yRange(min, max) } } : {}) },
      legend: { show: false },
      series,
      axes: [{}, { size: 60, ...(yTicks ? { values: (_u: uPlot, splits: number[]) => splits.map(yTicks) } : {}) }],
    }, data as uPlot.AlignedData, plotBox);
    picker.querySelectorAll<HTMLButtonElement>("button[data-series]").forEach((b) => {
      const on = chosen.has(b.dataset.series!);
      b.setAttribute("aria-pressed", String(on));
      const swatch = b.querySelector<HTMLElement>(".swatch")!;
      swatch.style.setProperty("--c", colour.get(b.dataset.series!) ?? "transparent");
    });
    tableBox.replaceChildren(table([hourly ? t("hour") : t("date"), ...shown.map(spec.name)], dates.map((d, i) => [hourly ? when(xs[i]) : d, ...shown.map((k) => spec.cell(i, k))]), "chart-data", title));
  };
  for (const k of keys) {
    picker.append(h("button", {
      type: "button", class: "series", "data-series": k, "aria-pressed": "false",
      onclick: () => {
        if (chosen.has(k)) chosen.delete(k);
        else if (chosen.size < COLORS.length) chosen.add(k);
        draw();
      },
    }, h("span", { class: "swatch", "aria-hidden": "true" }), spec.note ? `${spec.name(k)} (${spec.note(k)})` : spec.name(k)));
  }
  draw();
}

/** Counts per event type over the period: the top few by volume shown first. */
export function dailyChart(el: HTMLElement, daily: Schema<"DailyBucket">[], title: string, tz = period.tz): void {
  const totals = new Map<string, number>();
  for (const d of daily) for (const [k, n] of Object.entries(d.counts)) totals.set(k, (totals.get(k) ?? 0) + n);
  const keys = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  timeChart(el, {
    dates: daily.map((d) => d.date),
    keys,
    initial: keys.filter((k) => totals.get(k)! > 0).slice(0, DEFAULT_SERIES),
    name: (k) => k,
    note: (k) => num(totals.get(k)),
    value: (i, k) => daily[i].counts[k] ?? 0,
    cell: (i, k) => num(daily[i].counts[k] ?? 0),
    hint: t("seriesHint"),
  }, title, tz);
}

/**
 * Every ratio KPI per bucket (`daily_rates`), as percent: a bucket whose
 * denominator is 0 has no value and is a gap in its line and "–" in the
 * table, never 0 %. The seed's two rates are shown first.
 */
export function rateChart(el: HTMLElement, dates: string[], rates: Summary["daily_rates"], kpis: Summary["kpis"], title: string, tz = period.tz): void {
  // Each series by bucket, found by date (the API gives the same buckets as `daily`).
  const byDate = new Map(Object.entries(rates).map(([k, days]) => [k, new Map(days.map((d) => [d.date, d]))]));
  const keys = Object.keys(kpis).filter((k) => byDate.has(k));
  const seed = DEFAULT_RATES.filter((k) => byDate.has(k));
  const at = (i: number, k: string) => byDate.get(k)?.get(dates[i]);
  timeChart(el, {
    dates,
    keys,
    initial: seed.length ? seed : keys.slice(0, DEFAULT_RATES.length),
    name: (k) => tx(kpis[k]?.label) || k,
    value: (i, k) => at(i, k)?.value ?? null,
    cell: (i, k) => {
      const r = at(i, k);
      return r ? `${pct(r.value)} (${num(r.numerator)}/${num(r.denominator)})` : "–";
    },
    yTicks: (v) => pct(v),
    // From 0 % up to a little above the highest rate shown (at most 100 %).
    yRange: (_min, max) => [0, max != null && max > 0 ? Math.min(1, max * 1.1) : 1],
    hint: t("rateSeriesHint"),
  }, title, tz);
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
    const rates: Summary["daily_rates"] = {};
    let kpis: Summary["kpis"] = {};
    // A one-day range is charted by hour (the rollups are hourly).
    const bucket = dayCount() === 1 ? "hour" : undefined;
    for (const [i, c] of chunks.entries()) {
      const s = await get<Schema<"Summary">>("/internal/funnel-events/summary", { ...c, tz: range.tz, bucket });
      daily.push(...s.daily);
      for (const [k, days] of Object.entries(s.daily_rates)) (rates[k] ??= []).push(...days);
      kpis = s.kpis;
      bar.value = i + 1;
    }
    const chart = h("div", { class: "chart", id: "trend-chart" });
    const rateBox = h("div", { class: "chart", id: "rate-chart" });
    body.replaceChildren(chart, rateBox);
    const when = bucket ? `${range.tz} · ${range.from} · ${t("hour")}` : `${range.tz} · ${daily.length}d`;
    dailyChart(chart, daily, when);
    rateChart(rateBox, daily.map((d) => d.date), rates, kpis, `${t("rates")} · ${when}`);
  });
}
