import { get, type Schema } from "../api";
import { h, money, num, pct } from "../format";
import { t, tx, type Key } from "../i18n";
import { previousRange, rangeParams } from "../state";
import { card, withStates } from "../ui";

type Kpi = Schema<"KpiValue">;

export function formatKpi(k: Kpi): string {
  if (k.value == null) return "–";
  if (k.unit === "money") return money(k.value as { currency: string; amount: number }[]);
  if (k.unit === "ratio") return pct(Number(k.value));
  if (k.unit === "count") return num(Number(k.value));
  return String(k.value);
}

function delta(now: Kpi, before: Kpi | undefined): string {
  if (!before || typeof now.value !== "number" || typeof before.value !== "number") return "";
  if (now.unit === "ratio") {
    const d = (now.value - before.value) * 100;
    return `${d >= 0 ? "+" : ""}${d.toFixed(1)}%p ${t("vsPrevious")}`;
  }
  if (before.value === 0) return "";
  const d = (now.value - before.value) / before.value;
  return `${d >= 0 ? "+" : ""}${pct(d)} ${t("vsPrevious")}`;
}

export async function render(root: HTMLElement): Promise<void> {
  await withStates(root, async () => {
    const [cur, prev] = await Promise.all([
      get<Schema<"Summary">>("/internal/funnel-events/summary", rangeParams()),
      get<Schema<"Summary">>("/internal/funnel-events/summary", previousRange()),
    ]);
    // The order of docs/product.md: the funnel's cards first, then the ops lenses, then usage.
    const order = ["funnel", "revenue", "content", "workspace", "engagement", "usage"];
    const entries = Object.entries(cur.kpis).sort((a, b) => order.indexOf(a[1].lens) - order.indexOf(b[1].lens));
    const groups = new Map<string, [string, Kpi][]>();
    for (const [id, k] of entries) {
      const g = `${t(`lens_${k.lens}` as Key)}${k.service ? ` · ${k.service}` : ""}`;
      groups.set(g, [...(groups.get(g) ?? []), [id, k]]);
    }
    root.replaceChildren(
      ...[...groups].map(([g, kpis]) =>
        h("section", { class: "kpi-group" }, h("h2", {}, g),
          h("div", { class: "cards" }, ...kpis.map(([id, k]) => {
            const el = card(tx(k.label), formatKpi(k), [delta(k, prev.kpis[id]), k.estimate ? ` · ${t("estimate")}` : ""].join(""));
            el.dataset.kpi = id;
            return el;
          })))),
    );
  });
}
