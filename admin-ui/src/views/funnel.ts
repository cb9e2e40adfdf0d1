import { get, type Schema } from "../api";
import { h, num, pct } from "../format";
import { t, tx } from "../i18n";
import { link, rangeParams } from "../state";
import { table, withStates } from "../ui";

type Drop = Schema<"FunnelCount">["funnel"]["steps"][number]["drop_off_by_error"][number];
type Breakdown = Schema<"FunnelBreakdown">;

/** The dimensions every funnel splits by (GET /internal/funnels/{name}?by=…); string properties of its steps come on top. */
export const BASE_DIMENSIONS = ["email_domain", "source", "tenant_id"];
/** The address parameter holding a funnel's breakdown: `by.<funnel name>`. */
const byParam = (funnel: string) => `by.${funnel}`;

/** The string properties the funnel's step types declare, from the catalog: the API accepts them as `by`. */
function propertiesOf(steps: string[], catalog: Schema<"Catalog"> | null): string[] {
  const names = new Set<string>();
  for (const e of catalog?.events ?? []) {
    if (!steps.includes(e.name)) continue;
    for (const p of e.params) if (p.kind === "string") names.add(p.name);
  }
  for (const d of BASE_DIMENSIONS) names.delete(d);
  return [...names].sort();
}

/** Each group's subjects, step counts with conversion from the previous step, and overall conversion. */
function breakdownTable(b: Breakdown, steps: { label: Schema<"Text">; event: string }[]): HTMLElement {
  const groupName = (g: Breakdown["groups"][number]) => (g.other ? t("breakdownOther") : g.value ?? t("breakdownNone"));
  const box = table([b.by, t("subjects"), ...steps.map((s, i) => `${i + 1}. ${tx(s.label)}`), t("overall")],
    b.groups.map((g) => [groupName(g), num(g.subjects),
      ...g.steps.map((s) => `${num(s.count)}${s.index ? ` (${pct(s.conversion_from_previous)})` : ""}`), pct(g.overall_conversion)]),
    "breakdown", `${t("breakdown")}: ${b.by}`);
  box.querySelectorAll("tbody tr").forEach((tr, i) => {
    const g = b.groups[i];
    Object.assign((tr as HTMLElement).dataset, { value: g.other ? "" : g.value ?? "", other: String(g.other), none: String(!g.other && g.value == null) });
  });
  return box;
}

/** Drop-off reasons, biggest first; subjects that left without an error code are said so in words. */
function reasons(drops: Drop[]): (Node | string)[] {
  return [...drops].sort((a, b) => b.count - a.count || a.error_code.localeCompare(b.error_code)).flatMap((d, i) => [
    i ? ", " : "",
    d.error_code === "none"
      ? `${t("noErrorCode")} ${num(d.count)}`
      : h("a", { href: link(`feed?error_code=${encodeURIComponent(d.error_code)}`), class: "drop-reason" }, `${d.error_code} ${num(d.count)}`),
  ]);
}

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const body = h("div");
  root.replaceChildren(h("h2", {}, t("funnel")), h("p", { class: "muted funnel-explain", id: "funnel-explain" }, t("funnelExplain")), body);
  await withStates(body, async () => {
    const [{ funnels }, catalog] = await Promise.all([
      get<Schema<"FunnelList">>("/internal/funnels"),
      // Only for the properties a funnel can be split by: without it, the three base dimensions remain.
      get<Schema<"Catalog">>("/internal/catalog", rangeParams()).catch(() => null),
    ]);
    const results = await Promise.all(funnels.map((f) =>
      get<Schema<"FunnelCount">>(`/internal/funnels/${f.name}`, { ...rangeParams(), by: params.get(byParam(f.name)) ?? undefined })));
    body.replaceChildren(...results.map(({ funnel, breakdown }) => {
      const top = Math.max(1, funnel.steps[0]?.count ?? 1);
      const chosen = breakdown?.by ?? "";
      const by = h("select", { name: byParam(funnel.name), class: "funnel-by", "data-funnel": funnel.name },
        h("option", { value: "" }, t("breakdownNoSplit")),
        ...[...BASE_DIMENSIONS, ...propertiesOf(funnel.steps.map((s) => s.event), catalog)].map((d) => h("option", { value: d }, d)));
      by.value = chosen;
      by.addEventListener("change", () => {
        const next = new URLSearchParams(params);
        if (by.value) next.set(byParam(funnel.name), by.value);
        else next.delete(byParam(funnel.name));
        go(`funnel?${next}`);
      });
      return h("section", { class: "funnel", "data-funnel": funnel.name, "aria-describedby": "funnel-explain" },
        h("h3", {}, tx(funnel.label), " · ", `${t("overall")} ${pct(funnel.overall_conversion)}`),
        h("p", { class: "filters" }, h("label", {}, `${t("breakdown")} `, by)),
        breakdown ? breakdownTable(breakdown, funnel.steps) : "",
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
