import { get, type Schema } from "../api";
import { h, num, pct } from "../format";
import { t, tx } from "../i18n";
import { link, rangeParams } from "../state";
import { withStates } from "../ui";

type Drop = Schema<"FunnelCount">["funnel"]["steps"][number]["drop_off_by_error"][number];

/** Drop-off reasons, biggest first; subjects that left without an error code are said so in words. */
function reasons(drops: Drop[]): (Node | string)[] {
  return [...drops].sort((a, b) => b.count - a.count || a.error_code.localeCompare(b.error_code)).flatMap((d, i) => [
    i ? ", " : "",
    d.error_code === "none"
      ? `${t("noErrorCode")} ${num(d.count)}`
      : h("a", { href: link(`feed?error_code=${encodeURIComponent(d.error_code)}`), class: "drop-reason" }, `${d.error_code} ${num(d.count)}`),
  ]);
}

export async function render(root: HTMLElement): Promise<void> {
  const body = h("div");
  root.replaceChildren(h("h2", {}, t("funnel")), h("p", { class: "muted funnel-explain", id: "funnel-explain" }, t("funnelExplain")), body);
  await withStates(body, async () => {
    const { funnels } = await get<Schema<"FunnelList">>("/internal/funnels");
    const results = await Promise.all(funnels.map((f) =>
      get<Schema<"FunnelCount">>(`/internal/funnels/${f.name}`, rangeParams())));
    body.replaceChildren(...results.map(({ funnel }) => {
      const top = Math.max(1, funnel.steps[0]?.count ?? 1);
      return h("section", { class: "funnel", "data-funnel": funnel.name, "aria-describedby": "funnel-explain" },
        h("h3", {}, tx(funnel.label), " · ", `${t("overall")} ${pct(funnel.overall_conversion)}`),
        h("ol", { class: "steps" }, ...funnel.steps.map((s) => {
          const bar = h("div", { class: "bar" });
          // A CSS custom property set through CSSOM, which the strict CSP allows.
          bar.style.setProperty("--w", `${(100 * s.count) / top}%`);
          return h("li", { class: "step", "data-event": s.event },
            h("div", { class: "step-head" }, h("span", {}, `${s.index + 1}. ${tx(s.label)}`), h("span", { class: "muted" }, s.event)),
            h("div", { class: "bar-track", "aria-hidden": "true" }, bar),
            h("div", { class: "step-numbers" }, `${t("count")} ${num(s.count)} · ${t("conversion")} ${pct(s.conversion_from_previous)}`,
              s.dropped ? h("span", {}, ` · ${t("dropOff")}: `, ...reasons(s.drop_off_by_error)) : ""),
            // Who dropped here: their traces open the timeline.
            s.dropped_traces.length
              ? h("details", { class: "dropped" }, h("summary", {}, `${t("droppedSubjects")} (${s.dropped_traces.length}/${num(s.dropped)})`),
                h("ul", {}, ...s.dropped_traces.map((id) => h("li", {}, h("a", { href: link(`trace?id=${encodeURIComponent(id)}`), class: "dropped-trace" }, id)))))
              : "");
        })));
    }));
  });
}
