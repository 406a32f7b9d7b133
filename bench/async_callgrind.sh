#!/usr/bin/env bash
# User-space instructions per NOP under callgrind, awaited through urine.async against urine's
# own reserve loop on the same ring type and setup, as a MARGINAL cost: each case runs with two
# operation counts and the difference of the totals is divided by the difference of the counts,
# so setup, teardown and process start cancel out.
#
#   bench/async_callgrind.sh [--bench PATH] [--inflight "1 64"] [--ops "12800 25600"]
set -euo pipefail

bench=build/bench/bench/urine-async-bench
inflight="1 64"
ops="12800 25600"
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench=$2; shift 2 ;;
    --inflight) inflight=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    *) sed -n '2,7p' "$0" >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "async_callgrind.sh: $bench not built (cmake --build build/bench --target urine-async-bench)" >&2; exit 1; }
read -r n1 n2 <<<"$ops"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read clang 19's DWARF 5; a copy without debug sections runs the same code.
objcopy --strip-debug "$bench" "$work/bench"

total() {  # total Ir of one run: impl inflight ops
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/bench" --impl="$1" --inflight="$2" --ops="$3" > /dev/null 2>&1
  callgrind_annotate "$work/out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !seen { gsub(",", "", $1); print $1; seen = 1 }'
}

printf '%-9s %8s %12s %12s\n' impl inflight "Ir/NOP" "vs reserve"
for k in $inflight; do
  declare -A per
  for impl in reserve await; do
    a=$(total "$impl" "$k" "$n1")
    b=$(total "$impl" "$k" "$n2")
    per[$impl]=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
  done
  for impl in reserve await; do
    printf '%-9s %8s %12s %12s\n' "$impl" "$k" "${per[$impl]}" \
      "$(awk -v x="${per[$impl]}" -v r="${per[reserve]}" 'BEGIN { printf "%+.1f (%.2fx)", x - r, x / r }')"
  done
  unset per
done
