// Shared helpers of the read_*.test.mjs files: bearer reads that never may
// answer 5xx, paging to the end, a CSV parser, and events generated from the
// live catalog (GET /internal/catalog) so each one is valid whatever the
// catalog declares today.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";

import { call, ingestBearer, ingestSigned, SECRETS } from "./client.mjs";

export const AUTH = { authorization: `Bearer ${SECRETS.INTERNAL_API_KEY}` };

/** A lowercase, DNS- and token-safe marker unique to this run, e.g. `r3f9a0c1b2d`. */
export const marker = (prefix = "r") => `${prefix}${randomBytes(6).toString("hex")}`;

/** `?a=1&b=2` from an object, leaving out undefined/null values. */
export function qs(params = {}) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
}

/** An authenticated read; no read may ever answer a 5xx. */
export async function read(path, init = {}) {
  const res = await call(path, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } });
  assert.ok(res.status < 500, `${init.method ?? "GET"} ${path} answered ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

/** GET that must be a 200 JSON answer. */
export async function ok(path) {
  const res = await read(path);
  assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 500)}`);
  return res.body;
}

/**
 * Follows `next_cursor` of `/internal/funnel-events` (or another cursor list) to the end.
 * `limits` is one page size or a list used round-robin (the size may change between pages).
 * Returns every event, the page count and every raw response text.
 */
export async function pageAll(params, limits = 500, path = "/internal/funnel-events") {
  const sizes = Array.isArray(limits) ? limits : [limits];
  const events = [];
  const texts = [];
  let cursor;
  for (let page = 0; ; page++) {
    const res = await read(`${path}${qs({ ...params, limit: sizes[page % sizes.length], cursor })}`);
    assert.equal(res.status, 200, `${path} ${JSON.stringify(params)}: ${res.text.slice(0, 500)}`);
    assert.ok(res.body.events.length <= sizes[page % sizes.length], "a page is never longer than its limit");
    events.push(...res.body.events);
    texts.push(res.text);
    cursor = res.body.next_cursor;
    if (!cursor) return { events, pages: page + 1, texts };
    assert.ok(page < 10_000, "paging does not end");
  }
}

/** Sum of the listed rows' weights (1/sample_rate); the row count when the API gives no weight. */
export const weightOf = (events) => events.reduce((n, e) => n + (typeof e.weight === "number" ? e.weight : 1), 0);

/** True when `events` is ordered newest first: ts descending, then id descending. */
export function isNewestFirst(events) {
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1], events[i]];
    if (a.ts < b.ts || (a.ts === b.ts && a.id <= b.id)) return false;
  }
  return true;
}

/** The contract's email fingerprint: HMAC-SHA256(pepper, lowercase(trim(email))), hex. */
export const fingerprint = (email) =>
  createHmac("sha256", SECRETS.EMAIL_FINGERPRINT_KEY).update(email.trim().toLowerCase()).digest("hex");

/** RFC 4180 parser: rows of cells (quoted cells may hold commas, quotes and line breaks). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

let catalogCache;
/** The live catalog (events, kpis, funnels, services, ...). */
export async function catalog() {
  catalogCache ??= await ok("/internal/catalog");
  return catalogCache;
}

/** Event types every event of which is stored: not sampled, not metered by a quota. */
export function plainTypes(cat) {
  const metered = new Set((cat.quota_actions ?? []).flatMap((a) => a.events ?? []));
  return cat.events
    .filter((e) => (e.sample_rate ?? 1) >= 1 && !metered.has(e.name))
    .map((e) => e.name);
}

/** Count-of-events KPIs: `{id, events, outcome}` whatever the formula's JSON shape. */
export function countKpis(cat) {
  const out = [];
  for (const k of cat.kpis ?? []) {
    const f = k.formula ?? {};
    const m = f.kind === "measure" ? (f.measure ?? f) : f;
    if (m.kind === "count" && Array.isArray(m.events)) {
      out.push({ id: k.id, events: m.events, outcome: m.outcome ?? "any" });
    }
  }
  return out;
}

/**
 * Makes valid events for the live catalog. `make(type, fields)` fills what the
 * type `requires` (one field of each any_of group, when `fields` has none)
 * and every required property, then overlays `fields`.
 */
export function eventFactory(cat, tag) {
  const defs = new Map(cat.events.map((e) => [e.name, e]));
  let seq = 0;
  const filler = (field, n) => {
    switch (field) {
      case "email":
        return `gen${n}.${tag}@gen-${tag}.example`;
      case "trace_id":
        return `trace_${tag}_gen${n}`;
      case "success":
        return true;
      case "error_code":
        return `${tag}_generated`;
      default:
        return `${field}_${tag}_${n}`;
    }
  };
  const propValue = (p, n) => {
    if (p.allowed?.length) return p.allowed[0];
    switch (p.kind) {
      case "number":
        return (n % 97) + 1;
      case "boolean":
        return true;
      case "object":
        return {};
      default:
        return `v${n}`;
    }
  };
  return function make(type, fields = {}) {
    const def = defs.get(type);
    assert.ok(def, `event type ${type} is not in the catalog`);
    const n = ++seq;
    const event = { event_type: type, event_id: `${tag}_ev${n}_${randomBytes(4).toString("hex")}` };
    const properties = {};
    for (const p of def.params ?? []) if (p.required) properties[p.name] = propValue(p, n);
    const given = { ...fields };
    for (const req of def.requires ?? []) {
      const anyOf = req.any_of ?? [];
      if (!anyOf.some((f) => given[f] !== undefined && given[f] !== null)) {
        given[anyOf[0]] = filler(anyOf[0], n);
      }
    }
    const { properties: extra, ...rest } = given;
    return { ...event, ...rest, properties: { ...properties, ...(extra ?? {}) } };
  };
}

/** Whether a type can be sent with `fields` absent: false when some requirement needs one of them only. */
export function canOmit(cat, type, fields) {
  const def = cat.events.find((e) => e.name === type);
  return !(def?.requires ?? []).some((r) => (r.any_of ?? []).every((f) => fields.includes(f)));
}

/** Sends events in batches of at most 500 (signed or bearer); every one must be accepted. */
export async function send(events, { signed = false } = {}) {
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    const res = signed ? await ingestSigned({ events: batch }) : await ingestBearer({ events: batch });
    assert.equal(res.status, 200, res.text.slice(0, 1000));
    const bad = res.body.results.filter((r) => r.status !== "accepted");
    assert.deepEqual(bad, [], `not accepted: ${JSON.stringify(bad.slice(0, 3))} of ${JSON.stringify(batch[bad[0]?.index])}`);
  }
}

/** An ISO instant `ms` milliseconds from now. */
export const isoIn = (ms) => new Date(Date.now() + ms).toISOString();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
