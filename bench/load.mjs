// The benchmark's load: unique signed ingest batches, the floor's prepared
// rows, and reads, driven by autocannon. Shared by bench/run.mjs (the table)
// and bench/compare.mjs (two builds side by side).
import { createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";

import autocannon from "autocannon";

/** Fresh secrets, written as a `wrangler dev --env-file` with the bench routes on. */
export function benchSecrets(envFile) {
  const s = { secret: randomBytes(24).toString("hex"), apiKey: randomBytes(24).toString("hex"), fpKey: randomBytes(24).toString("hex") };
  writeFileSync(envFile, `INTERNAL_API_KEY=${s.apiKey}\nINGEST_HMAC_SECRET=${s.secret}\nEMAIL_FINGERPRINT_KEY=${s.fpKey}\nBENCH_ROUTES=1\n`);
  return s;
}

export function loadGenerator({ secret, apiKey, fpKey, connections }) {
  const cannon = (opts) =>
    new Promise((resolve, reject) => autocannon({ connections, ...opts }, (err, r) => (err ? reject(err) : resolve(r))));

  let seq = 0;
  function events(n) {
    return Array.from({ length: n }, () => {
      const i = seq++;
      return i % 2
        ? { event_type: "m_auth_login_start", event_id: `i${i}`, email: `User${i % 997}@Example.com`, trace_id: `trace_i${i}`, properties: { method: "otp" } }
        : { event_type: "purchase_completed", event_id: `i${i}`, user_id: `u${i % 997}`, properties: { amount: 39000, currency: "KRW", plan_id: "pro" } };
    });
  }

  /** The rows ingest would write for `events(n)`, prepared (the floor skips every check):
   * arrays in `EventRow::COLUMNS` order, as ingest binds them. */
  function preparedRows(n) {
    const ts = new Date().toISOString();
    return events(n).map((e) => [
      ts, null, e.event_type, e.event_type === "purchase_completed" ? "presstuner" : "pregoi", "zuplo", e.event_id,
      e.trace_id ?? null, null, null, e.user_id ?? null, null, null,
      e.email ? createHmac("sha256", fpKey).update(e.email.toLowerCase()).digest("hex") : null,
      e.email ? "example.com" : null, null, null, null, JSON.stringify(e.properties), 1.0,
    ]);
  }

  /** The peer's rows for `events(n)`, prepared (bench/peer/schema.sql's columns, in the
   * order its `POST /floor` reads them): what its ingest would store. */
  function peerRows(n) {
    const ts = new Date().toISOString();
    return events(n).map((e) => [
      ts, e.event_type, e.trace_id ?? null, null, null,
      e.email ? createHmac("sha256", fpKey).update(e.email.toLowerCase()).digest("hex") : null,
      null, null, null, "zuplo",
      JSON.stringify({ service: e.event_type === "purchase_completed" ? "presstuner" : "pregoi", email_domain: e.email ? "example.com" : null,
                       occurred_at: null, ...(e.user_id ? { user_id: e.user_id } : {}), properties: e.properties }),
      e.event_id,
    ]);
  }

  /** Signed ingest of `batch` unique events per request, to `path`, over `conns` connections. */
  async function ingest(url, batch, seconds, path = "/internal/funnel-events/ingest", conns = connections) {
    const r = await cannon({
      url,
      connections: conns,
      duration: seconds,
      requests: [{
        method: "POST",
        path,
        setupRequest: (req) => {
          const body = JSON.stringify({ events: events(batch) });
          const t = Math.floor(Date.now() / 1000);
          const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
          return { ...req, body, headers: { "content-type": "application/json", "x-funnel-signature": `t=${t},v1=${v1}` } };
        },
      }],
    });
    return summarize(r, batch);
  }

  /** `batch` prepared rows per request: to the funnel worker's `POST /bench/floor`
   * (its own rows, its own statement), or with `peer` to the peer's `POST /floor`. */
  async function floor(url, batch, seconds, { peer = false } = {}) {
    const r = await cannon({
      url,
      duration: seconds,
      requests: [{
        method: "POST",
        path: peer ? "/floor" : "/bench/floor",
        setupRequest: (req) => ({ ...req, body: JSON.stringify(peer ? peerRows(batch) : preparedRows(batch)), headers: { "content-type": "application/json" } }),
      }],
    });
    return summarize(r, batch);
  }

  async function read(url, path, seconds) {
    const r = await cannon({ url, duration: seconds, requests: [{ method: "GET", path, headers: { authorization: `Bearer ${apiKey}` } }] });
    return summarize(r, 1);
  }

  return { ingest, floor, read };
}

function summarize(r, perRequest) {
  const ok = r["2xx"];
  if (r.non2xx || r.errors || !ok) throw new Error(`bench: ${r.non2xx} non-2xx, ${r.errors} errors of ${ok + r.non2xx}`);
  return { ok, seconds: r.duration, rps: ok / r.duration, eps: (ok / r.duration) * perRequest, p50: r.latency.p50, p99: r.latency.p99 };
}

/** Several rounds of one measurement as one: throughput over all of them, the
 * median round's p50 and the worst round's p99. */
export function combine(runs, perRequest) {
  const ok = runs.reduce((n, r) => n + r.ok, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const p50s = runs.map((r) => r.p50).sort((a, b) => a - b);
  return { rps: ok / seconds, eps: (ok / seconds) * perRequest, p50: p50s[Math.floor(p50s.length / 2)], p99: Math.max(...runs.map((r) => r.p99)) };
}

export const fmt = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
