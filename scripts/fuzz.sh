#!/usr/bin/env bash
# Fuzzes every parser that sees outside bytes (fuzz/fuzz_targets/*), each for
# FUZZ_SECONDS (default 60). Needs the nightly toolchain; installs cargo-fuzz
# when missing. A crash leaves its input in fuzz/artifacts/<target>/: turn it
# into a regression test, then fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=(signature_header ingest_body cursor read_params trace_rule scrub)
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  dict=()
  [[ -f "fuzz/dictionaries/$target.dict" ]] && dict=(-dict="fuzz/dictionaries/$target.dict")
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 "${dict[@]}" 2>&1 \
    | grep -E "^(#[0-9]+\s+DONE|==|SUMMARY|artifact_prefix|Test unit written)" || true
  if ls "fuzz/artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target found a crash: $(ls fuzz/artifacts/$target/crash-*)" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets × ${seconds}s, no crash"
