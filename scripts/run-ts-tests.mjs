#!/usr/bin/env node
// Runs a folder's TypeScript tests with node's test runner (Node 20 cannot run
// TypeScript itself): esbuild bundles each test/*.test.ts into a temp dir, then
// `node --test` runs the bundles. Usage: node scripts/run-ts-tests.mjs <folder> [--deno]
// With --deno the same bundles run under Deno's test runner (node_modules/.bin/deno,
// from the npm package `deno`), which runs `node:test` tests as its own.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const folder = resolve(process.argv[2] ?? ".");
const deno = process.argv.includes("--deno");
const testDir = join(folder, "test");
const entries = readdirSync(testDir).filter((f) => f.endsWith(".test.ts")).map((f) => join(testDir, f));
if (entries.length === 0) {
  console.error(`no *.test.ts files in ${testDir}`);
  process.exit(1);
}
// Bundles sit at the depth of test/ so relative paths (import.meta.url) still resolve.
const outdir = mkdtempSync(join(folder, ".test-build-"));
try {
  await build({ entryPoints: entries, outdir, bundle: true, platform: "node", format: "esm", target: "node20",
                outExtension: { ".js": ".mjs" }, logLevel: "warning", packages: "external" });
  const bundles = readdirSync(outdir).map((f) => join(outdir, f));
  const run = deno
    ? spawnSync(join(import.meta.dirname, "..", "node_modules", ".bin", "deno"),
                ["test", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", "--no-check", ...bundles],
                { stdio: "inherit", env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } })
    : spawnSync(process.execPath, ["--test", "--test-timeout=60000", ...bundles], { stdio: "inherit" });
  if (run.error) console.error(`run-ts-tests: ${run.error.message}`);
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
