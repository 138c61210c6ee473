#!/usr/bin/env bash
# HTTP server comparison: weft's examples/http_hello against the same handler on tokio
# (benches/peers/tokio_http.rs), with wrk on 127.0.0.1, in one run.
#
# Cases (each weft row beside its tokio peer, same wrk settings):
#   1core  c=50, c=256: http_hello --workers 1 vs tokio current_thread. The server is pinned
#          to core 0 and wrk (-t1) to core 1. wrk fills its own core, so req/s mostly measures
#          wrk; the server's CPU time per request compares the servers.
#   2core  c=256: http_hello --workers 2 vs tokio multi_thread with 2 workers. Nothing is
#          pinned: the server's two threads and wrk (-t2) SHARE the machine's two cores, so
#          every figure here includes the contention with the client. A third row,
#          tokio-tpc, is thread-per-core on tokio (2 current_thread runtimes, each with its own
#          SO_REUSEPORT listener): the model weft's workers follow, built from tokio's parts.
#   2core-nice  the 2core case with wrk at nice 10 (not in the default CASES): the server's
#          threads then weigh ~9x the client's with the scheduler (1024 against 110), so a
#          woken server thread waits less for a core that wrk holds: closer to what a server
#          gets when its clients run on other machines. It separates the cost of sharing the
#          two cores with the client from the cost of serving (benches/README.md, the
#          two-worker tail).
# Server CPU per request: utime + stime of the whole process (all threads) from
# /proc/PID/stat before and after the run, divided by the requests wrk completed.
#
# The machine drifts (see /work/shared/MEASURING.md): ROUNDS rounds interleave the servers
# (round 1 of each, then round 2 of each...), and the summary gives, per case, the median
# over rounds of the per-round ratio weft / tokio, and for p99 and CPU per request in how
# many rounds the row was below tokio's ("(k/n)").
#
# Usage: benches/wrk.sh [duration, default 10s]   (ROUNDS=3 by default)
# CASES="1core 2core" (the default) picks the cases to run, e.g. CASES=2core ROUNDS=20, or
# CASES="2core 2core-nice" to see what sharing the cores with wrk costs each server.
# WEFT_BEFORE=path/to/another/http_hello adds a "before" row (e.g. a build from an older
# commit) in the same rounds, for before/after comparisons.
# With BENCH_REPORT_DIR set (as `cargo xtask bench` does), also writes the table as markdown
# to $BENCH_REPORT_DIR/wrk.md for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --example http_hello --example tokio_http 2>&1 | tail -1
TCK=$(getconf CLK_TCK)
SECS=${DURATION%s}
# Every wrk run is bounded: its duration plus a margin.
WRK_LIMIT=$((SECS + 20))

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk's latency ("850.00us", "3.61ms", "1.02s") in microseconds.
to_us() { awk -v v="$1" 'BEGIN {
  if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
  else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
  else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
  else print v }'; }

run_one() { # round case name conns server-cpus wrk-cpus wrk-threads port binary [options...]
  local round=$1 case=$2 name=$3 conns=$4 scpus=$5 wcpus=$6 wthreads=$7 port=$8 bin=$9
  shift 9
  taskset -c "$scpus" "$bin" "$port" "$@" 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "r$round $case $name c=$conns: the server did not start (port $port taken?); skipped"
    return
  fi
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(timeout "$WRK_LIMIT" nice -n "${WRK_NICE:-0}" taskset -c "$wcpus" \
    wrk -t"$wthreads" -c"$conns" -d"$DURATION" --latency "http://127.0.0.1:$port/")
  local after; after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local reqs; reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50; p50=$(to_us "$(echo "$out" | awk '$1=="50%" {print $2}')")
  local p99; p99=$(to_us "$(echo "$out" | awk '$1=="99%" {print $2}')")
  local errs; errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local us_per_req; us_per_req=$(awk -v t=$((after - before)) -v hz="$TCK" -v n="$reqs" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf 'r%s %-6s %-9s c=%-4s %10s req/s  p50 %7.0f us  p99 %7.0f us  CPU %6s us/req %s\n' \
    "$round" "$case" "$name" "$conns" "$rps" "$p50" "$p99" "$us_per_req" "$errs"
  echo "$round $case $name $conns $rps $us_per_req $p50 $p99" >>"$RESULTS"
}

WEFT=target/release/examples/http_hello
TOKIO=target/release/examples/tokio_http
RESULTS=$(mktemp)
# A base port that other servers on the machine are unlikely to hold, below the kernel's
# ephemeral range: there, wrk's own client sockets (and their TIME_WAIT) could take the port
# a server is about to bind, and that round would be lost ("did not start").
EPHEMERAL_LOW=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
SPAN=$((EPHEMERAL_LOW > 12000 ? EPHEMERAL_LOW - 11000 : 1000))
PORT=$((10000 + RANDOM % SPAN))
CASES=${CASES:-1core 2core}
for c in $CASES; do
  case $c in
    1core | 2core | 2core-nice) ;;
    *) echo "wrk.sh: unknown case '$c' in CASES (1core, 2core, 2core-nice)" >&2; exit 2 ;;
  esac
done
wants() { [[ " $CASES " == *" $1 "* ]]; }
# The rows of a two-core case (2core, or 2core-nice with WRK_NICE=10 set by the caller).
run_2core() { # round case
  run_one "$1" "$2" weft 256 0,1 0,1 2 $((PORT++)) "$WEFT" --workers 2
  if [ -n "${WEFT_BEFORE:-}" ]; then
    run_one "$1" "$2" before 256 0,1 0,1 2 $((PORT++)) "$WEFT_BEFORE" --workers 2
  fi
  run_one "$1" "$2" tokio 256 0,1 0,1 2 $((PORT++)) "$TOKIO" --workers 2
  run_one "$1" "$2" tokio-tpc 256 0,1 0,1 2 $((PORT++)) "$TOKIO" --per-core 2
}
for round in $(seq "$ROUNDS"); do
  if wants 1core; then
    for conns in 50 256; do
      run_one "$round" 1core weft "$conns" 0 1 1 $((PORT++)) "$WEFT" --workers 1
      if [ -n "${WEFT_BEFORE:-}" ]; then
        run_one "$round" 1core before "$conns" 0 1 1 $((PORT++)) "$WEFT_BEFORE"
      fi
      run_one "$round" 1core tokio "$conns" 0 1 1 $((PORT++)) "$TOKIO"
    done
  fi
  if wants 2core; then
    run_2core "$round" 2core
  fi
  if wants 2core-nice; then
    # WRK_NICE applies to this call only (a prefix assignment to a function).
    WRK_NICE=10 run_2core "$round" 2core-nice
  fi
done
echo
SUMMARY=$(python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
runs = {}
for rnd, case, name, conns, rps, cpu, p50, p99 in rows:
    runs[(rnd, case, conns, name)] = (float(rps), float(cpu), float(p50), float(p99))
cases = sorted({(case, conns) for _, case, _, conns, *_ in rows}, key=lambda c: (c[0], int(c[1])))
names = sorted({r[2] for r in rows if r[2] != "tokio"}, key=lambda n: (n != "weft", n != "before", n))
print("| case | server | req/s | p50 us | p99 us | CPU us/req | / tokio: req/s | p99 | CPU/req |")
print("|---|---|---|---|---|---|---|---|---|")
for case, conns in cases:
    label = f"{case} c={conns}"
    for name in names + ["tokio"]:
        mine = [v for (r, c, n, nm), v in runs.items() if (c, n, nm) == (case, conns, name)]
        if not mine:
            continue
        med = [statistics.median(x[i] for x in mine) for i in range(4)]
        ratio = ""
        if name != "tokio":
            per_round = [(runs[k], runs.get((k[0], case, conns, "tokio"))) for k in runs
                         if k[1:] == (case, conns, name)]
            per_round = [(m, t) for m, t in per_round if t]
            r = lambda i: statistics.median(m[i] / t[i] for m, t in per_round)
            # In how many rounds the row's p99 (CPU) was below tokio's: a median ratio
            # near 1 is parity only if this is near half the rounds.
            below = lambda i: sum(m[i] < t[i] for m, t in per_round)
            n = len(per_round)
            ratio = (f"| **{r(0):.2f}** | **{r(3):.2f}** ({below(3)}/{n}) "
                     f"| **{r(1):.2f}** ({below(1)}/{n}) ")
        else:
            ratio = "| | | "
        print(f"| {label} | {name} | {med[0]:.0f} | {med[2]:.0f} | {med[3]:.0f} | {med[1]:.2f} {ratio}|")
EOF
)
echo "$SUMMARY"
LEGEND="(medians over $ROUNDS rounds; ratios are medians of per-round ratios to tokio, (k/n): lower than tokio's in k of n rounds; 2core: wrk shares both cores with the server; 2core-nice: the same, wrk at nice 10)"
echo "$LEGEND"
if [ -n "${BENCH_REPORT_DIR:-}" ]; then
  {
    echo "\`benches/wrk.sh $DURATION\` (ROUNDS=$ROUNDS): \`examples/http_hello\` (weft) and the same handler on"
    echo "tokio (\`benches/peers/tokio_http.rs\`). 1core: \`--workers 1\` vs tokio current_thread, server"
    echo "pinned to core 0, \`wrk -t1\` to core 1 (wrk fills its core: req/s mostly measures wrk; the"
    echo "server's CPU per request compares the servers). 2core: \`--workers 2\` vs tokio multi_thread"
    echo "with 2 workers, \`wrk -t2\`, nothing pinned: **wrk shares the two cores with the server**."
    echo "tokio-tpc is thread-per-core on tokio (\`--per-core 2\`: two current_thread runtimes, each"
    echo "with its own \`SO_REUSEPORT\` listener), the model weft's workers follow; its ratios are to"
    echo "tokio multi_thread too."
    if wants 2core-nice; then
      echo "2core-nice is the 2core case with wrk at nice 10: the scheduler favours the server's"
      echo "threads over the client's (~9:1), close to a client on other machines."
    fi
    echo "Server CPU per request: utime + stime (all threads) from /proc/PID/stat over the run."
    echo
    echo "$SUMMARY"
    echo
    echo "$LEGEND"
  } >"$BENCH_REPORT_DIR/wrk.md"
fi
rm -f "$RESULTS"
