// Compile-time checks of the browser sender's types: only browser-safe event types, with their properties.
import type { FunnelBrowser } from "../src/browser";

export function browserTypeChecks(funnel: FunnelBrowser) {
  funnel.track("page_view", { properties: { page_name: "pricing", page_path: "/pricing" } });
  funnel.track("m_page_view", { properties: { page_path: "/" } });
  funnel.track("tool_interaction", { properties: { tool_id: "t1", action_type: "view" } });
  funnel.track("engagement", { properties: { engagement_type: "scroll", scroll_depth: 80 } });

  // @ts-expect-error a money event is not browser-safe
  funnel.track("purchase_completed", { properties: { amount: 10 } });
  // @ts-expect-error a metered event is not browser-safe
  funnel.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1", model_type: "claude" } });
  // @ts-expect-error page_view needs its page_name
  funnel.track("page_view", { properties: { page_path: "/x" } });
  // @ts-expect-error the source is the site's, not the page's to choose
  funnel.track("page_view", { source: "zuplo", properties: { page_name: "x" } });
}
