#!/usr/bin/env node
// Which e2e requests escape the OpenAPI check, and which documented answers
// the suite never sees.
//
//   node tests/e2e/openapi-audit.mjs            static: every test file run.mjs runs,
//                                               and how its requests are (or are not) checked
//   node tests/e2e/openapi-audit.mjs LOG.ndjson also the answers a run logged, after
//                                               FUNNEL_OPENAPI_LOG=LOG.ndjson node tests/e2e/run.mjs
//
// A test process's requests are checked when it imports client.mjs (directly
// or through another helper): client.mjs makes the global fetch the checked
// one. Not checked: `rawFetch`, requests from a process that never imports
// client.mjs, requests a browser makes, and child processes the test starts.
// Exits 0 always: it reports, it does not judge.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

import { getSpec, ROOT, skipped } from "./openapi.mjs";

const CLIENT = join(ROOT, "tests", "e2e", "client.mjs");
const FOLDERS = ["e2e", "browser"]; // what run.mjs runs

function localImports(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']|^\s*import\s+["'](\.{1,2}\/[^"']+)["']/gm)]
    .map((m) => resolve(dirname(file), m[1] ?? m[2]));
}

function reachesClient(file, seen = new Set()) {
  if (file === CLIENT) return true;
  if (seen.has(file) || !existsSync(file)) return false;
  seen.add(file);
  return localImports(file).some((f) => reachesClient(f, seen));
}

const lineOf = (text, index) => text.slice(0, index).split("\n").length;
function hits(text, re) {
  return [...text.matchAll(re)].map((m) => lineOf(text, m.index));
}

function staticReport() {
  console.log("Test files and how their requests are checked against the OpenAPI document:\n");
  for (const folder of FOLDERS) {
    const dir = join(ROOT, "tests", folder);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".test.mjs")).sort()) {
      const file = join(dir, name);
      const text = readFileSync(file, "utf8");
      const checked = reachesClient(file);
      const notes = [];
      const raw = hits(text, /\brawFetch\s*\(/g);
      if (raw.length) notes.push(`rawFetch (unchecked) at lines ${raw.join(", ")}`);
      const fetches = hits(text, /(?<![\w.])fetch\s*\(/g);
      if (!checked && fetches.length) notes.push(`fetch at lines ${fetches.join(", ")} is NOT checked: the file never imports client.mjs`);
      const http = hits(text, /from\s+["'](?:node:)?(?:http|https|undici)["']/g);
      if (http.length) notes.push(`another HTTP client imported at lines ${http.join(", ")} (not checked)`);
      const browser = hits(text, /\b(?:chromium|firefox|webkit)\.launch|\bpage\.(?:goto|request)\b/g);
      if (browser.length) notes.push(`a browser's requests (lines ${browser.slice(0, 5).join(", ")}${browser.length > 5 ? ", …" : ""}) are not checked`);
      const children = [...text.matchAll(/\bspawn(?:Sync)?\([^)]*?["'`]([^"'`]+\.m?js)["'`]/g)].map((m) => `${m[1]} (line ${lineOf(text, m.index)})`);
      if (children.length) notes.push(`child processes' requests are not checked: ${children.join(", ")}`);
      const verdict = checked ? (notes.length ? "checked, except:" : "checked") : fetches.length || notes.length ? "BYPASSES the check:" : "makes no request";
      console.log(`${relative(ROOT, file)}: ${verdict}`);
      for (const n of notes) console.log(`    - ${n}`);
    }
  }
}

/** Every (route, status, media type) the document describes. */
function documentedAnswers(spec) {
  const out = [];
  for (const [template, item] of Object.entries(spec.doc.paths ?? {})) {
    if (skipped(template)) continue; // the console's files: never checked
    for (const method of Object.keys(item)) {
      const [, op] = spec.resolve(["paths", template, method]);
      if (!op?.responses) continue;
      for (const status of Object.keys(op.responses)) {
        const [, res] = spec.resolve(["paths", template, method, "responses", status]);
        const types = Object.keys(res?.content ?? {});
        for (const type of types.length ? types : [""]) out.push(`${method.toUpperCase()} ${template} ${status} ${type}`.trim());
      }
    }
  }
  return out;
}

function logReport(path) {
  const entries = readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const by = (k) => entries.reduce((m, e) => m.set(e[k], (m.get(e[k]) ?? 0) + 1), new Map());
  console.log(`\n${entries.length} answers logged in ${path}:`);
  for (const [verdict, n] of by("verdict")) console.log(`    ${verdict}: ${n}`);

  const raw = entries.filter((e) => e.verdict === "raw");
  if (raw.length) {
    console.log("\nUnchecked (rawFetch):");
    const where = new Map();
    for (const e of raw) where.set(`${e.test ?? "(outside a test file)"}  ${e.method} ${e.path}`, (where.get(`${e.test ?? "(outside a test file)"}  ${e.method} ${e.path}`) ?? 0) + 1);
    for (const [k, n] of where) console.log(`    ${k}  ×${n}`);
  }
  const mismatches = entries.filter((e) => e.verdict === "mismatch");
  if (mismatches.length) {
    console.log("\nMismatches:");
    for (const e of new Map(mismatches.map((e) => [e.error, e])).values()) console.log(`    ${e.test ?? "?"}: ${e.error}`);
  }

  const spec = getSpec();
  const seen = new Set(entries.filter((e) => e.route && (e.verdict === "validated" || e.verdict === "documented")).map((e) => {
    const [, op] = spec.resolve(["paths", e.route.split(" ")[1], e.route.split(" ")[0].toLowerCase()]);
    const responses = op?.responses ?? {};
    const key = [String(e.status), `${String(e.status)[0]}XX`, "default"].find((k) => k in responses);
    return `${e.route} ${key} ${e.type}`.trim();
  }));
  const never = documentedAnswers(spec).filter((a) => !seen.has(a));
  console.log(`\nDocumented answers the run never received (${never.length}):`);
  for (const a of never) console.log(`    ${a}`);
}

staticReport();
if (process.argv[2]) logReport(process.argv[2]);
