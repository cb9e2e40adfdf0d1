#!/usr/bin/env bash
# wrangler's [build] command: the release worker into build/.
# worker-build would download wasm-bindgen and esbuild; point it at local ones.
source "$(dirname "$0")/toolchain.sh"
ensure_toolchain
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
cd "$ROOT"
worker-build --release
# The console's bundle, served from admin-ui/public by the asset binding.
node scripts/build-console.mjs
