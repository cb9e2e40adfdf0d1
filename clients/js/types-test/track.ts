// Compile-time checks of the generated event types (tsc -p clients/js, in scripts/test.sh).
// Every `@ts-expect-error` line must fail to type-check, or tsc reports the directive as unused.
import { FunnelClient } from "../src/index";

export function typeChecks(client: FunnelClient) {
  // Declared properties, allowed values, required identifiers: accepted.
  void client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1", model_type: "claude", prompt_length: 120 } });
  void client.track("m_auth_login_fail", { email: "a@example.com", error_code: "otp_invalid", properties: { method: "otp" } });
  void client.track("m_auth_login_start", { user_id: "sub_1" });
  void client.track("m_otp_send");
  void client.trackBatch([
    { event_type: "app_open", user_id: "u" },
    { event_type: "m_checkout_click", trace_id: "trace_1", properties: { plan_tier: "pro" } },
  ]);

  // @ts-expect-error an event type that is not in the catalog
  void client.track("compile_promt", { user_id: "u1" });
  // @ts-expect-error a required property (model_type) is missing
  void client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1" } });
  // @ts-expect-error a value outside the property's allowed values
  void client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1", model_type: "llama" } });
  // @ts-expect-error a property the type does not declare
  void client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1", model_type: "claude", colour: "red" } });
  // @ts-expect-error a number property sent as a string
  void client.track("compile_prompt", { user_id: "u1", properties: { prompt_id: "p1", model_type: "claude", prompt_length: "12" } });
  // @ts-expect-error the required identifier user_id is missing
  void client.track("compile_prompt", { properties: { prompt_id: "p1", model_type: "claude" } });
  // @ts-expect-error m_auth_login_fail needs error_code as well as email
  void client.track("m_auth_login_fail", { email: "a@example.com" });
  // @ts-expect-error m_auth_login_start needs email or user_id
  void client.track("m_auth_login_start", { tenant_id: "t" });
  // @ts-expect-error fields are required when the type requires identifiers
  void client.track("m_auth_get_user");
  // @ts-expect-error success is a boolean
  void client.track("m_otp_send_result", { email: "a@example.com", success: "yes" });
  // @ts-expect-error a batch item is checked against its own event_type
  void client.trackBatch([{ event_type: "m_checkout_click", trace_id: "trace_1", properties: {} }]);
}
