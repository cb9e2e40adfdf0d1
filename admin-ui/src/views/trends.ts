import uPlot from "uplot";

import { get, type Schema } from "../api";
import { h } from "../format";
import { t } from "../i18n";
import { rangeParams } from "../state";
import { empty, withStates } from "../ui";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#9333ea", "#ea580c"];
/** Ranges longer than this are read a chunk at a time, with a progress bar. */
const CHUNK_DAYS = 31;

/** A daily multi-series chart; clicking a legend entry toggles its series (uPlot's legend). */
export function dailyChart(el: HTMLElement, daily: Schema<"DailyBucket">[], title: string): void {
  const keys = [...new Set(daily.flatMap((d) => Object.keys(d.counts)))].sort();
  if (!keys.length) {
    el.replaceChildren(empty());
    return;
  }
  const xs = daily.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
  const data: uPlot.AlignedData = [xs, ...keys.map((k) => daily.map((d) => d.counts[k] ?? 0))];
  const width = Math.max(320, Math.min(1100, el.clientWidth || 900));
  el.replaceChildren();
  new uPlot({
    title, width, height: 320,
    scales: { x: { time: true } },
    series: [{ label: "date", value: (_u, v) => (v == null ? "" : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 2, show: i < 6 }))],
    axes: [{}, { size: 60 }],
  }, data, el);
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export async function render(root: HTMLElement): Promise<void> {
  await withStates(root, async () => {
    const range = rangeParams();
    const chunks: { from: string; to: string }[] = [];
    for (let from = range.from; from < range.to; from = addDays(from, CHUNK_DAYS)) {
      const to = addDays(from, CHUNK_DAYS) < range.to ? addDays(from, CHUNK_DAYS) : range.to;
      chunks.push({ from, to });
    }
    const bar = h("progress", { max: String(chunks.length), value: "0", id: "trend-progress" });
    if (chunks.length > 1) root.replaceChildren(h("p", { class: "state loading", role: "status" }, `${t("progress")} `, bar));
    const daily: Schema<"DailyBucket">[] = [];
    for (const [i, c] of chunks.entries()) {
      const s = await get<Schema<"Summary">>("/internal/funnel-events/summary", { ...c, tz: range.tz });
      daily.push(...s.daily);
      bar.value = i + 1;
    }
    const chart = h("div", { class: "chart", id: "trend-chart" });
    root.replaceChildren(h("h2", {}, t("trends")), chart);
    dailyChart(chart, daily, `${range.tz} · ${daily.length}d`);
  });
}
