#!/usr/bin/env bash
# Integration tests under valgrind memcheck: invalid reads/writes, uses of freed memory,
# uninitialised values and definite leaks fail the run (--error-exitcode). A representative
# subset that runs in minutes here: the task machinery (join_set, task_group, wait,
# current_task), fault injection (faults), and the channels' mpsc/oneshot/sync suites.
#   scripts/memcheck.sh [TEST ...]     (cargo test target names of the weft package)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "memcheck: valgrind is missing (apt-get install -y valgrind)" >&2; exit 1; }
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(join_set task_group wait current_task faults)
channel_tests=(mpsc_close mpsc_wakers oneshot semaphore broadcast watch)
out=target/memcheck
mkdir -p "$out"

# binaries: the test executables cargo builds for the given targets
bins() { # args: cargo test arguments
  cargo test --no-run --message-format=json "$@" 2>/dev/null |
    python3 -c 'import sys, json
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])'
}

args=(); for t in "${tests[@]}"; do args+=(--test "$t"); done
cargo test --no-run "${args[@]}" >/dev/null
cargo test --no-run -p weft-channel $(for t in "${channel_tests[@]}"; do printf -- '--test %s ' "$t"; done) >/dev/null
status=0; start=$(date +%s)
while read -r name exe; do
  log="$out/$name.log"
  t0=$(date +%s)
  if valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
       --error-exitcode=99 --quiet --log-file="$log" "$exe" --test-threads=1 >"$out/$name.out" 2>&1; then
    echo "memcheck $name: clean ($(grep -c '^test .* ok$' "$out/$name.out") tests, $(( $(date +%s) - t0 )) s)"
  else
    echo "memcheck $name: FAILED (see $log)"; status=1
  fi
done < <(bins "${args[@]}"; bins -p weft-channel $(for t in "${channel_tests[@]}"; do printf -- '--test %s ' "$t"; done))
echo "memcheck: done in $(( $(date +%s) - start )) s"
exit "$status"
