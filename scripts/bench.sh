#!/usr/bin/env bash
# The benchmark, from a clean checkout: installs the toolchain (once), then
# `node bench/run.mjs`, which builds the release worker, measures its ingest
# next to a plain JavaScript peer (bench/peer/) under `wrangler dev` against
# the seed table's bare insert, probes every console read at two bulk-loaded
# shapes (2M events in a day, 5M over 400 days), runs the core's criterion
# benchmark, and prints one table with targets (also written to bench/last-run.md).
# Knobs: BENCH_SECONDS, BENCH_ROUNDS, BENCH_READ_SECONDS, BENCH_CONNECTIONS,
# BENCH_SHAPES, BENCH_LEVELS, BENCH_PARTS (see bench/run.mjs). Under 25 minutes,
# most of it loading the shapes; it prints its total wall time.
# `scripts/bench.sh compare <commit>`: that commit's worker and this tree's side
# by side, ingest against each one's floor in the same rounds (bench/compare.mjs).
source "$(dirname "$0")/toolchain.sh"
ensure_toolchain
command -v python3 >/dev/null || die "python3 not found (bench/load_rows.py fills the read levels)"
cd "$ROOT"
if [[ "${1:-}" == compare ]]; then
  exec node bench/compare.mjs "${@:2}"
fi
exec node bench/run.mjs "$@"
