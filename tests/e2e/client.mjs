// Helpers for the e2e tests: the worker's URL and secrets come from run.mjs.
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { checkedFetch, installCheckedFetch, rawFetch } from "./checked-fetch.mjs";

export const BASE = process.env.FUNNEL_URL;
export const SECRETS = JSON.parse(process.env.FUNNEL_SECRETS ?? "{}");
if (!BASE) throw new Error("run the e2e tests through tests/e2e/run.mjs (scripts/test.sh)");

// Every answer a test receives is checked against docs/openapi.json, whether
// it comes through `call` or a test's own `fetch(...)`: this process's global
// fetch becomes the checked one (see checked-fetch.mjs). `rawFetch` skips the
// check; `node tests/e2e/openapi-audit.mjs` lists the tests that do.
installCheckedFetch();
export { rawFetch };

export const INGEST = "/internal/funnel-events/ingest";

export function sign(body, { secret = SECRETS.INGEST_HMAC_SECRET, t = Math.floor(Date.now() / 1000) } = {}) {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

/** A unique id so tests never collide on (source, event_id) or trace ids. */
export const uid = (prefix = "e2e") => `${prefix}_${randomUUID().replaceAll("-", "")}`;

/** POST a signed body (string or object); returns {status, headers, body}. */
export async function ingestSigned(payload, { headers = {}, path = INGEST, signOpts } = {}) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-funnel-signature": sign(body, signOpts), ...headers },
    body,
  });
}

export async function ingestBearer(payload, { key = SECRETS.INTERNAL_API_KEY, headers = {} } = {}) {
  return call(INGEST, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

/** A request to the worker under test; the answer has been checked against docs/openapi.json. */
export async function call(path, init = {}) {
  const res = await checkedFetch(BASE + path, init);
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Every byte of the local D1 files (database, WAL), for "never stored" checks. */
export function d1Bytes() {
  const dir = join(process.env.FUNNEL_D1_DIR, "v3", "d1", "miniflare-D1DatabaseObject");
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

export function assertProblem(assert, res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  for (const member of ["type", "title", "status", "detail", "code"]) {
    assert.ok(member in res.body, `problem lacks ${member}: ${res.text}`);
  }
  assert.equal(res.body.status, status);
  assert.equal(res.body.code, code);
}
