import { get, type Schema } from "../api";
import { dateTime, h, maskedEmail, num } from "../format";
import { t } from "../i18n";
import { period } from "../state";
import { empty, table, withStates } from "../ui";

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const input = h("input", { name: "trace_id", placeholder: t("tracePlaceholder"), autocomplete: "off", id: "trace-input" });
  input.value = params.get("id") ?? "";
  const form = h("form", { class: "filters" }, input, h("button", { type: "submit" }, t("openTrace")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(`trace?id=${encodeURIComponent(input.value.trim())}`);
  });
  const body = h("div", { id: "timeline" });
  root.replaceChildren(h("h2", {}, t("trace")), form, body);
  const id = params.get("id");
  if (!id) return;
  await withStates(body, async () => {
    const tl = await get<Schema<"Timeline">>(`/internal/trace/${encodeURIComponent(id)}`);
    if (!tl.events.length) {
      body.replaceChildren(empty());
      return;
    }
    body.replaceChildren(
      h("p", { class: "trace-meta" }, `${t("services")}: ${tl.services.join(", ")} · ${t("sources")}: ${tl.sources.join(", ")} · ${t("failures")}: ${tl.failures.length} · ${num(tl.duration_ms)} ms`),
      table([t("time"), t("elapsed"), t("type"), t("service"), t("source"), t("email"), t("result"), t("errorCode"), t("detail")],
        tl.events.map((e) => [
          dateTime(e.ts, period.tz), `+${num(e.elapsed_ms)} ms`, e.event_type, e.service, e.source,
          maskedEmail(e.email_fingerprint, e.email_domain),
          e.success === false || e.error_code ? t("failure") : e.success ? t("success") : "–",
          e.error_code ?? "", e.error_message ?? "",
        ]), "timeline"),
    );
  });
}
