#!/usr/bin/env bash
# The hot path's instruction budget, as a test: NOPs at B = 32 per submit under callgrind, urine's
# reserve() loop and push() loop against the hand-written raw loop (both with a registered ring fd).
# Instruction counts are exact and repeatable, so this is no timing assertion: it fails when a
# change adds work to the hot path.
#
#   bench/instruction_guard.sh BENCH_BINARY [reserve_limit push_limit]   (default 1.05 1.25)
set -euo pipefail
bench=${1:?usage: instruction_guard.sh BENCH_BINARY [reserve_limit push_limit]}
reserve_limit=${2:-1.05}
push_limit=${3:-1.25}
here=$(cd "$(dirname "$0")" && pwd)

csv=$("$here/callgrind.sh" --bench "$bench" --scenario nop --points 32 \
  --cases "raw:regfd urine:regfd urine:push+regfd" --csv)
echo "$csv"
echo "$csv" | awk -F, -v rl="$reserve_limit" -v pl="$push_limit" '
  $2 == "raw" { raw = $5 }
  $2 == "urine" && $3 == "regfd" { reserve = $5 }
  $2 == "urine" && $3 == "push+regfd" { push = $5 }
  END {
    if (raw <= 0 || reserve <= 0 || push <= 0) { print "instruction_guard: a case is missing"; exit 1 }
    r = reserve / raw; p = push / raw
    printf "instructions per NOP at B = 32: raw %.1f, urine reserve %.1f (%.3f x, limit %s), push %.1f (%.3f x, limit %s)\n", raw, reserve, r, rl, push, p, pl
    if (r > rl || p > pl) { print "instruction_guard: the hot path costs more than its budget"; exit 1 }
  }'
