#!/usr/bin/env bash
# Soak: http_hello under wrk and mini_redis under redis-benchmark, each for MINUTES, with the
# server's RSS sampled every second from /proc/PID/status. After a warm-up (the first 20 % of
# the run, at least 10 s) RSS must stay within 10 % of its post-warm-up level (the median of
# the first ten samples after warm-up); the run fails otherwise, or if the load tool saw
# errors. Loopback only; every process started here is stopped by its pid.
#   scripts/soak.sh MINUTES        (default 1; per server)
# Output: target/soak/<server>.rss (one "second rss_kib" line per sample) and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-1}"
secs=$(( minutes * 60 ))
out=target/soak
mkdir -p "$out"
for tool in wrk redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is missing (apt-get install -y wrk redis-tools)" >&2; exit 1; }
done
cargo build --release --example http_hello --example mini_redis

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# sample PID SECONDS FILE: one line per second, "t rss_kib"
sample() {
  local pid=$1 n=$2 file=$3 t=0
  : > "$file"
  while [ "$t" -lt "$n" ] && kill -0 "$pid" 2>/dev/null; do
    awk -v t="$t" '/^VmRSS:/ {print t, $2}' "/proc/$pid/status" >> "$file"
    sleep 1; t=$((t + 1))
  done
}

# verdict NAME FILE: checks the RSS bound after warm-up
verdict() {
  local name=$1 file=$2
  python3 - "$name" "$file" "$secs" <<'PY'
import sys, statistics
name, path, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [tuple(map(int, l.split())) for l in open(path) if l.strip()]
warm = max(10, secs // 5)
after = [r for t, r in rows if t >= warm]
if len(after) < 10:
    print(f"soak {name}: too few samples after warm-up ({len(after)})"); sys.exit(1)
base = statistics.median(after[:10])
lo, hi = min(after), max(after)
drift = (hi - base) / base * 100
print(f"soak {name}: {len(rows)} samples; RSS start {rows[0][1]} KiB, after warm-up "
      f"{base:.0f} KiB (median of 10), min {lo} max {hi} KiB, end {after[-1]} KiB, "
      f"max growth {drift:+.1f} % (bound +10 %)")
sys.exit(0 if hi <= base * 1.10 and lo >= base * 0.90 else 1)
PY
}

status=0

# http_hello under wrk
port=$(free_port)
target/release/examples/http_hello "$port" >"$out/http_hello.log" 2>&1 &
server=$!; pids+=("$server")
sleep 1
sample "$server" "$secs" "$out/http_hello.rss" &
sampler=$!; pids+=("$sampler")
wrk -t2 -c64 -d"${secs}s" "http://127.0.0.1:$port/" > "$out/wrk.txt"
echo "soak http_hello: wrk -t2 -c64 for ${secs} s: $(grep -E 'requests in' "$out/wrk.txt" | xargs); $(grep 'Requests/sec' "$out/wrk.txt" | xargs)"
wait "$sampler" || true
if grep -q "Non-2xx\|Socket errors" "$out/wrk.txt"; then echo "soak http_hello: wrk saw errors"; status=1; fi
verdict http_hello "$out/http_hello.rss" || status=1
kill "$server" 2>/dev/null || true

# mini_redis under redis-benchmark (SET/GET, repeated until the time is up)
port=$(free_port)
target/release/examples/mini_redis "$port" >"$out/mini_redis.log" 2>&1 &
server=$!; pids+=("$server")
sleep 1
sample "$server" "$secs" "$out/mini_redis.rss" &
sampler=$!; pids+=("$sampler")
end=$(( $(date +%s) + secs ))
rounds=0
while [ "$(date +%s)" -lt "$end" ]; do
  redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -n 200000 -c 50 -r 100000 -q >>"$out/redis-benchmark.txt" 2>&1 || { echo "soak mini_redis: redis-benchmark failed"; status=1; break; }
  rounds=$((rounds + 1))
done
wait "$sampler" || true
echo "soak mini_redis: $rounds rounds of 200,000 SET + 200,000 GET, 50 clients; mean per round: $(tr '\r' '\n' < "$out/redis-benchmark.txt" | awk '/requests per second/ {s[$1] += $2; n[$1]++} END {for (k in s) printf "%s %.0f/s ", k, s[k] / n[k]}')"
verdict mini_redis "$out/mini_redis.rss" || status=1
kill "$server" 2>/dev/null || true

exit "$status"
