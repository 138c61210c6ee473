#!/usr/bin/env bash
# Redis server comparison with redis-benchmark on 127.0.0.1:
#   (a) weft's examples/mini_redis,
#   (b) the `mini-redis` crate's server (tokio's teaching server; multi-thread runtime, which
#       sizes itself to the one core it is pinned to), installed with `cargo install`,
#   (c) redis-server (`--save '' --appendonly no`, i.e. no persistence, like the others).
# Each runs `redis-benchmark -t set,get -n N -c 50 -q`, without and with `-P 16`.
#
# The servers are pinned to core 0 and redis-benchmark to core 1. redis-benchmark saturates
# its core before the fast servers do, so req/s mostly measures the client unpipelined; the
# figure that compares servers there is their CPU time per request: utime + stime from
# /proc/PID/stat (10 ms ticks) before and after the run, divided by the 2 x N requests of
# the run (SET then GET). Repetitions are interleaved across the servers (round 1 of each,
# then round 2, ...); the summary gives the median over rounds of each per-round ratio
# mini_redis / redis-server: on this drifting shared VM ratios from one round hold, absolute
# figures move by up to 2x.
# Before each run the other load on the machine is read from /proc/stat: above 0.1 core the
# run waits (up to 30 s) and the figure is printed beside the result either way.
# Allocators are each server's own (redis-server: jemalloc; the Rust servers: glibc malloc,
# untuned); mini_redis allocates nothing per request once warm.
#
# Usage: benches/redis.sh            (env: N=200000 REPS=3 CARGO_TARGET_DIR=target
#                                      MINI_REDIS_ROOT=$CARGO_TARGET_DIR/mini-redis-bin
#                                      QUIET_WAIT=15: seconds to wait for a quiet machine
#                                      MINI_REDIS_INSTALL=1: 0 skips `cargo install`
#                                      BENCH_REPORT_DIR: also write redis.md there)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
REPS=${REPS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
MINI_REDIS_ROOT=${MINI_REDIS_ROOT:-$CARGO_TARGET_DIR/mini-redis-bin}
PORT_WEFT=16379 PORT_TOKIO=16380 PORT_REDIS=16381
CLIENT_TIMEOUT=300 # seconds per redis-benchmark run
HZ=$(getconf CLK_TCK)

# --- tools --------------------------------------------------------------------------------
if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null ||
  ! command -v redis-cli >/dev/null; then
  echo "installing redis-tools and redis-server with apt-get"
  timeout 120 apt-get update -qq
  timeout 600 apt-get install -y -qq redis-tools redis-server >/dev/null
fi
echo "building examples/mini_redis (release)"
timeout 1800 cargo build --release --example mini_redis 2>&1 | tail -1
WEFT_BIN=$CARGO_TARGET_DIR/release/examples/mini_redis
TOKIO_BIN=$MINI_REDIS_ROOT/bin/mini-redis-server
if [ ! -x "$TOKIO_BIN" ] && [ "${MINI_REDIS_INSTALL:-1}" = 0 ]; then
  echo "mini-redis: not installed and MINI_REDIS_INSTALL=0: skipping the tokio mini-redis column"
elif [ ! -x "$TOKIO_BIN" ]; then
  echo "installing the mini-redis crate into $MINI_REDIS_ROOT (cargo install; a few minutes)"
  if ! timeout 2400 cargo install mini-redis --locked --root "$MINI_REDIS_ROOT" \
    >"$CARGO_TARGET_DIR/mini-redis-install.log" 2>&1; then
    echo "mini-redis: cargo install failed (see $CARGO_TARGET_DIR/mini-redis-install.log);" \
      "skipping the tokio mini-redis column"
  fi
fi
SERVERS="weft redis"
[ -x "$TOKIO_BIN" ] && SERVERS="weft tokio redis"
echo "redis: $(redis-server --version | cut -d' ' -f3)  redis-benchmark: $(redis-benchmark --version)"

# --- servers (started here, stopped by pid on exit) ---------------------------------------
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

declare -A PID PORT
PORT[weft]=$PORT_WEFT PORT[tokio]=$PORT_TOKIO PORT[redis]=$PORT_REDIS
start() { # name command...; taskset execs the server, so $! is the server's own pid
  local name=$1
  shift
  taskset -c 0 "$@" >/dev/null 2>&1 &
  PID[$name]=$!
  PIDS+=($!)
  for _ in $(seq 100); do
    if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/${PORT[$name]}" 2>/dev/null; then
      return 0
    fi
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start listening on port ${PORT[$name]}" >&2
  exit 1
}
for s in $SERVERS; do
  case $s in
  weft) start weft "$WEFT_BIN" --port "$PORT_WEFT" ;;
  tokio) start tokio "$TOKIO_BIN" --port "$PORT_TOKIO" ;;
  redis) start redis redis-server --save '' --appendonly no --port "$PORT_REDIS" \
    --bind 127.0.0.1 --daemonize no --logfile '' ;;
  esac
done

# --- measuring ----------------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Busy CPU on the whole machine over 0.5 s, in cores (our idle servers included: ~0).
other_load() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  sleep 0.5
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$HZ" \
    'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1] - x[1]) / hz / 0.5 }'
}

wait_quiet() {
  local load
  for _ in $(seq $((2 * ${QUIET_WAIT:-15}))); do
    load=$(other_load)
    awk -v l="$load" 'BEGIN { exit !(l <= 0.10) }' && break
    sleep 0.5
  done
  echo "$load"
}

RESULTS=$(mktemp)
trap 'cleanup; rm -f "$RESULTS"' EXIT

run_one() { # rep pipeline server
  local rep=$1 pl=$2 s=$3 pid=${PID[$3]} load before after out rc=0 setr getr us
  load=$(wait_quiet)
  before=$(cpu_ticks "$pid")
  out=$(timeout "$CLIENT_TIMEOUT" taskset -c 1 redis-benchmark -h 127.0.0.1 -p "${PORT[$s]}" \
    -t set,get -n "$N" -c 50 -q -P "$pl" 2>&1) || rc=$?
  after=$(cpu_ticks "$pid")
  out=$(echo "$out" | tr '\r' '\n')
  setr=$(echo "$out" | awk '/^SET: [0-9.]+ requests per second/ {print $2}')
  getr=$(echo "$out" | awk '/^GET: [0-9.]+ requests per second/ {print $2}')
  if [ "$rc" -ne 0 ] || [ -z "$setr" ] || [ -z "$getr" ]; then
    printf 'round %s  -P %-2s  %-6s FAILED (exit %s, timeout %ss)\n' "$rep" "$pl" "$s" "$rc" \
      "$CLIENT_TIMEOUT"
    echo "$out" | grep -v 'rps=' | tail -3 | sed 's/^/    /'
    return
  fi
  us=$(awk -v t=$((after - before)) -v hz="$HZ" -v n=$((2 * N)) \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf 'round %s  -P %-2s  %-6s SET %10s req/s  GET %10s req/s  server CPU %6s us/req  (other load %s cores)\n' \
    "$rep" "$pl" "$s" "$setr" "$getr" "$us" "$load"
  echo "$out" | grep -i 'warning\|error' | sort -u | sed 's/^/    /' || true
  echo "$rep $pl $s $setr $getr $us" >>"$RESULTS"
}

echo
echo "redis-benchmark -h 127.0.0.1 -p PORT -t set,get -n $N -c 50 -q [-P 16]," \
  "server on core 0, client on core 1, $REPS rounds"
for rep in $(seq "$REPS"); do
  for pl in 1 16; do
    for s in $SERVERS; do
      run_one "$rep" "$pl" "$s"
    done
  done
done

# --- summary ------------------------------------------------------------------------------
echo
echo "medians over rounds (ratios: median of the per-round ratios)"
awk -v servers="$SERVERS" -v md="${BENCH_REPORT_DIR:+$BENCH_REPORT_DIR/redis.md}" -v n="$N" -v reps="$REPS" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return "-"
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function f(x, fmt) { return (x == "-") ? "n/a" : sprintf(fmt, x) }
  { set[$2, $3, $1] = $4; get[$2, $3, $1] = $5; cpu[$2, $3, $1] = $6; reps_seen[$1] = 1 }
  END {
    ns = split(servers, sv, " ")
    for (p = 1; p <= 2; p++) {
      pl = (p == 1) ? 1 : 16
      for (k = 1; k <= ns; k++) {
        s = sv[k]; ls = lg = lc = ""
        for (r in reps_seen) if ((pl, s, r) in set) { ls = ls " " set[pl, s, r]; lg = lg " " get[pl, s, r]; lc = lc " " cpu[pl, s, r] }
        printf "-P %-2d %-6s SET %10s req/s  GET %10s req/s  server CPU %6s us/req\n", pl, s, f(median(ls), "%.0f"), f(median(lg), "%.0f"), f(median(lc), "%.2f")
      }
      for (k = 1; k <= ns; k++) {
        s = sv[k]; if (s == "redis") continue
        rs = rg = rc = ""
        for (r in reps_seen) if (((pl, s, r) in set) && ((pl, "redis", r) in set)) {
          rs = rs " " set[pl, s, r] / set[pl, "redis", r]
          rg = rg " " get[pl, s, r] / get[pl, "redis", r]
          if (cpu[pl, "redis", r] > 0) rc = rc " " cpu[pl, s, r] / cpu[pl, "redis", r]
        }
        name = (s == "weft") ? "mini_redis" : "tokio mini-redis"
        printf "-P %-2d %s / redis-server: req/s SET %s GET %s   CPU per request %s\n", pl, name, f(median(rs), "%.2f"), f(median(rg), "%.2f"), f(median(rc), "%.2f")
        if (s == "weft") { ratio_set[pl] = median(rs); ratio_get[pl] = median(rg); ratio_cpu[pl] = median(rc); mr_set[pl] = ratio_set[pl]; mr_get[pl] = ratio_get[pl]; mr_cpu[pl] = ratio_cpu[pl] }
      }
    }
    print ""
    printf "target -P 16: mini_redis req/s >= 0.8 x redis-server: SET %.2f GET %.2f -> %s\n", ratio_set[16], ratio_get[16], (ratio_set[16] >= 0.8 && ratio_get[16] >= 0.8) ? "met" : "MISSED"
    printf "target -P 1: mini_redis CPU per request <= redis-server: %.2f -> %s\n", ratio_cpu[1], (ratio_cpu[1] <= 1.0) ? "met" : "MISSED"
    if (md != "") {
      printf "`benches/redis.sh` (N=%d, %d interleaved rounds): `redis-benchmark -t set,get -n %d -c 50 -q [-P 16]` against weft'"'"'s `examples/mini_redis`", n, reps, n > md
      printf "%s and redis-server (no persistence); servers on core 0, client on core 1. Medians over rounds; ratios are medians of per-round ratios to redis-server. Unpipelined, req/s measures the client: compare the servers'"'"' CPU per request.\n\n", (servers ~ /tokio/) ? ", the `mini-redis` crate'"'"'s server (tokio)" : " (the tokio mini-redis column is skipped: not installed)" > md
      print "| server | pipeline | SET req/s | GET req/s | server CPU per request |" > md
      print "|---|---|---|---|---|" > md
      for (p = 1; p <= 2; p++) {
        pl = (p == 1) ? 1 : 16
        for (k = 1; k <= ns; k++) {
          s = sv[k]; ls = lg = lc = ""
          for (r in reps_seen) if ((pl, s, r) in set) { ls = ls " " set[pl, s, r]; lg = lg " " get[pl, s, r]; lc = lc " " cpu[pl, s, r] }
          name = (s == "weft") ? "weft mini_redis" : (s == "tokio") ? "tokio mini-redis" : "redis-server"
          printf "| %s | -P %d | %s | %s | %s us |\n", name, pl, f(median(ls), "%.0f"), f(median(lg), "%.0f"), f(median(lc), "%.2f") > md
        }
        printf "| **weft / redis-server** | -P %d | %s | %s | **%s** |\n", pl, f(mr_set[pl], "%.2f"), f(mr_get[pl], "%.2f"), f(mr_cpu[pl], "%.2f") > md
      }
    }
  }' "$RESULTS"
