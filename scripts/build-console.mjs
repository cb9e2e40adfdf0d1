#!/usr/bin/env node
// Bundles the operator console (admin-ui/src, TypeScript + uPlot) into
// admin-ui/public/cp/auth-commerce-funnel/app.{js,css} with esbuild, and
// prints the bundle size raw and gzipped.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "admin-ui", "public", "cp", "auth-commerce-funnel");
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
