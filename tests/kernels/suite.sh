#!/usr/bin/env bash
# Runs every GoogleTest binary of a build against the running kernel, each test bounded, and
# records what happened to each test; run by run.sh inside each guest and on the machine itself.
#   suite.sh BUILD_DIR OUT_DIR [SECONDS_PER_TEST]
# OUT_DIR receives: kernel (uname -r), probe.txt (urine-probe's table), and per binary NAME.log
# (its whole output) and NAME.results, one line per test: "pass|fail|skip|hang|crash<TAB>test
# [<TAB>skip reason]". A test that prints nothing for SECONDS_PER_TEST (default 60) is a hang:
# the binary is killed and restarted without the tests already run, as after a crash.
set -uo pipefail

build=$(realpath "${1:?usage: suite.sh BUILD_DIR OUT_DIR [SECONDS_PER_TEST]}")
out=${2:?}
bound=${3:-60}
mkdir -p "$out"
export URINE_TEST_DIR=${URINE_TEST_DIR:-/tmp}
cd "$URINE_TEST_DIR" || exit 1

uname -r >"$out/kernel"
"$build/examples/urine-probe" >"$out/probe.txt" 2>&1

# Runs BINARY with ARGS, output to LOG, killing it once LOG stops growing for $bound seconds.
# Returns the binary's status, or 124 for a kill by the watchdog.
run_watched() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  local pid=$! size=-1 idle=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local now
    now=$(stat -c %s "$log")
    if [ "$now" != "$size" ]; then
      size=$now
      idle=0
    elif ((++idle >= bound)); then
      kill -KILL "$pid"
      wait "$pid"
      return 124
    fi
  done
  wait "$pid"
}

# Test outcomes from one run's output, in results format. A test started but never finished is
# printed as "unfinished<TAB>name".
outcomes() {
  awk '
    /^\[ RUN      \] / { current = $4; reason = ""; in_skip = 0; next }
    /: Skipped$/ { in_skip = 1; next }
    in_skip && !/^\[/ { if (reason == "" && $0 != "") reason = $0; next }
    /^\[       OK \] .* \([0-9]+ ms\)$/ { print "pass\t" current; current = ""; next }
    /^\[  SKIPPED \] .* \([0-9]+ ms\)$/ { print "skip\t" current "\t" reason; current = ""; in_skip = 0; next }
    /^\[  FAILED  \] .* \([0-9]+ ms\)$/ { print "fail\t" current; current = ""; next }
    END { if (current != "") print "unfinished\t" current }
  ' "$1"
}

for binary in $(find "$build/tests" -type f -perm -u+x -name 'urine_*tests' | sort); do
  name=$(basename "$binary")
  : >"$out/$name.log"
  : >"$out/$name.results"
  exclude=
  for attempt in $(seq 1000); do
    part=$out/$name.part
    filter=()
    [ -n "$exclude" ] && filter=("--gtest_filter=-$exclude")
    run_watched "$part" "$binary" "${filter[@]}"
    status=$?
    cat "$part" >>"$out/$name.log"
    outcomes "$part" >"$part.results"
    rm -f "$part"
    unfinished=$(awk -F'\t' '$1 == "unfinished" { print $2 }' "$part.results")
    awk -F'\t' '$1 != "unfinished"' "$part.results" >>"$out/$name.results"
    if [ -n "$unfinished" ]; then
      kind=crash
      [ "$status" -eq 124 ] && kind=hang
      printf '%s\t%s\n' "$kind" "$unfinished" >>"$out/$name.results"
      echo "##### $name: $unfinished: $kind (status $status), restarting without it" >>"$out/$name.log"
    elif [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
      printf 'crash\t%s\n' "$name (outside any test, status $status)" >>"$out/$name.results"
    fi
    rm -f "$part.results"
    [ -n "$unfinished" ] || break
    exclude=$(cut -f2 "$out/$name.results" | paste -sd: -)
  done
  echo "##### $name: $(cut -f1 "$out/$name.results" | sort | uniq -c | awk '{ printf "%s %s ", $2, $1 }')"
done
