import { can, get, request, type Schema } from "../api";
import { dateTime, h, num } from "../format";
import { t } from "../i18n";
import { period, rangeParams } from "../state";
import { empty, errorState, table, withStates } from "../ui";

export async function render(root: HTMLElement): Promise<void> {
  const result = h("div", { class: "replay-result", role: "status" });
  // Replaying is an admin write: a key that may not call it does not see the button.
  const replay = can("POST /internal/quarantine/replay") ? h("button", { type: "button", id: "replay" }, t("replay")) : null;
  const body = h("div");
  root.replaceChildren(h("h2", {}, t("quarantine")), h("div", { class: "toolbar" }, replay, result), body);
  const load = () => withStates(body, async () => {
    const page = await get<Schema<"QuarantinePage">>("/internal/quarantine", { ...rangeParams(), status: "pending", limit: "100" });
    body.replaceChildren(page.events.length
      ? table([t("time"), t("source"), t("type"), "event_id", t("reasons")],
        page.events.map((q) => [dateTime(q.received_at, period.tz), q.source, q.event_type ?? "–", q.event_id,
          q.errors.map((e) => `${e.code} @ ${e.field}`).join("; ")]), "quarantine")
      : empty());
  });
  replay?.addEventListener("click", async () => {
    replay.disabled = true;
    result.replaceChildren();
    try {
      const r = await request<Schema<"ReplayOutcome">>(
        "/internal/quarantine/replay", { method: "POST" });
      result.textContent = `${t("replayDone")}: ${num(r.replayed)} / ${num(r.examined)} (${t("failures")} ${num(r.still_failing)})`;
      await load();
    } catch (e) {
      // A failed replay can be tried again from where it is said.
      result.replaceChildren(errorState(e, () => replay.click()));
    } finally {
      replay.disabled = false;
    }
  });
  await load();
}
