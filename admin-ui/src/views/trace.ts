import { get, type Schema } from "../api";
import { dateTime, duration, h, maskedEmail } from "../format";
import { t } from "../i18n";
import { link, period } from "../state";
import { clearInvalid, drills, empty, invalid, propertiesBlock, propertyCount, table, withStates } from "../ui";

/** The trace rule of docs/api.md: `trace_`, visible ASCII, at most 128 characters. */
export const isTraceId = (v: string): boolean => /^trace_[\x21-\x7e]*$/.test(v) && v.length <= 128;

type Step = Schema<"Timeline">["events"][number];

function failed(e: Step, failures: Set<number>): boolean {
  return failures.has(e.id) || e.success === false || !!e.error_code;
}

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const input = h("input", { name: "trace_id", placeholder: "trace_…", autocomplete: "off", id: "trace-input" });
  input.value = params.get("id") ?? "";
  const form = h("form", { class: "filters", id: "trace-form" }, h("label", { for: "trace-input" }, t("tracePlaceholder"), input), h("button", { type: "submit" }, t("openTrace")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearInvalid(form);
    const v = input.value.trim();
    if (!isTraceId(v)) return void invalid(input, t("traceBad"));
    go(`trace?id=${encodeURIComponent(v)}`);
  });
  const body = h("div", { id: "timeline" });
  root.replaceChildren(h("h2", {}, t("trace")), form, body);
  const id = params.get("id");
  if (!id) return;
  await withStates(body, async () => {
    const tl = await get<Schema<"Timeline">>(`/internal/trace/${encodeURIComponent(id)}`);
    if (!tl.events.length) {
      body.replaceChildren(empty(t("noTrace")));
      return;
    }
    const failures = new Set(tl.failures.map((f) => f.id));
    const total = Math.max(1, tl.duration_ms);
    // The waterfall: each event a mark at its offset from the trace's start.
    const waterfall = h("ol", { class: "waterfall", "aria-label": t("waterfall") }, ...tl.events.map((e) => {
      const mark = h("span", { class: "mark" });
      mark.style.setProperty("--at", `${(100 * e.since_start_ms) / total}%`);
      return h("li", { class: failed(e, failures) ? "failed" : "" },
        h("span", { class: "wf-label" }, failed(e, failures) ? `✕ ${e.event_type}` : e.event_type),
        h("span", { class: "wf-track", "aria-hidden": "true" }, mark),
        h("span", { class: "wf-time" }, `+${duration(e.since_start_ms)}`));
    }));
    const person = (e: Step) => e.email_fingerprint
      ? h("a", { href: link(`feed?email_fingerprint=${e.email_fingerprint}`), class: "person", title: t("personEvents") }, maskedEmail(e.email_fingerprint, e.email_domain))
      : "–";
    const props = (e: Step) => propertyCount(e)
      ? h("details", { class: "props" }, h("summary", {}, `${t("properties")} (${propertyCount(e)})`), propertiesBlock(e.properties))
      : "–";
    const tbl = table([t("time"), t("elapsed"), t("type"), t("result"), t("service"), t("source"), t("person"), t("user"), t("tenant"), t("errorCode"), t("detail"), t("properties"), t("drills")],
      tl.events.map((e) => [
        dateTime(e.ts, period.tz), `+${duration(e.elapsed_ms)}`, e.event_type,
        failed(e, failures) ? h("strong", { class: "failure" }, `✕ ${t("failure")}`) : e.success ? t("success") : "–",
        e.service, e.source, person(e), e.user_id ?? "–",
        e.tenant_id ? h("a", { href: link(`feed?tenant_id=${encodeURIComponent(e.tenant_id)}`) }, e.tenant_id) : "–",
        e.error_code ?? "", e.error_message ?? "", props(e), drills(e.links),
      ]), "timeline", t("trace"));
    tbl.querySelectorAll("tbody tr").forEach((tr, i) => { if (failed(tl.events[i], failures)) tr.classList.add("failed"); });
    body.replaceChildren(
      h("p", { class: "trace-meta" }, `${t("duration")}: `, h("strong", { id: "trace-duration" }, duration(tl.duration_ms)),
        ` · ${t("services")}: ${tl.services.join(", ")} · ${t("sources")}: ${tl.sources.join(", ")} · ${t("failures")}: ${tl.failures.length}`),
      waterfall, tbl);
  });
}
