#!/usr/bin/env bash
# Instructions per message of the channel benches' workloads, counted by callgrind
# (deterministic, unlike wall time on a shared machine): mpsc_throughput over weft's bounded
# mpsc and over kanal, both on weft's executor, ping_pong over weft's mpsc (per round
# trip), and the oneshot bench's loop with weft's and tokio's oneshot (per oneshot). One round each of benches/peers/mpsc_loop.rs (the example `mpsc_loop`).
#
#   benches/channel_instr.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "channel_instr.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --example mpsc_loop >/dev/null 2>&1
bin="${CARGO_TARGET_DIR:-target}/release/examples/mpsc_loop"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() { # $1: workload, $2: messages per round
    valgrind --tool=callgrind --callgrind-out-file="$out/$1" "$bin" "$1" 1 >/dev/null 2>&1
    local total
    total=$(callgrind_annotate "$out/$1" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    python3 -c "print(f'{\"$1\":14s} {$total / $2:8.1f}')"
}
printf '%-14s %8s\n' workload instr/msg
count weft 1000000
count kanal 1000000
count ping_pong 100000
count oneshot 100000
count tokio_oneshot 100000
