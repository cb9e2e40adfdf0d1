import { get, type Schema } from "../api";
import { h, num } from "../format";
import { t } from "../i18n";
import { clearInvalid, empty, invalid, table, withStates } from "../ui";

type UsageLine = Schema<"UsageLine">;

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const user = h("input", { name: "user_id", placeholder: t("userId"), autocomplete: "off" });
  user.value = params.get("user_id") ?? "";
  const month = h("input", { name: "month", placeholder: "2026-03", autocomplete: "off" });
  month.value = params.get("month") ?? "";
  const form = h("form", { class: "filters", id: "usage-form", novalidate: true },
    h("label", {}, t("userId"), user), h("label", {}, `${t("month")} (YYYY-MM)`, month), h("button", { type: "submit" }, t("lookup")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearInvalid(form);
    if (month.value && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month.value.trim())) return void invalid(month, t("monthBad"));
    go(`usage?${new URLSearchParams({ ...(user.value ? { user_id: user.value } : {}), ...(month.value ? { month: month.value } : {}) })}`);
  });
  const mine = h("div");
  const system = h("div");
  const over = h("div");
  root.replaceChildren(h("h2", {}, t("usage")), form, mine, system, h("h3", {}, t("overQuota")), over);
  const m = params.get("month") ?? undefined;
  const line = (l: UsageLine) => [l.action, num(l.used), num(l.limit), num(l.remaining)];
  await Promise.all([
    params.get("user_id") ? withStates(mine, async () => {
      const u = await get<Schema<"UserUsage">>("/internal/usage", { user_id: params.get("user_id")!, month: m });
      mine.replaceChildren(h("p", {}, `${u.month.month} (${u.month.time_zone})`), table([t("action"), t("used"), t("limit"), t("remaining")], u.actions.map(line)));
    }) : Promise.resolve(),
    withStates(system, async () => {
      const s = await get<Schema<"UsageSummary">>("/internal/usage/summary", { month: m });
      system.replaceChildren(h("p", {}, `${t("month")}: ${s.month.month} (${s.month.time_zone})`),
        table([t("action"), t("used"), t("users"), t("overQuota")], s.actions.map((a) => [a.action, num(a.total_used), num(a.users), num(a.users_at_limit)]), "usage-summary"));
    }),
    withStates(over, async () => {
      const o = await get<Schema<"OverQuota">>("/internal/usage/over-quota", { month: m });
      over.replaceChildren(o.users.length ? table([t("userId"), t("action"), t("used"), t("limit"), t("remaining")], o.users.map((u) => [u.user_id, ...line(u.line)])) : empty());
    }),
  ]);
}
