#!/usr/bin/env bash
# The loom models of weft's lock-free protocols (see RELIABILITY.md).
#
#   scripts/loom.sh               every model, LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-3}
#   scripts/loom.sh --ci          every model, bounded for CI (LOOM_MAX_PREEMPTIONS=2)
#   scripts/loom.sh --mutants [NAME...]  apply each scripts/mutants/NAME.patch (all by
#                                 default) in turn, run its model, and fail unless loom fails
#                                 it (the model can catch the bug)
#
# Builds go to target/loom (RUSTFLAGS differ from a normal build's, so they get their own
# directory rather than invalidating target/), with the `loom` profile of Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg weft_loom ${RUSTFLAGS:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_LOOM:-target/loom}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
# Spin-then-yield loops (Backoff, the oneshot's wait for a busy side) are branches to loom:
# deeper preemption bounds need more than its default of 1,000 per execution.
export LOOM_MAX_BRANCHES="${LOOM_MAX_BRANCHES:-20000}"
mode="${1:-all}"
[ $# -gt 0 ] && shift

# name → the cargo test arguments that run its model
declare -A MODEL=(
  [biased]="-p weft-channel --lib loom_models"
  [oneshot]="-p weft-channel --test loom_oneshot"
  [mpsc]="-p weft-channel --test loom_mpsc"
  [sync]="-p weft-channel --test loom_sync"
  [executor]="-p weft-executor --lib loom_models"
)
declare -A MUTANT=(
  [biased_no_light]="-p weft-channel --lib loom_models::owner_updates"
  [fence_no_heavy_fence]="-p weft-channel --lib loom_models::asym_fence"
  [oneshot_send_relaxed]="-p weft-channel --test loom_oneshot"
  [ring_publish_relaxed]="-p weft-channel --test loom_mpsc bounded"
  [list_publish_relaxed]="-p weft-channel --test loom_mpsc unbounded"
  [notify_drop_forgets]="-p weft-channel --test loom_sync notify"
  [semaphore_drop_keeps]="-p weft-channel --test loom_sync semaphore"
  [watch_no_notify]="-p weft-channel --test loom_sync watch"
  [watch_arm_relaxed]="-p weft-channel --test loom_sync watch"
  [watch_disarm_no_release]="-p weft-channel --test loom_sync watch"
  [watch_keeps_first_waker]="-p weft-channel --test loom_sync watch"
  [broadcast_no_wake]="-p weft-channel --test loom_sync broadcast"
  [executor_bank_not_returned]="-p weft-executor --lib loom_models"
)

case "$mode" in
  --ci) export LOOM_MAX_PREEMPTIONS=2 ;&
  all|--all)
    start=$(date +%s)
    for m in biased oneshot mpsc sync executor; do
      # shellcheck disable=SC2086
      cargo test --profile loom ${MODEL[$m]} -- --nocapture --test-threads 1 2>&1 | tee "target/loom-$m.log" | grep -oE "loom model .*|^test result.*|panicked.*|FAILED.*"
      [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "loom: model $m FAILED (target/loom-$m.log)" >&2; exit 1; }
    done
    cat target/loom-{biased,oneshot,mpsc,sync,executor}.log | grep -oE "loom model .*" | sort > target/loom-models.txt
    echo "loom: $(wc -l < target/loom-models.txt) models, $(awk '{s+=$(NF-1)} END {print s}' target/loom-models.txt) executions explored (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS), $(( $(date +%s) - start )) s"
    ;;
  --mutants)
    # Each patch is reverted after its run, and on exit if the run was interrupted.
    applied=""
    trap '[ -n "$applied" ] && git apply -R "$applied"' EXIT
    killed=0; survived=()
    names=("$@"); [ ${#names[@]} -gt 0 ] || names=($(printf '%s\n' "${!MUTANT[@]}" | sort))
    for name in "${names[@]}"; do
      patch="scripts/mutants/$name.patch"
      git apply "$patch"
      applied="$patch"
      # shellcheck disable=SC2086
      log="target/mutant-$name.log"
      # shellcheck disable=SC2086
      if cargo test --profile loom ${MUTANT[$name]} >"$log" 2>&1; then
        survived+=("$name")
        echo "mutant $name: SURVIVED (the model did not catch it)"
      elif grep -q "could not compile" "$log"; then
        survived+=("$name")
        echo "mutant $name: DOES NOT BUILD (fix the patch)"
      else
        killed=$((killed + 1))
        why=$(grep -m1 -E "Causality violation|deadlock|Allocation leaked|lost|missed|panicked at channel|panicked at executor" "$log" || true)
        echo "mutant $name: killed: ${why:-model failed}"
      fi
      git apply -R "$patch"
      applied=""
    done
    echo "mutants: $killed killed, ${#survived[@]} survived"
    [ ${#survived[@]} -eq 0 ]
    ;;
  *) echo "usage: $0 [--ci|--mutants]" >&2; exit 2 ;;
esac
