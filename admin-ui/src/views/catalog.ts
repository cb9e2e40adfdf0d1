import { get, type Schema } from "../api";
import { dateTime, h, num, pct } from "../format";
import { t, tx } from "../i18n";
import { period, rangeParams } from "../state";
import { table, withStates } from "../ui";

export async function render(root: HTMLElement): Promise<void> {
  const body = h("div");
  root.replaceChildren(h("h2", {}, t("catalog")), body);
  await withStates(body, async () => {
    const c = await get<Schema<"Catalog">>("/internal/catalog", rangeParams());
    const events = c.events;
    body.replaceChildren(
      table([t("type"), t("service"), t("detail"), t("count"), t("sampledOut"), t("rejected"), t("rejectionRate"), t("firstSeen"), t("lastSeen")],
        events.map((e) => [
          e.name, e.service, tx(e.description), `${num(e.count)}${e.estimated ? " *" : ""}`, num(e.sampled_out), num(e.rejected),
          pct(e.rejection_rate), dateTime(e.first_seen, period.tz), dateTime(e.last_seen, period.tz),
        ]), "catalog"),
      h("p", { class: "muted" }, `* ${t("estimate")}`),
    );
  });
}
