#!/usr/bin/env node
// Builds the package: src/index.ts → dist/index.js (one ES module, no
// dependencies) and dist/*.d.ts. Uses the repository's esbuild and tsc.
// `bundleClient(dir)` is what the repository's own scripts and tests use to
// load the client from its TypeScript source.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

/** Bundles the client into `outdir`; returns the bundle's path. */
export async function bundleClient(outdir) {
  const outfile = join(outdir, "index.js");
  await build({ entryPoints: [join(here, "src", "index.ts")], outfile, bundle: true, format: "esm", platform: "neutral",
                target: "es2022", logLevel: "warning" });
  return outfile;
}

/**
 * The browser sender (src/browser.ts) for pages: `browser.js` (ES module) and
 * `funnel-browser.js` (a script tag's IIFE, `window.funnel.init(...)`), minified.
 */
export async function bundleBrowser(outdir) {
  const common = { entryPoints: [join(here, "src", "browser.ts")], bundle: true, minify: true, platform: "browser",
                   target: "es2020", logLevel: "warning" };
  await build({ ...common, outfile: join(outdir, "browser.js"), format: "esm" });
  await build({ ...common, outfile: join(outdir, "funnel-browser.js"), format: "iife", globalName: "funnel" });
  return { esm: join(outdir, "browser.js"), iife: join(outdir, "funnel-browser.js") };
}

/** The client as a module, built from source into `outdir`. */
export async function loadClient(outdir) {
  return import(pathToFileURL(await bundleClient(outdir)).href);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dist = join(here, "dist");
  await bundleClient(dist);
  await bundleBrowser(dist);
  const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"),
    [join(here, "src", "index.ts"), join(here, "src", "browser.ts"), "--declaration", "--emitDeclarationOnly", "--outDir", dist, "--target", "es2022",
     "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom", "--strict", "--skipLibCheck"],
    { stdio: "inherit" });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  console.log(`client: built ${dist}`);
}
