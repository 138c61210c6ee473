#!/usr/bin/env bash
# Fuzzes the example servers' parsers with cargo-fuzz, one target after another, each for
# SECONDS (default 60), on one core. Crashes land in fuzz/artifacts/TARGET/; keep each as a
# regression test (see examples/common/src/check.rs) before fixing it.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: http resp chat_lines)
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(http resp chat_lines)
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
for t in "${TARGETS[@]}"; do
  echo "=== $t: ${SECONDS_EACH}s"
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    2>&1 | grep -E '^(#[0-9]+.*(DONE|pulse)|Done|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' || true
  if ls "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "!!! $t: failing inputs in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
