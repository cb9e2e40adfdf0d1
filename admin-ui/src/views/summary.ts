import { get, type Schema } from "../api";
import { h, money, num, pct, perUser } from "../format";
import { t, tx, type Key } from "../i18n";
import { isRunning, previousRange, rangeParams } from "../state";
import { card, deltaBadge, withStates } from "../ui";

type Kpi = Schema<"KpiValue">;

export function formatKpi(k: Kpi): string {
  if (k.value == null) return "–";
  if (k.unit === "money") return money(k.value as { currency: string; amount: number }[]);
  if (k.unit === "ratio") return pct(Number(k.value));
  if (k.unit === "count") return num(Number(k.value));
  if (k.unit === "per_user") return perUser(Number(k.value));
  return String(k.value);
}

/** The change against the previous period (the same elapsed time of it while this one runs), coloured by which way the catalog says is good. */
function delta(now: Kpi, before: Kpi | undefined): HTMLElement | null {
  if (!before || typeof now.value !== "number" || typeof before.value !== "number") return null;
  const good = now.better === "higher";
  if (now.unit === "ratio") {
    const d = (now.value - before.value) * 100;
    return deltaBadge(d, `${d > 0 ? "+" : ""}${d.toFixed(1)}%p`, good);
  }
  if (before.value === 0) return null;
  const d = (now.value - before.value) / before.value;
  return deltaBadge(d, `${d > 0 ? "+" : ""}${pct(d)}`, good);
}

export async function render(root: HTMLElement): Promise<void> {
  const heading = h("h2", {}, t("summary"));
  const body = h("div");
  root.replaceChildren(heading, body);
  await withStates(body, async () => {
    const [cur, prev] = await Promise.all([
      get<Schema<"Summary">>("/internal/funnel-events/summary", rangeParams()),
      get<Schema<"Summary">>("/internal/funnel-events/summary", previousRange()),
    ]);
    // The order of docs/product.md: the funnel's cards first, then the ops lenses, then usage;
    // within a lens, the catalog's declared order (the API's order; the sort is stable).
    const order = ["funnel", "revenue", "content", "workspace", "engagement", "usage"];
    const entries = Object.entries(cur.kpis).sort((a, b) => order.indexOf(a[1].lens) - order.indexOf(b[1].lens));
    const groups = new Map<string, [string, Kpi][]>();
    for (const [id, k] of entries) {
      const g = `${t(`lens_${k.lens}` as Key)}${k.service ? ` · ${k.service}` : ""}`;
      groups.set(g, [...(groups.get(g) ?? []), [id, k]]);
    }
    const compared = `${t("change")}: ${isRunning() ? t("comparedElapsed") : t("vsPrevious")}`;
    body.replaceChildren(
      h("p", { class: "muted" }, compared),
      ...[...groups].map(([g, kpis]) =>
        h("section", { class: "kpi-group" }, h("h3", {}, g),
          h("div", { class: "cards" }, ...kpis.map(([id, k]) => {
            const note = h("span", {}, delta(k, prev.kpis[id]) ?? "", k.estimate ? ` · ${t("estimate")}` : "");
            const el = card(tx(k.label), formatKpi(k), note);
            el.dataset.kpi = id;
            return el;
          })))),
    );
  });
}
