import { get, type Schema } from "../api";
import { h, num, pct } from "../format";
import { t, tx } from "../i18n";
import { rangeParams } from "../state";
import { withStates } from "../ui";

export async function render(root: HTMLElement): Promise<void> {
  await withStates(root, async () => {
    const { funnels } = await get<Schema<"FunnelList">>("/internal/funnels");
    const results = await Promise.all(funnels.map((f) =>
      get<Schema<"FunnelCount">>(`/internal/funnels/${f.name}`, rangeParams())));
    root.replaceChildren(...results.map(({ funnel }) => {
      const top = Math.max(1, funnel.steps[0]?.count ?? 1);
      return h("section", { class: "funnel", "data-funnel": funnel.name },
        h("h2", {}, tx(funnel.label), " · ", `${t("overall")} ${pct(funnel.overall_conversion)}`),
        ...funnel.steps.map((s) => {
          const bar = h("div", { class: "bar" });
          // A CSS custom property set through CSSOM, which the strict CSP allows.
          bar.style.setProperty("--w", `${(100 * s.count) / top}%`);
          return h("div", { class: "step" },
            h("div", { class: "step-head" }, h("span", {}, `${s.index + 1}. ${tx(s.label)}`), h("span", { class: "muted" }, s.event)),
            h("div", { class: "bar-track" }, bar),
            h("div", { class: "step-numbers" }, `${t("count")} ${num(s.count)} · ${t("conversion")} ${pct(s.conversion_from_previous)}`,
              s.dropped ? ` · ${t("dropOff")}: ${s.drop_off_by_error.map((d) => `${d.error_code} ${num(d.count)}`).join(", ")}` : ""));
        }));
    }));
  });
}
