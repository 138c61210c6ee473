#!/usr/bin/env bash
# Instructions per task poll with metrics off and on, for each executor workload, counted
# by callgrind (deterministic, unlike wall time on a shared machine).
#
#   benches/metrics_cost.sh [workload...]     (default: all five)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "metrics_cost.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bin=$(cargo bench --bench executor --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "executor" and m.get("executable"):
        print(m["executable"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(spawn_many yield_many ping_pong ping_pong_native chained_spawn)
per_poll() { # $1: callgrind output file
    local total polls
    total=$(callgrind_annotate "$1" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    # Calls of the task-poll entry point, summed over its callers.
    polls=$(callgrind_annotate --tree=caller "$1" |
        awk '/\*  \?\?\?:weft_executor::task::raw::poll /{print prev} {prev=$0}' |
        grep -o '([0-9,]*x)' | tr -d '(),x' | sort -n | tail -1)
    python3 -c "print(f'{$total / $polls:.1f}')"
}
printf '%-18s %10s %14s %8s\n' workload weft weft+metrics cost
for w in "${workloads[@]}"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/a" "$bin" --bench --profile-time 1 "$w/weft\$" >/dev/null 2>&1
    valgrind --tool=callgrind --callgrind-out-file="$out/b" "$bin" --bench --profile-time 1 "$w/weft\\+metrics" >/dev/null 2>&1
    a=$(per_poll "$out/a")
    b=$(per_poll "$out/b")
    printf '%-18s %10s %14s %7s%%\n' "$w" "$a" "$b" "$(python3 -c "print(f'{($b / $a - 1) * 100:+.1f}')")"
done
