#!/usr/bin/env node
// Fills the local database with a realistic month of events across every
// service, through the signed ingest API of a running worker (via the JS client).
//
//   node scripts/demo.mjs                      # worker on http://127.0.0.1:8787, secrets from .dev.vars
//   FUNNEL_URL=… INGEST_HMAC_SECRET=… node scripts/demo.mjs --persist-to DIR
//
// Events are ingested now, so their `ts` (receive time) is now. To spread the
// month out on the charts, the script then sets each demo row's `ts` to its
// `occurred_at` in the LOCAL D1 only (rows whose event_id starts with "demo_";
// a local development convenience, never run against production), and
// rebuilds the distinct-count sketches from the moved rows.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loadClient } from "../clients/js/build.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DAYS = Number(process.env.DEMO_DAYS ?? 30);
const args = process.argv.slice(2);
const persistTo = args.includes("--persist-to") ? args[args.indexOf("--persist-to") + 1] : undefined;

function devVars() {
  const file = join(ROOT, ".dev.vars");
  if (!existsSync(file)) return {};
  return Object.fromEntries(readFileSync(file, "utf8").split("\n").filter((l) => l.includes("=") && !l.startsWith("#"))
    .map((l) => [l.slice(0, l.indexOf("=")).trim(), l.slice(l.indexOf("=") + 1).trim()]));
}
const URL_BASE = process.env.FUNNEL_URL ?? "http://127.0.0.1:8787";
const SECRET = process.env.INGEST_HMAC_SECRET ?? devVars().INGEST_HMAC_SECRET;
if (!SECRET) {
  console.error("demo: no INGEST_HMAC_SECRET (run scripts/dev.sh once, or set it)");
  process.exit(1);
}

// A seeded generator: the same demo every time.
let seed = 20260301;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const chance = (p) => rnd() < p;

const now = Date.now();
const events = [];
let n = 0;
const id = (p) => `demo_${p}_${n++}`;
function at(day, minute) {
  return new Date(now - (DAYS - day) * 86_400_000 + minute * 60_000 - 3_600_000).toISOString();
}
function add(e, day, minute) {
  const occurred_at = at(day, minute);
  if (Date.parse(occurred_at) > now) return;
  events.push({ source: "demo", event_id: id(e.event_type), occurred_at, ...e });
}

const domains = ["gmail.com", "naver.com", "kakao.com", "company.co.kr", "example.com"];
const errors = ["otp_expired", "otp_invalid", "rate_limited", "oauth_denied"];
for (let day = 0; day < DAYS; day++) {
  const weekend = new Date(now - (DAYS - day) * 86_400_000).getUTCDay() % 6 === 0;
  const traffic = weekend ? 0.6 : 1;
  // pregoi: the auth/commerce funnel, one trace per visitor.
  for (let v = 0; v < 40 * traffic; v++) {
    const trace_id = `trace_demo_${day}_${v}`;
    const email = `user${Math.floor(rnd() * 400)}@${pick(domains)}`;
    const user_id = `sub_${email.split("@")[0]}`;
    let m = Math.floor(rnd() * 1300);
    const step = (event_type, extra = {}) => add({ event_type, trace_id, email, ...extra }, day, (m += 1 + Math.floor(rnd() * 3)));
    add({ event_type: "m_page_view", anonymous_id: `anon_${day}_${v}`, trace_id, properties: { page_path: "/login" } }, day, m);
    step("m_auth_login_start", { properties: { method: chance(0.6) ? "otp" : "oauth" } });
    if (chance(0.5)) {
      step("m_otp_send");
      const sent = chance(0.93);
      step("m_otp_send_result", { success: sent, ...(sent ? {} : { error_code: "mail_gateway_timeout" }) });
    }
    if (chance(0.18)) {
      step("m_auth_login_fail", { success: false, error_code: pick(errors), error_message: "login failed" });
      continue;
    }
    step("m_auth_login_success");
    add({ event_type: "m_auth_session_created", trace_id, user_id, source: "cp" }, day, m + 1);
    if (!chance(0.55)) continue;
    step("m_checkout_click", { properties: { plan_tier: pick(["pro", "team"]) } });
    if (chance(0.12)) {
      step("m_auth_login_fail", { success: false, error_code: "session_expired" });
      continue;
    }
    step("m_checkout_session_created", { properties: { stripe_session_id: `cs_${day}_${v}` } });
    if (!chance(0.8)) continue;
    step("m_stripe_webhook_checkout_complete", { user_id, properties: { stripe_event_id: `evt_${day}_${v}`, amount: 39000, currency: "KRW" } });
    if (chance(0.05)) step("m_provision_failed", { job_id: `job_${day}_${v}`, success: false, error_code: "subdomain_taken", properties: { failure_stage: "dns" } });
    else step("m_provision_job_created", { job_id: `job_${day}_${v}` });
  }
  // PressTuner: signups, purchases, articles, workspaces, commands.
  for (let i = 0; i < 12 * traffic; i++) {
    const user_id = `pt_user_${Math.floor(rnd() * 150)}`;
    const m = Math.floor(rnd() * 1400);
    if (chance(0.35)) add({ event_type: "signup_completed", user_id, properties: { plan_id: "free", channel: pick(["search", "ad", "referral"]) } }, day, m);
    if (chance(0.12)) add({ event_type: "purchase_completed", user_id, properties: { amount: pick([19000, 39000, 99000]), currency: "KRW", plan_id: pick(["pro", "team"]) } }, day, m + 2);
    add({ event_type: "article_generated", user_id, properties: { article_id: `a_${day}_${i}`, word_count: 400 + Math.floor(rnd() * 1200) } }, day, m + 5);
    if (chance(0.08)) add({ event_type: "workspace_registered", user_id, properties: { workspace_id: `ws_${day}_${i}` } }, day, m + 1);
    for (let c = 0; c < 3; c++) add({ event_type: "command_executed", user_id, properties: { scope: pick(["article", "seo", "image", "publish"]), action: pick(["generate", "rewrite", "summarize", "translate"]) } }, day, m + 6 + c);
  }
  // Pluid: opens, notes, reports, AI organize.
  for (let i = 0; i < 15 * traffic; i++) {
    const user_id = `pl_user_${Math.floor(rnd() * 120)}`;
    const m = Math.floor(rnd() * 1400);
    add({ event_type: "app_open", user_id, session_id: `pl_s_${day}_${i}`, properties: { platform: pick(["ios", "android", "web"]) } }, day, m);
    for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) add({ event_type: "note_upserted", user_id, properties: { note_id: `n_${day}_${i}_${k}`, length: Math.floor(rnd() * 3000) } }, day, m + 1 + k);
    if (chance(0.15)) add({ event_type: "weekly_report_generated", user_id, properties: { report_id: `r_${day}_${i}`, note_count: 5 + Math.floor(rnd() * 20) } }, day, m + 9);
    if (chance(0.3)) add(chance(0.88)
      ? { event_type: "ai_organize_completed", user_id, properties: { duration_ms: 800 + Math.floor(rnd() * 3000) } }
      : { event_type: "ai_organize_failed", user_id, success: false, error_code: "llm_timeout", properties: { duration_ms: 30000, reason: "timeout" } }, day, m + 10);
  }
  // EasyPick: the standard dictionary, within each user's monthly quota.
  for (let i = 0; i < 20 * traffic; i++) {
    const user_id = `ep_user_${Math.floor(rnd() * 300)}`;
    const m = Math.floor(rnd() * 1400);
    add({ event_type: "page_view", user_id, properties: { page_name: pick(["home", "templates", "tools", "pricing"]) } }, day, m);
    if (chance(0.4)) add({ event_type: "search", user_id, properties: { search_term: pick(["블로그", "요약", "번역", "seo"]), result_count: Math.floor(rnd() * 40) } }, day, m + 1);
    add({ event_type: "engagement", user_id, properties: { engagement_type: pick(["scroll", "click", "dwell"]), engagement_time: Math.floor(rnd() * 120) } }, day, m + 2);
    if (chance(0.5)) {
      add({ event_type: "select_template", user_id, properties: { template_id: `tpl_${Math.floor(rnd() * 30)}`, template_type: "prompt", category: "콘텐츠 제작" } }, day, m + 3);
      if (chance(0.4)) add({ event_type: "compile_prompt", user_id, properties: { prompt_id: `p_${day}_${i}`, model_type: pick(["gpt-4", "claude"]), prompt_length: 100 + Math.floor(rnd() * 400) } }, day, m + 4);
    }
    if (chance(0.15)) {
      add({ event_type: "start_workflow", user_id, properties: { workflow_id: "content_creation_001", workflow_type: "blog_creation", step_count: 5 } }, day, m + 5);
      for (let s = 1; s <= 1 + Math.floor(rnd() * 3); s++) add({ event_type: "complete_step", user_id, properties: { workflow_id: "content_creation_001", step_number: s, step_type: "outline", time_spent: 30 + Math.floor(rnd() * 90) } }, day, m + 5 + s);
    }
    if (chance(0.3)) add({ event_type: "tool_interaction", user_id, properties: { tool_id: `tool_${Math.floor(rnd() * 20)}`, action_type: pick(["view", "click", "use"]), tool_name: "summarizer", category: "writing" } }, day, m + 6);
    if (chance(0.02)) add({ event_type: "subscription", user_id, properties: { action: "complete", plan_type: "pro", amount: 9900, currency: "KRW", subscription_id: `sub_${day}_${i}` } }, day, m + 7);
    if (chance(0.01)) add({ event_type: "error", user_id, properties: { error_type: "api_timeout", error_message: "OpenAI API timeout", error_code: "E504" } }, day, m + 8);
  }
}
events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));

// Sent through the JS client (clients/js): batches of 500, signed, retried.
const buildDir = mkdtempSync(join(tmpdir(), "funnel-demo-"));
const { FunnelClient } = await loadClient(buildDir);
rmSync(buildDir, { recursive: true, force: true });
const client = new FunnelClient({ url: URL_BASE, secret: SECRET, flushIntervalMs: 0, maxRetries: 3 });
const outcomes = client.trackBatch(events);
await client.close();
const counts = {};
for (const o of await outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
const refused = (await outcomes).find((o) => o.status === "failed");
if (refused) {
  console.error(`demo: ingest refused the events: ${JSON.stringify(refused.errors).slice(0, 300)}`);
  process.exit(1);
}
console.log(`demo: sent ${events.length} events over ${DAYS} days: ${JSON.stringify(counts)}`);

// Spread the month out: local D1 only.
const sql = "UPDATE funnel_events SET ts = occurred_at WHERE event_id LIKE 'demo!_%' ESCAPE '!' AND occurred_at IS NOT NULL AND ts <> occurred_at";
const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const cmd = [ "d1", "execute", "DB", "--local", "--command", sql, ...(persistTo ? ["--persist-to", persistTo] : [])];
const run = spawnSync(wrangler, cmd, { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } });
if (run.status !== 0) {
  console.error(`demo: backdating failed:\n${run.stderr.slice(-2000)}`);
  process.exit(1);
}
// Distinct users and sessions are sketched per hour at ingest: after moving
// the rows in time, sketch them again from the rows (the admin rebuild route).
const KEY = process.env.INTERNAL_API_KEY ?? devVars().INTERNAL_API_KEY;
if (KEY) {
  let after = 0;
  for (;;) {
    const res = await fetch(`${URL_BASE}/internal/sketches/rebuild?after_id=${after}`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
    });
    const step = await res.json();
    if (res.status !== 200) {
      console.error(`demo: sketch rebuild failed: ${JSON.stringify(step).slice(0, 300)}`);
      process.exit(1);
    }
    if (step.done) break;
    after = step.next_after_id;
  }
} else {
  console.log("demo: no INTERNAL_API_KEY: distinct users and sessions stay counted at ingest time");
}
console.log("demo: demo rows now carry their occurred_at as ts (local D1 only); open the console");
