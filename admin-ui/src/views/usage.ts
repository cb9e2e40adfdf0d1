// The quota screen: plans and limits, the overrides (edited with an admin key
// only), the meter beside the usage KPI, a user's month, every action's month,
// the users at their limit, and usage over a range of months.
import { request, get, whoami, type Schema } from "../api";
import { dateTime, h, num } from "../format";
import { t, tx } from "../i18n";
import { clearInvalid, empty, errorText, invalid, table, withStates } from "../ui";

type UsageLine = Schema<"UsageLine">;
type Quotas = Schema<"Quotas">;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const OVERRIDES = "/internal/quotas/overrides";
/** The route whoami lists for a key that may edit overrides (admin). */
export const EDIT_ROUTE = `PUT ${OVERRIDES}`;
/** The summary KPI of each action's monthly usage (src/catalog/kpis.rs). */
const usageKpi = (action: string) => `easypick_usage_${action}`;

function plansTable(q: Quotas): HTMLElement {
  const box = table([t("action"), t("quotaEvents"), t("quotaCondition"), "free", "pro", "team"],
    q.actions.map((a) => [`${a.name} · ${tx(a.label)}`, a.events.join(", "), a.only_when ? `${a.only_when[0]} = ${a.only_when[1]}` : "–",
      num(a.limits.free), num(a.limits.pro), num(a.limits.team)]), "quota-plans", t("quotaPlans"));
  box.querySelectorAll("tbody tr").forEach((tr, i) => ((tr as HTMLElement).dataset.action = q.actions[i].name));
  return h("section", { id: "quota-plans" }, h("h3", {}, t("quotaPlans")),
    h("p", { class: "muted" }, `${t("quotaPlanFrom")}: ${q.plan_from}. ${t("month")}: ${q.time_zone}.`), box);
}

/** The overrides, with a form and a remove button per row when the key may edit them. */
function overridesSection(q: Quotas, canEdit: boolean, reload: () => Promise<void>): HTMLElement {
  const problem = h("p", { class: "field-problem", role: "alert", id: "override-problem" });
  problem.hidden = true;
  const fail = (e: unknown) => { problem.textContent = errorText(e); problem.hidden = false; };
  const remove = (o: Schema<"OverrideRow">) => async () => {
    try {
      await request(`${OVERRIDES}?${new URLSearchParams({ subject_kind: o.subject_kind, subject_id: o.subject_id, action: o.action })}`, { method: "DELETE" });
      await reload();
    } catch (e) { fail(e); }
  };
  const rows = q.overrides.map((o) => [o.subject_kind, o.subject_id, o.action, num(o.monthly_limit), dateTime(o.updated_at, "Asia/Seoul"),
    ...(canEdit ? [h("button", { type: "button", class: "override-remove", onclick: () => void remove(o)() }, t("quotaRemove"))] : [])]);
  const box = q.overrides.length
    ? table([t("quotaSubjectKind"), t("quotaSubjectId"), t("action"), t("quotaMonthlyLimit"), t("quotaUpdated"), ...(canEdit ? [""] : [])], rows, "quota-overrides", t("quotaOverrides"))
    : empty();
  box.querySelectorAll("tbody tr").forEach((tr, i) => {
    const o = q.overrides[i];
    Object.assign((tr as HTMLElement).dataset, { kind: o.subject_kind, subject: o.subject_id, action: o.action, limit: String(o.monthly_limit) });
  });
  const section = h("section", { id: "quota-overrides" }, h("h3", {}, t("quotaOverrides")), box);
  if (!canEdit) {
    section.append(h("p", { class: "muted" }, t("quotaAdminOnly")));
    return section;
  }
  const kind = h("select", { name: "subject_kind" }, h("option", { value: "user" }, "user"), h("option", { value: "tenant" }, "tenant"));
  const subject = h("input", { name: "subject_id", autocomplete: "off", maxlength: "128" });
  const action = h("select", { name: "action" }, ...q.actions.map((a) => h("option", { value: a.name }, a.name)));
  const limit = h("input", { name: "monthly_limit", inputmode: "numeric", autocomplete: "off" });
  const form = h("form", { class: "filters", id: "override-form", novalidate: true },
    h("label", {}, t("quotaSubjectKind"), kind), h("label", {}, t("quotaSubjectId"), subject), h("label", {}, t("action"), action),
    h("label", {}, t("quotaMonthlyLimit"), limit), h("button", { type: "submit" }, t("quotaSet")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearInvalid(form);
    problem.hidden = true;
    const id = subject.value.trim();
    if (!id || id.length > 128) return void invalid(subject, t("quotaSubjectBad"));
    const n = Number(limit.value.trim());
    if (!/^\d{1,10}$/.test(limit.value.trim()) || n > 1_000_000_000) return void invalid(limit, t("quotaLimitBad"));
    void (async () => {
      try {
        await request(OVERRIDES, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ subject_kind: kind.value, subject_id: id, action: action.value, monthly_limit: n }),
        });
        await reload();
      } catch (e) { fail(e); }
    })();
  });
  section.append(form, problem);
  return section;
}

/**
 * The meter (the quota's count of the month) beside the usage KPI of the same
 * month, and why they differ when they may: the meter keeps only the events that
 * meet its condition (ai_tool_access: `action_type = use`), the KPI keeps every
 * event of the types, and a sampled KPI is an estimate.
 */
function meterVsKpi(q: Quotas, meter: Schema<"UsageSummary">, kpis: Schema<"Summary">["kpis"]): HTMLElement {
  const rows = q.actions.map((a) => {
    const k = kpis[usageKpi(a.name)];
    const used = meter.actions.find((l) => l.action === a.name)?.total_used ?? 0;
    const why = [a.only_when ? `${t("quotaOnlyWhen")} ${a.only_when[0]} = ${a.only_when[1]}; ${t("quotaKpiAll")}` : t("quotaSame"),
      k?.estimate ? t("quotaSampled") : ""].filter(Boolean).join(" ");
    return [a.name, num(used), k?.value == null ? "–" : num(Number(k.value)), why];
  });
  const box = table([t("action"), t("quotaMeter"), t("quotaKpi"), t("quotaWhy")], rows, "quota-kpi", t("quotaMeterVsKpi"));
  box.querySelectorAll("tbody tr").forEach((tr, i) => {
    const a = q.actions[i];
    Object.assign((tr as HTMLElement).dataset, { action: a.name, kpi: usageKpi(a.name), differs: String(!!a.only_when) });
  });
  return h("section", { id: "quota-kpi" }, h("h3", {}, `${t("quotaMeterVsKpi")} · ${meter.month.month}`), box);
}

function monthsTable(history: Schema<"UsageHistory">): HTMLElement {
  const rows: (string | Node)[][] = [];
  const keys: string[][] = [];
  for (const m of history.months) {
    for (const l of m.user ?? []) { rows.push([m.month.month, l.action, num(l.used), num(l.limit), num(l.remaining)]); keys.push([m.month.month, l.action]); }
    for (const a of m.actions ?? []) { rows.push([m.month.month, a.action, num(a.total_used), num(a.users), num(a.users_at_limit)]); keys.push([m.month.month, a.action]); }
  }
  const headers = history.user_id
    ? [t("month"), t("action"), t("used"), t("limit"), t("remaining")]
    : [t("month"), t("action"), t("used"), t("users"), t("overQuota")];
  const box = table(headers, rows, "usage-months", t("quotaMonths"));
  box.querySelectorAll("tbody tr").forEach((tr, i) => Object.assign((tr as HTMLElement).dataset, { month: keys[i][0], action: keys[i][1] }));
  return box;
}

export async function render(root: HTMLElement, params: URLSearchParams, go: (hash: string) => void): Promise<void> {
  const field = (name: string, placeholder: string) => {
    const input = h("input", { name, placeholder, autocomplete: "off" });
    input.value = params.get(name) ?? "";
    return input;
  };
  const user = field("user_id", t("userId"));
  const month = field("month", "2026-03");
  const fromMonth = field("from_month", "2026-01");
  const toMonth = field("to_month", "2026-06");
  const form = h("form", { class: "filters", id: "usage-form", novalidate: true },
    h("label", {}, t("userId"), user), h("label", {}, `${t("month")} (YYYY-MM)`, month),
    h("label", {}, `${t("quotaFromMonth")} (YYYY-MM)`, fromMonth), h("label", {}, `${t("quotaToMonth")} (YYYY-MM)`, toMonth),
    h("button", { type: "submit" }, t("lookup")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearInvalid(form);
    for (const input of [month, fromMonth, toMonth]) {
      if (input.value && !MONTH.test(input.value.trim())) return void invalid(input, t("monthBad"));
    }
    const next = new URLSearchParams();
    for (const input of [user, month, fromMonth, toMonth]) if (input.value.trim()) next.set(input.name, input.value.trim());
    go(`usage?${next}`);
  });
  const quotas = h("div", { id: "quota-box" });
  const mine = h("div");
  const system = h("div");
  const over = h("div");
  const months = h("div", { id: "usage-months" });
  root.replaceChildren(h("h2", {}, t("usage")), form, quotas, mine, system, h("h3", {}, t("overQuota")), over,
    h("h3", {}, t("quotaMonths")), months);
  const m = params.get("month") ?? undefined;
  const line = (l: UsageLine) => [l.action, num(l.used), num(l.limit), num(l.remaining)];
  const loadQuotas = async () => {
    const [q, me, meter] = await Promise.all([
      get<Quotas>("/internal/quotas"),
      whoami(),
      get<Schema<"UsageSummary">>("/internal/usage/summary", { month: m }),
    ]);
    const kpis = await get<Schema<"Summary">>("/internal/funnel-events/summary", { from: meter.month.from, to: meter.month.to, tz: meter.month.time_zone });
    const canEdit = me.routes.includes(EDIT_ROUTE);
    quotas.replaceChildren(plansTable(q), meterVsKpi(q, meter, kpis.kpis), overridesSection(q, canEdit, () => withStates(quotas, loadQuotas)));
  };
  await Promise.all([
    withStates(quotas, loadQuotas),
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
      if (!o.users.length) return void over.replaceChildren(empty());
      const box = table([t("userId"), t("action"), t("used"), t("limit"), t("remaining")], o.users.map((u) => [u.user_id, ...line(u.line)]), "over-quota", t("overQuota"));
      box.querySelectorAll("tbody tr").forEach((tr, i) => Object.assign((tr as HTMLElement).dataset, { user: o.users[i].user_id, action: o.users[i].line.action }));
      over.replaceChildren(box);
    }),
    withStates(months, async () => {
      const history = await get<Schema<"UsageHistory">>("/internal/usage/months", {
        from_month: params.get("from_month") ?? undefined, to_month: params.get("to_month") ?? undefined, user_id: params.get("user_id") ?? undefined,
      });
      months.replaceChildren(h("p", { class: "muted" }, `${history.months[0]?.month.month ?? ""} – ${history.months.at(-1)?.month.month ?? ""} (${history.time_zone})`),
        monthsTable(history));
    }),
  ]);
}
