#!/usr/bin/env node
// Bundles the operator console (admin-ui/src, TypeScript + uPlot) into
// admin-ui/public/cp/auth-commerce-funnel/app.{js,css} with esbuild, and
// prints the bundle size raw and gzipped. First regenerates the console's
// API types from docs/openapi.json (scripts/gen-console-types.mjs), so the
// console always builds against the current document (and, when they
// changed, type-checks the console against them).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { writeTypes } from "./gen-console-types.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "admin-ui", "public", "cp", "auth-commerce-funnel");
let regenerated;
try {
  regenerated = await writeTypes();
} catch (e) {
  console.error(`console: ${e.message}`);
  process.exit(1);
}
if (regenerated) {
  // The document changed since the types were last generated: esbuild does
  // not type-check, so check the console against the new types here.
  console.log("console: API types regenerated from the OpenAPI document (admin-ui/src/generated/api.d.ts); type-checking");
  const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(root, "admin-ui")], { stdio: "inherit" });
  if (tsc.status !== 0) {
    console.error("console: the console does not type-check against the current OpenAPI document");
    process.exit(1);
  }
}
await build({
  entryPoints: { app: join(root, "admin-ui", "src", "main.ts") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2022",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
for (const f of ["app.js", "app.css"]) {
  const bytes = readFileSync(join(out, f));
  console.log(`console: ${f} ${bytes.length} bytes, ${gzipSync(bytes).length} gzip`);
}
