// The API's own description as the e2e suite's oracle: docs/openapi.json
// (OpenAPI 3.1, generated from the Rust response types) says, for every
// route, which statuses and content types it answers with and the JSON
// Schema (draft 2020-12) of each body. `validateResponse` checks one answer
// against it and throws an `OpenApiMismatch` naming what differs.
//
// How an answer is matched to the document:
//   - the path (query dropped) against the document's templated paths, segment
//     by segment: `{name}` matches one non-empty segment (a final `{*name}`,
//     the route table's catch-all, the rest), and where several paths match,
//     the one with a literal segment earliest wins
//     (`/internal/usage/summary` before `/internal/usage/{x}`);
//   - the method: the path item's operation for it;
//   - the status: its own entry, else its range (`4XX`), else `default`;
//   - the content type (parameters such as charset dropped): its own entry,
//     else `type/*`, else `*/*`. JSON bodies (`application/json`,
//     `application/problem+json`, any `+json`) are parsed and validated
//     against the entry's schema; other bodies (CSV, NDJSON) only need a
//     documented status and content type.
// Two answers no document lists are the router's, and are checked as such:
// a path no template matches must be a 404 problem, and a documented path
// asked with a method it does not list must be a 405 problem (both with a
// body valid against the document's Problem schema).
// Not checked at all: the console's static files (`/`, `/cp/...`), wrangler's
// own `/__scheduled` trigger, and `/openapi.json` when it does not describe itself.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
/** The document; FUNNEL_OPENAPI points elsewhere (a stub while developing the suite). */
export const SPEC_PATH = process.env.FUNNEL_OPENAPI || join(ROOT, "docs", "openapi.json");
/** The `$id` the document is registered under, so `#/components/schemas/X` refs resolve inside it. */
const SPEC_ID = "https://funnel.invalid/openapi.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** Keywords OpenAPI 3.1 adds to JSON Schema: annotations, nothing to validate. */
const OPENAPI_KEYWORDS = ["discriminator", "xml", "externalDocs", "example"];
/**
 * The document's own members: Ajv compiles the document's root when a ref
 * points into it, and must see these as annotations, not unknown keywords.
 */
const DOCUMENT_MEMBERS = ["openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags"];
const SNIPPET = 400;

export class OpenApiMismatch extends Error {
  constructor(message) {
    super(message);
    this.name = "OpenApiMismatch";
  }
}

/** Paths never checked: not part of the API. */
export function skipped(path) {
  return path === "/" || path === "/cp" || path.startsWith("/cp/") || path.startsWith("/__scheduled");
}

export const isJsonType = (type) => type === "application/json" || /^application\/[^;]*\+json$/.test(type);

/** The media type without parameters, lowercase; "" when absent. */
export function mediaType(contentType) {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

const escapePointer = (part) => encodeURIComponent(String(part).replaceAll("~", "~0").replaceAll("/", "~1"));
const pointerOf = (parts) => parts.map((p) => `/${escapePointer(p)}`).join("");

function snippet(body) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (text === undefined) return "(not read: not JSON)";
  return text.length > SNIPPET ? `${text.slice(0, SNIPPET)}… (${text.length} chars)` : text || "(empty body)";
}

// utoipa's integer and number formats; ajv-formats knows none of them.
function addOpenApiFormats(ajv) {
  const int = (min, max) => ({ type: "number", validate: (n) => Number.isInteger(n) && n >= min && n <= max });
  const formats = {
    int8: int(-(2 ** 7), 2 ** 7 - 1), int16: int(-(2 ** 15), 2 ** 15 - 1), int32: int(-(2 ** 31), 2 ** 31 - 1),
    int64: int(-Infinity, Infinity), int128: int(-Infinity, Infinity),
    uint8: int(0, 2 ** 8 - 1), uint16: int(0, 2 ** 16 - 1), uint32: int(0, 2 ** 32 - 1),
    uint64: int(0, Infinity), uint128: int(0, Infinity),
    float: { type: "number", validate: Number.isFinite }, double: { type: "number", validate: Number.isFinite },
  };
  for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
  // Annotations only: any string is fine.
  for (const name of ["binary", "byte", "password"]) ajv.addFormat(name, true);
}

/** Every `x-…` extension key in the document, so Ajv's strict mode accepts them as annotations. */
function extensionKeys(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => extensionKeys(v, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith("x-")) out.add(k);
      extensionKeys(v, out);
    }
  }
  return out;
}

export class Spec {
  constructor(doc, source = "(document)") {
    if (typeof doc.openapi !== "string" || !doc.openapi.startsWith("3.1")) {
      throw new Error(`${source}: openapi is ${JSON.stringify(doc.openapi)}; this validator reads OpenAPI 3.1 (JSON Schema 2020-12)`);
    }
    this.doc = doc;
    this.source = source;
    // A path prefix the document's (first) server adds to every path.
    const server = doc.servers?.[0]?.url ?? "/";
    this.base = new URL(server, "http://localhost").pathname.replace(/\/$/, "");
    this.paths = Object.keys(doc.paths ?? {}).map((template) => ({
      template,
      segments: (this.base + template).split("/").slice(1),
    }));
    // Strict about the schema language (an unknown keyword or format fails
    // loudly instead of being ignored), not about style.
    this.ajv = new Ajv2020({ allErrors: true, strictTypes: false, strictTuples: false, strictRequired: false });
    addFormats(this.ajv);
    addOpenApiFormats(this.ajv);
    for (const k of new Set([...OPENAPI_KEYWORDS, ...DOCUMENT_MEMBERS, ...extensionKeys(doc)])) this.ajv.addKeyword(k);
    this.ajv.addSchema({ ...doc, $id: SPEC_ID });
    this.validators = new Map();
    this.problemPointer = this.findProblemSchema();
  }

  static load(path = SPEC_PATH) {
    if (!existsSync(path)) {
      throw new Error(`${path} does not exist: the e2e suite validates every response against the API's OpenAPI document ` +
        "(docs/openapi.json, generated from the Rust response types); generate it first, or point FUNNEL_OPENAPI at one");
    }
    let doc;
    try {
      doc = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new Error(`${path}: not JSON (${e.message})`);
    }
    const rel = relative(ROOT, path);
    return new Spec(doc, rel && !rel.startsWith("..") ? rel : path);
  }

  /** The value at a JSON pointer (as parts), following `$ref`s to other places in the document; [parts, value]. */
  resolve(parts) {
    let value = this.doc;
    for (const p of parts) value = value?.[p];
    for (let hops = 0; value && typeof value.$ref === "string" && hops < 20; hops++) {
      if (!value.$ref.startsWith("#/")) throw new Error(`${this.source}: only local $refs are supported, got ${value.$ref}`);
      parts = value.$ref.slice(2).split("/").map((s) => decodeURIComponent(s).replaceAll("~1", "/").replaceAll("~0", "~"));
      value = this.doc;
      for (const p of parts) value = value?.[p];
    }
    return [parts, value];
  }

  /** The document's Problem schema: `components.schemas.Problem`, else the first problem+json body it documents. */
  findProblemSchema() {
    if (this.doc.components?.schemas?.Problem) return pointerOf(["components", "schemas", "Problem"]);
    for (const template of Object.keys(this.doc.paths ?? {})) {
      for (const method of METHODS) {
        const [, op] = this.resolve(["paths", template, method]);
        for (const status of Object.keys(op?.responses ?? {})) {
          const [parts, res] = this.resolve(["paths", template, method, "responses", status]);
          if (res?.content?.["application/problem+json"]?.schema) {
            return pointerOf([...parts, "content", "application/problem+json", "schema"]);
          }
        }
      }
    }
    return null;
  }

  /** The documented path template a request path falls under, or null. */
  matchPath(path) {
    const segments = path.split("/").slice(1);
    const param = (s) => /^\{[^}*]+\}$/.test(s);
    // `{*rest}` as the last segment (the route table's catch-all; not OpenAPI's own syntax) takes one or more segments.
    const rest = (s) => /^\{\*[^}]+\}$/.test(s);
    const matches = (p) => {
      const tail = rest(p.segments.at(-1) ?? "");
      const fixed = tail ? p.segments.length - 1 : p.segments.length;
      if (tail ? segments.length <= fixed : segments.length !== fixed) return false;
      return p.segments.slice(0, fixed).every((s, i) => (param(s) ? segments[i] !== "" : s === segments[i]));
    };
    // Most specific first: a literal segment beats a parameter, and a parameter a catch-all, at the first place they differ.
    const score = (p) => p.segments.map((s) => (rest(s) ? "2" : param(s) ? "1" : "0")).join("") + "3";
    const candidates = this.paths.filter(matches).sort((a, b) => score(a).localeCompare(score(b)));
    return candidates[0]?.template ?? null;
  }

  validator(pointer) {
    let v = this.validators.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${SPEC_ID}#${pointer}` });
      this.validators.set(pointer, v);
    }
    return v;
  }

  /**
   * Checks one answer; throws OpenApiMismatch when the document does not
   * describe it. `body` is the raw text (or an already parsed value; or
   * undefined when the caller did not read a non-JSON body).
   * Returns what was checked: { verdict, route, status, type }, verdict one
   * of "validated" (JSON body valid), "documented" (status and content type
   * documented; body not JSON), "unrouted" (the router's 404/405 problem),
   * "skipped" (not the API).
   */
  validate(method, urlPath, status, contentType, body) {
    method = String(method || "GET").toUpperCase();
    const path = new URL(urlPath, "http://localhost").pathname;
    const type = mediaType(contentType);
    const what = `${method} ${path} → ${status} ${type || "(no content type)"}`;
    const fail = (reason, extra = "") =>
      new OpenApiMismatch(`${what}: ${reason} (${this.source})${extra}\n  body: ${snippet(body)}`);

    if (skipped(path)) return { verdict: "skipped", route: path, status, type };
    const template = this.matchPath(path);
    if (!template) {
      if (path === "/openapi.json") return { verdict: "skipped", route: path, status, type };
      this.checkUnrouted(404, status, type, body, fail, "no documented path matches");
      return { verdict: "unrouted", route: null, status, type };
    }
    const [opParts, operation] = this.resolve(["paths", template, method.toLowerCase()]);
    const route = `${method} ${template}`;
    if (!operation) {
      const listed = METHODS.filter((m) => this.resolve(["paths", template, m])[1]).map((m) => m.toUpperCase());
      this.checkUnrouted(405, status, type, body, fail, `${template} documents only ${listed.join(", ")}`);
      return { verdict: "unrouted", route, status, type };
    }
    const responses = operation.responses ?? {};
    const key = [String(status), `${String(status)[0]}XX`, "default"].find((k) => k in responses);
    if (!key) {
      throw fail(`status ${status} is not documented for ${route}; it documents ${Object.keys(responses).join(", ") || "none"}`);
    }
    const [resParts, response] = this.resolve([...opParts, "responses", key]);
    const content = response?.content ?? {};
    const documented = Object.keys(content);
    if (!documented.length) {
      // `undefined`: the caller did not read the body (not JSON); its content type says there is one.
      const empty = body === undefined ? !type : (typeof body === "string" ? body : JSON.stringify(body)) === "";
      if (empty) return { verdict: "validated", route, status, type };
      throw fail(`${route} documents no body for ${key}, yet the answer has one`);
    }
    if (!type) throw fail(`the answer has no content type; ${route} ${key} documents ${documented.join(", ")}`);
    const media = [type, `${type.split("/")[0]}/*`, "*/*"].find((m) => m in content);
    if (!media) throw fail(`content type ${type} is not documented for ${route} ${key}; it documents ${documented.join(", ")}`);
    if (!isJsonType(type)) return { verdict: "documented", route, status, type };
    if (!content[media].schema) return { verdict: "validated", route, status, type };
    const value = this.parse(body, fail);
    const v = this.validator(pointerOf([...resParts, "content", media, "schema"]));
    if (!v(value)) throw fail(`the body does not match the schema of ${route} ${key} ${media}`, formatErrors(v.errors));
    return { verdict: "validated", route, status, type };
  }

  parse(body, fail) {
    if (typeof body !== "string") return body;
    try {
      return JSON.parse(body);
    } catch (e) {
      throw fail(`the body is not JSON (${e.message})`);
    }
  }

  /** An answer to a request no operation documents: the router's problem with this status, nothing else. */
  checkUnrouted(expected, status, type, body, fail, why) {
    if (status !== expected || type !== "application/problem+json") {
      throw fail(`${why}, and the answer is not the router's ${expected} application/problem+json`);
    }
    if (!this.problemPointer) return;
    const v = this.validator(this.problemPointer);
    if (!v(this.parse(body, fail))) throw fail(`${why}: the ${expected} problem does not match the document's Problem schema`, formatErrors(v.errors));
  }
}

function formatErrors(errors = []) {
  const lines = errors.slice(0, 12).map((e) => {
    const params = Object.keys(e.params ?? {}).length ? ` ${JSON.stringify(e.params)}` : "";
    // Inside a $ref'd schema Ajv's schemaPath is relative to it ("#/required"): shown only when it says where.
    const where = e.schemaPath.startsWith(SPEC_ID) ? `  [${decodeURIComponent(e.schemaPath.slice(SPEC_ID.length))}]` : "";
    return `\n  - ${e.instancePath || "(root)"} ${e.message}${params}${where}`;
  });
  if (errors.length > 12) lines.push(`\n  … and ${errors.length - 12} more`);
  return lines.join("");
}

let spec;
/** The document at SPEC_PATH, loaded and compiled once per process. */
export function getSpec() {
  spec ??= Spec.load();
  return spec;
}

/**
 * Checks one answer against docs/openapi.json (see the top of this file);
 * throws OpenApiMismatch (method, path, status, Ajv's errors, the start of the
 * body) when the document does not describe it.
 */
export function validateResponse(method, urlPath, status, contentType, body) {
  return getSpec().validate(method, urlPath, status, contentType, body);
}
