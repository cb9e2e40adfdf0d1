#!/usr/bin/env bash
# Command 2: run every test. Installs what it needs (once), then:
#   1. formatting and lints (rustfmt, clippy for native and wasm, no warnings)
#   2. the core's unit and integration tests, natively (cargo test)
#   3. the JS client's types and tests (under Node and Deno; its browser build too), and the gateway's (node's test runner), on the shared vectors
#   4. end-to-end tests against a real worker under wrangler dev (own port, own D1, own secrets)
source "$(dirname "$0")/toolchain.sh"
cd "$ROOT"

ensure_toolchain

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy (native and wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings

log "cargo test (core, natively)"
cargo test

log "console types are generated from docs/openapi.json, then type-checked (tsc --noEmit)"
node scripts/gen-console-types.mjs --check
(cd "$ROOT" && node_modules/.bin/tsc -p admin-ui)

log "client: event types are generated from docs/catalog.json, type-checked (including calls that must not compile), then unit-tested"
node scripts/gen-client-types.mjs --check
node_modules/.bin/tsc -p clients/js
node scripts/run-ts-tests.mjs clients/js
log "client: the same unit tests under Deno (the client runs in Workers, Node 20+ and Deno)"
node scripts/run-ts-tests.mjs clients/js --deno

log "gateway tests (integrations/zuplo): signing and the login/OTP event policy"
node_modules/.bin/tsc -p integrations/zuplo
node scripts/run-ts-tests.mjs integrations/zuplo

ensure_chromium
log "end-to-end tests against wrangler dev (the console in Chromium, then the API)"
node tests/e2e/run.mjs

log "load with retries and D1 faults (short run; LOAD_SECONDS=60 node tests/load/run.mjs for the full one)"
LOAD_SECONDS="${LOAD_SECONDS:-16}" node tests/load/run.mjs
