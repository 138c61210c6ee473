#!/usr/bin/env bash
# HTTP server comparison: weft's examples/http_hello against the same server on tokio's
# current_thread runtime (benches/peers/tokio_http.rs), with wrk on 127.0.0.1.
#
# The server is pinned to core 0 and wrk to core 1. wrk saturates its own core on this 2-core
# machine, so req/s mostly measures the client; the figure that compares the servers is their
# CPU time per request: utime + stime from /proc/PID/stat, before and after the run, divided
# by the requests wrk completed.
#
# Usage: benches/wrk.sh [duration, default 10s]
# With BENCH_REPORT_DIR set (as `cargo xtask bench` does), also writes the table as markdown
# to $BENCH_REPORT_DIR/wrk.md for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --example http_hello --example tokio_http 2>&1 | tail -1
TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_one() { # name binary port conns
  local name=$1 bin=$2 port=$3 conns=$4
  taskset -c 0 "$bin" "$port" 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(taskset -c 1 wrk -t1 -c"$conns" -d"$DURATION" --latency "http://127.0.0.1:$port/")
  local after; after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local reqs; reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50; p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errs; errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local us_per_req; us_per_req=$(awk -v t=$((after - before)) -v hz="$TCK" -v n="$reqs" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf '%-6s c=%-4s %10s req/s  p50 %-8s p99 %-8s server CPU %6s us/req %s\n' \
    "$name" "$conns" "$rps" "$p50" "$p99" "$us_per_req" "$errs"
  echo "$name $conns $rps $us_per_req $p50 $p99" >>"$RESULTS"
}

RESULTS=$(mktemp)
for conns in 50 256; do
  run_one weft target/release/examples/http_hello 18080 "$conns"
  run_one tokio target/release/examples/tokio_http 18081 "$conns"
done
echo
awk '{ rps[$1" "$2]=$3; cpu[$1" "$2]=$4 }
  END { for (c in a) {} 
        split("50 256", cs, " ");
        for (i in cs) { c=cs[i];
          printf "c=%-4s weft/tokio: req/s %.2f, server CPU per request %.2f\n", c,
            rps["weft "c]/rps["tokio "c], cpu["weft "c]/cpu["tokio "c] } }' "$RESULTS"
if [ -n "${BENCH_REPORT_DIR:-}" ]; then
  {
    echo "\`benches/wrk.sh $DURATION\`: \`examples/http_hello\` (weft) and the same server on tokio's"
    echo "current_thread runtime (\`benches/peers/tokio_http.rs\`), \`wrk -t1\`, server pinned to core 0"
    echo "and wrk to core 1. wrk fills its core, so req/s mostly measures wrk; the server's CPU time"
    echo "per request (utime + stime from /proc/PID/stat over the run) compares the servers."
    echo
    echo "| server | connections | req/s | p50 | p99 | server CPU per request |"
    echo "|---|---|---|---|---|---|"
    awk '{ printf "| %s | %s | %s | %s | %s | %s us |\n", $1, $2, $3, $5, $6, $4 }' "$RESULTS"
    awk '{ rps[$1" "$2]=$3; cpu[$1" "$2]=$4 }
      END { split("50 256", cs, " ");
            for (i = 1; i <= 2; i++) { c = cs[i];
              printf "| **weft / tokio** | %s | %.2f | | | **%.2f** |\n", c,
                rps["weft "c]/rps["tokio "c], cpu["weft "c]/cpu["tokio "c] } }' "$RESULTS"
  } >"$BENCH_REPORT_DIR/wrk.md"
fi
rm -f "$RESULTS"
