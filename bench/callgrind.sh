#!/usr/bin/env bash
# User-space instructions per operation under callgrind, as a MARGINAL cost: each case runs twice
# with different operation counts and the difference of the two totals is divided by the
# difference of the counts, so setup, teardown and process start cancel out.
#
#   bench/callgrind.sh [options]
#     --bench PATH        the urine-bench binary (default: build/bench/bench/urine-bench)
#     --scenario S        nop (default), read or echo (echo: the server process only; the load
#                         client is exec'd and callgrind does not follow it)
#     --points "1 32 128" batch sizes (nop), queue depths (read) or message sizes (echo: "64 4096")
#     --fixed F           read only: none, files, buffers or both (default: none)
#     --cases "impl:variant ..."  default: every case of the scenario
#     --ops "N1 N2"       the two operation counts (default: 12800 25600; multiples of every point)
#     --csv               print CSV instead of a table
set -euo pipefail

bench=build/bench/bench/urine-bench
scenario=nop
points="1 32 128"
fixed=none
cases=""
ops="12800 25600"
csv=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --points) points=$2; shift 2 ;;
    --fixed) fixed=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --csv) csv=1; shift ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "callgrind.sh: $bench not built (cmake --build build/bench --target urine-bench)" >&2; exit 1; }
read -r n1 n2 <<<"$ops"

if [ -z "$cases" ]; then
  if [ "$scenario" = nop ]; then
    cases="raw:regfd liburing:regfd urine:regfd urine:push+regfd raw:plain liburing:plain urine:plain
           urine:sqe128+regfd urine:cqe32+regfd urine:sqpoll+regfd urine:defer+regfd urine:seq_cst+regfd"
  elif [ "$scenario" = echo ]; then
    cases="raw:regfd liburing:regfd urine:regfd epoll:default"
  else
    cases="raw:regfd liburing:regfd urine:regfd"
  fi
fi
[ "$scenario" = echo ] && [ "$points" = "1 32 128" ] && points="64 4096"

# The read file lives in the build directory, where the wall-clock runs of bench/README.md make it
# (mktemp's directory may be tmpfs, which io_uring reads through worker threads).
read_file="$(cd "$(dirname "$bench")/.." && pwd)/urine-bench-read.dat"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read clang 19's DWARF 5; a copy without debug sections runs the same code.
objcopy --strip-debug "$bench" "$work/urine-bench"
bench=$work/urine-bench

# Total Ir of one run of one case.
instructions() {  # impl variant point ops
  local out="$work/cg.out"
  local point_opt=--batch=$3
  [ "$scenario" = read ] && point_opt="--depth=$3 --fixed=$fixed --file=$read_file"
  [ "$scenario" = echo ] && point_opt="--msg-size=$3 --connections=16"
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" --scenario="$scenario" --impl="$1" \
    --variant="$2" $point_opt --ops="$4" --runs=1 --format=csv >"$work/log" 2>&1 ||
    { echo "callgrind.sh: $1 $2 at $3 failed:" >&2; tail -5 "$work/log" >&2; exit 1; }
  sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$out" | head -n1
}

# The read file is created by the first run that needs it; create it now, uninstrumented, so that
# no counted run includes writing 64 MiB.
if [ "$scenario" = read ]; then
  "$bench" --scenario=read --impl=raw --depth=1 --ops=1 --runs=1 --file="$read_file" >/dev/null 2>&1 || true
fi

declare -A per_op
for point in $points; do
  for c in $cases; do
    impl=${c%%:*} variant=${c#*:}
    a=$(instructions "$impl" "$variant" "$point" "$n1")
    b=$(instructions "$impl" "$variant" "$point" "$n2")
    per_op[$c,$point]=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')
  done
done

# The peer of a urine case: the liburing/raw case with the same ring-fd mode.
peer_variant() { case "$1" in plain) echo plain ;; *) echo regfd ;; esac; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else printf "-" }'; }

label=B
[ "$scenario" = read ] && label="QD"
[ "$scenario" = echo ] && label="msg"
if [ "$csv" = 1 ]; then
  echo "scenario,impl,variant,point,instructions_per_op,vs_raw,vs_liburing"
else
  printf 'user-space instructions per %s (marginal, ops %s -> %s)%s\n' "$scenario" "$n1" "$n2" \
    "$([ "$scenario" = read ] && echo ", fixed=$fixed")"
  printf '%-9s %-15s' impl variant
  other="x raw"
  [ "$scenario" = echo ] && other="x epoll"
  for point in $points; do printf ' %10s %7s %7s' "$label=$point" "$other" "x lib"; done
  printf '\n'
fi
for c in $cases; do
  impl=${c%%:*} variant=${c#*:}
  [ "$csv" = 1 ] || printf '%-9s %-15s' "$impl" "$variant"
  for point in $points; do
    v=${per_op[$c,$point]}
    pv=$(peer_variant "$variant")
    vr=- vl=-
    if [ "$impl" = urine ] && [ "$scenario" = echo ]; then
      vr=$(ratio "$v" "${per_op[epoll:default,$point]:-0}")
      vl=$(ratio "$v" "${per_op[liburing:regfd,$point]:-0}")
    elif [ "$impl" = urine ]; then
      vr=$(ratio "$v" "${per_op[raw:$pv,$point]:-0}")
      vl=$(ratio "$v" "${per_op[liburing:$pv,$point]:-0}")
    fi
    if [ "$csv" = 1 ]; then
      echo "$scenario,$impl,$variant,$point,$v,$vr,$vl"
    else
      printf ' %10s %7s %7s' "$v" "$vr" "$vl"
    fi
  done
  [ "$csv" = 1 ] || printf '\n'
done
