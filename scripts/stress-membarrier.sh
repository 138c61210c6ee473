#!/usr/bin/env bash
# The real membarrier path across threads (loom models it as a fence; this runs it):
# >= 10^7 messages through a bounded channel between two threads with random delays, and
# biased words revoked while their owner updates them. Release build; a lost wake hangs,
# so the run is bounded by `timeout`.
#   scripts/stress-membarrier.sh [MESSAGES]   (default 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export WEFT_STRESS_MESSAGES="${1:-10000000}"
start=$(date +%s)
timeout 900 cargo test --release -p weft-channel --test stress_membarrier -- --ignored --nocapture --test-threads 1
echo "stress-membarrier: passed in $(( $(date +%s) - start )) s"
