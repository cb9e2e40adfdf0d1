// The fetch the e2e tests use: every answer is checked against the API's
// OpenAPI document (openapi.mjs) before the test sees it, and a mismatch
// rejects the fetch, so the test that made the request fails with the
// method, path, status, Ajv's errors and the start of the body.
//
// client.mjs installs it as the global `fetch` of every test process that
// imports client.mjs (directly or through generate.mjs), so tests that call
// `fetch(...)` themselves are checked too. `rawFetch` is the deliberate way
// around it; `node tests/e2e/openapi-audit.mjs` lists every test that does
// not go through it.
//
// FUNNEL_OPENAPI_LOG=<file>: append one JSON line per answer (test file and
// line, method, path, documented route, status, content type, verdict), for
// `node tests/e2e/openapi-audit.mjs <file>`.
import { appendFileSync } from "node:fs";
import { relative } from "node:path";

import { getSpec, isJsonType, mediaType, ROOT, validateResponse } from "./openapi.mjs";

const CHECKED = Symbol.for("funnel.e2e.checkedFetch");
/** The runtime's own fetch, even if this module were loaded after the patch. */
const nativeFetch = globalThis.fetch[CHECKED] ?? globalThis.fetch;
const LOG = process.env.FUNNEL_OPENAPI_LOG;
const reported = new Set();

function requestOf(input, init) {
  const req = input instanceof Request ? input : null;
  return { url: new URL(req ? req.url : String(input)), method: (init?.method ?? req?.method ?? "GET").toUpperCase() };
}

/** The test file (and line) that made this request, from the stack; null outside tests. */
function callerTest() {
  const m = (new Error().stack ?? "").match(/(?:file:\/\/)?(\/[^\s()]+\.test\.mjs):(\d+)/);
  return m ? `${relative(ROOT, m[1])}:${m[2]}` : null;
}

function log(entry) {
  if (LOG) appendFileSync(LOG, `${JSON.stringify(entry)}\n`);
}

export async function checkedFetch(input, init) {
  const test = LOG ? callerTest() : null;
  const res = await nativeFetch(input, init);
  const request = requestOf(input, init);
  const method = request.method;
  // After a followed redirect, the answer is the last URL's.
  const url = res.redirected && res.url ? new URL(res.url) : request.url;
  const type = res.headers.get("content-type");
  const media = mediaType(type);
  // A copy of the body is read only where it is checked: JSON, or no content type (then it must be empty).
  const body = isJsonType(media) || !media ? await res.clone().text() : undefined;
  try {
    const r = validateResponse(method, url.pathname, res.status, type, body);
    log({ test, method, path: url.pathname, route: r.route, status: res.status, type: media, verdict: r.verdict });
  } catch (e) {
    log({ test, method, path: url.pathname, status: res.status, type: media, verdict: "mismatch", error: e.message.split("\n")[0] });
    // Also on stderr, once per distinct mismatch: a caller that catches
    // errors wholesale (a retry loop, a "no answer" count) still shows why.
    const first = e.message.split("\n")[0];
    if (!reported.has(first)) {
      reported.add(first);
      console.error(`openapi: ${e.message}`);
    }
    throw e;
  }
  return res;
}
checkedFetch[CHECKED] = nativeFetch;

/**
 * The opt-out: the runtime's fetch, unchecked. For a test that must read an
 * answer the document cannot describe; none needs it today (the router's
 * 404/405 problems for undocumented paths and methods are checked as such).
 * Every use shows in `node tests/e2e/openapi-audit.mjs`.
 */
export async function rawFetch(input, init) {
  const test = LOG ? callerTest() : null;
  const res = await nativeFetch(input, init);
  const { url, method } = requestOf(input, init);
  log({ test, method, path: url.pathname, status: res.status, type: mediaType(res.headers.get("content-type")), verdict: "raw" });
  return res;
}

/**
 * Makes the global fetch the checked one (idempotent). Loads the document
 * now, so a missing or broken docs/openapi.json fails the test file at once
 * rather than inside some caller's retry loop.
 */
export function installCheckedFetch() {
  getSpec();
  if (!globalThis.fetch[CHECKED]) globalThis.fetch = checkedFetch;
}
