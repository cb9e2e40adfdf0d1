// The benchmark's peer: the contract's signed ingest as a competent engineer
// would write it in an afternoon, in plain JavaScript on Workers. Web Crypto
// HMAC-SHA256 of `<t>.<body>` (checked with crypto.subtle.verify, constant
// time) within the clock window, JSON parse, minimal validation, a keyed
// fingerprint of each email, one json_each insert answering accepted or
// duplicate per event. `POST /floor` is that table's bare insert of prepared
// rows: the benchmark's floor. No quarantine, sampling, quotas, rollups or
// PII scrubbing: the peer is the bar the funnel worker must clear, not a rival.
const SERVICES = { pregoi: "m_page_view m_auth_login_start m_auth_login_success m_auth_login_fail m_auth_get_user m_auth_user_upserted m_auth_session_created m_auth_user_tenant_linked m_otp_send m_otp_send_result m_checkout_click m_checkout_session_created m_stripe_webhook_checkout_complete m_onboarding_subdomain_check m_provision_job_created m_provision_failed",
  presstuner: "signup_completed purchase_completed article_generated workspace_registered command_executed",
  pluid: "app_open note_upserted weekly_report_generated ai_organize_completed ai_organize_failed",
  easypick: "select_template compile_prompt start_workflow complete_step tool_interaction search page_view engagement subscription conversion error" };
const SERVICE_OF = new Map(Object.entries(SERVICES).flatMap(([s, types]) => types.split(" ").map((t) => [t, s])));
const IDS = ["tenant_id", "job_id", "user_id", "session_id", "anonymous_id"];
const MAX_BODY = 1 << 20;
const enc = new TextEncoder();

const INSERT = `INSERT INTO funnel_events (ts, event_type, trace_id, tenant_id, job_id, email_fingerprint, success,
  error_code, error_message, source, payload_json, event_id)
SELECT ?1, value->>'event_type', value->>'trace_id', value->>'tenant_id', value->>'job_id', value->>'email_fingerprint',
  value->>'success', value->>'error_code', value->>'error_message', value->>'source', value->>'payload_json', value->>'event_id'
FROM json_each(?2) WHERE true
ON CONFLICT (source, event_id) DO NOTHING RETURNING event_id`;
const FLOOR = `INSERT INTO funnel_events (ts, event_type, trace_id, tenant_id, job_id, email_fingerprint, success,
  error_code, error_message, source, payload_json, event_id)
SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11
FROM json_each(?1) WHERE true ON CONFLICT (source, event_id) DO NOTHING`;

const keys = new Map();
function hmacKey(secret) {
  if (!keys.has(secret)) keys.set(secret, crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
  return keys.get(secret);
}
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));
const json = (body, status = 200) => Response.json(body, { status });
const problem = (status, code, detail) =>
  new Response(JSON.stringify({ type: "about:blank", title: code, status, detail, code }), { status, headers: { "content-type": "application/problem+json" } });

async function verify(request, body, env) {
  const header = request.headers.get("x-funnel-signature");
  if (!header) return problem(401, "missing_credentials", "Sign the request.");
  const parts = header.split(",").map((p) => p.trim().split("="));
  const ts = parts.filter(([k]) => k === "t").map(([, v]) => v);
  const sigs = parts.filter(([k]) => k === "v1").map(([, v]) => v);
  if (ts.length !== 1 || !/^\d{1,12}$/.test(ts[0]) || !sigs.length || sigs.length > 8 || !sigs.every((s) => /^[0-9a-f]{64}$/.test(s)))
    return problem(401, "malformed_signature", "Expected t=<seconds>,v1=<hex>.");
  const signed = new Uint8Array(ts[0].length + 1 + body.byteLength);
  signed.set(enc.encode(`${ts[0]}.`));
  signed.set(new Uint8Array(body), ts[0].length + 1);
  const key = await hmacKey(env.INGEST_HMAC_SECRET);
  let ok = false;
  for (const sig of sigs) ok = (await crypto.subtle.verify("HMAC", key, unhex(sig), signed)) || ok; // every entry checked
  if (!ok) return problem(401, "bad_signature", "No signature matches.");
  if (Math.abs(Date.now() / 1000 - Number(ts[0])) > Number(env.SIGNATURE_TOLERANCE_SECONDS ?? 300))
    return problem(401, "stale_signature", "The signature's clock is outside the window.");
  return null;
}

const str = (v, max) => v === undefined || v === null || (typeof v === "string" && v.length <= max);
const traceOrNull = (v) => (typeof v === "string" && /^trace_[\x21-\x7e]{0,122}$/.test(v.trim()) ? v.trim() : null);

/** The row of one event, or the reason it is rejected. */
async function toRow(e, source, fpKey) {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return { error: "not_an_object" };
  const service = SERVICE_OF.get(e.event_type);
  if (!service) return { error: "unknown_event_type" };
  if (e.service !== undefined && e.service !== service) return { error: "service_mismatch" };
  if (!str(e.event_id, 128) || !IDS.every((k) => str(e[k], 128)) || !str(e.error_code, 64) || !str(e.error_message, 100000) || !str(e.email, 320))
    return { error: "invalid_field" };
  if (e.properties !== undefined && (typeof e.properties !== "object" || e.properties === null || Array.isArray(e.properties)))
    return { error: "invalid_properties" };
  if (e.success !== undefined && ![true, false, 0, 1].includes(e.success)) return { error: "invalid_success" };
  let fingerprint = null, domain = null;
  if (e.email) {
    const email = e.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return { error: "invalid_email" };
    fingerprint = hex(await crypto.subtle.sign("HMAC", fpKey, enc.encode(email)));
    domain = email.slice(email.lastIndexOf("@") + 1);
  }
  const extra = { service, email_domain: domain, occurred_at: e.occurred_at ?? null };
  for (const k of ["user_id", "session_id", "anonymous_id"]) if (e[k] != null) extra[k] = e[k];
  return {
    row: {
      event_type: e.event_type, trace_id: traceOrNull(e.trace_id), tenant_id: e.tenant_id ?? null, job_id: e.job_id ?? null,
      email_fingerprint: fingerprint, success: e.success === undefined ? null : Number(e.success), error_code: e.error_code ?? null,
      error_message: e.error_message?.slice(0, 512) ?? null, source, payload_json: JSON.stringify({ ...extra, properties: e.properties ?? {} }),
      event_id: e.event_id ?? crypto.randomUUID(),
    },
  };
}

/** With `store` false (`POST /discard`), everything but the D1 statement: the peer's own cost. */
async function ingest(request, env, store = true) {
  if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) return problem(415, "unsupported_media_type", "Send JSON.");
  const body = await request.arrayBuffer();
  if (body.byteLength > MAX_BODY) return problem(413, "payload_too_large", "At most 1 MiB.");
  const denied = await verify(request, body, env);
  if (denied) return denied;
  let events;
  try {
    events = JSON.parse(new TextDecoder().decode(body)).events;
  } catch {
    return problem(400, "invalid_json", "The body is not JSON.");
  }
  if (!Array.isArray(events) || events.length === 0) return problem(400, "invalid_body", "Expected {\"events\": [...]}.");
  if (events.length > 500) return problem(413, "too_many_events", "At most 500 events.");
  const fpKey = await hmacKey(env.EMAIL_FINGERPRINT_KEY);
  const checked = await Promise.all(events.map((e) => toRow(e, typeof e?.source === "string" && /^[a-z0-9_-]{1,32}$/.test(e.source) ? e.source : "zuplo", fpKey)));
  const rows = checked.filter((c) => c.row).map((c) => c.row);
  const stored = new Set();
  if (rows.length && !store) for (const r of rows) stored.add(r.event_id);
  if (rows.length && store) {
    const { results } = await env.DB.prepare(INSERT).bind(new Date().toISOString(), JSON.stringify(rows)).all();
    for (const r of results) stored.add(r.event_id);
  }
  const results = checked.map((c, index) => {
    if (c.error) return { index, status: "rejected", errors: [{ code: c.error }] };
    const first = stored.delete(c.row.event_id); // a repeat within the batch is a duplicate too
    return { index, status: first ? "accepted" : "duplicate", event_id: c.row.event_id };
  });
  const failed = results.filter((r) => r.status === "rejected").length;
  const answer = { success: failed === 0, processed: results.length - failed, failed, results, errors: [] };
  return json(answer, failed === results.length ? 422 : 200);
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/api/health") return json({ status: "ok" });
    if (request.method === "POST" && pathname === "/internal/funnel-events/ingest") return ingest(request, env);
    if (request.method === "POST" && pathname === "/discard") return ingest(request, env, false);
    if (request.method === "POST" && pathname === "/floor") {
      const { meta } = await env.DB.prepare(FLOOR).bind(await request.text()).run();
      return json({ inserted: meta.changes });
    }
    return problem(404, "not_found", "No such route.");
  },
};
