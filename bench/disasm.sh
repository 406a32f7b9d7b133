#!/usr/bin/env bash
# Prints the measured NOP loop of urine-bench for each urine policy set, as the compiler emitted
# it: the code between the two clock readings of urine_nop<ring<...>> (reserve and the
# reservation's pushes — or, for the `push` variant, ring.push — then submit_and_wait and
# for_each_cqe, inlined). What to look for: no load or test of anything describing the ring's
# configuration — SQE size, CQE size, fd mode and memory order are immediates, strides and
# instruction choices.
#
#   bench/disasm.sh [urine-bench] [policy-filter]
#     e.g. bench/disasm.sh build/bench/bench/urine-bench "sqe64, cqe16, interrupt, acquire_release, default_task_run, registered_ring_fd"
set -euo pipefail
bench=${1:-build/bench/bench/urine-bench}
filter=${2:-}
objdump=$(command -v llvm-objdump-19 || command -v objdump)

"$objdump" -d --no-show-raw-insn -C "$bench" | awk -v filter="$filter" '
  # A function header: "0000... <name>:".
  /^[0-9a-f]+ <.*>:$/ {
    name = $0
    sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
    gsub(/@urine\.ring/, "", name); gsub(/urine::/, "", name)
    inside = (name ~ /urine_nop</) && (filter == "" || index(name, filter) > 0)
    clocks = 0
    if (inside) {
      sub(/^.*urine_nop</, "", name); sub(/>\(bench::params const&\)$/, "", name)
      sub(/, true$/, "  [reserve + push]", name); sub(/, false$/, "  [ring.push]", name)
      count = 0
      printf "\n== %s\n", name
    }
    next
  }
  inside && /steady_clock::now/ { clocks++; if (clocks == 2) { printf "   (%d instructions between the clock readings)\n", count; inside = 0 }; next }
  inside && clocks == 1 && NF > 1 {
    line = $0
    sub(/ <.*$/, "", line); gsub(/[ \t]+/, " ", line); sub(/^ /, "", line)
    print "   " line
    count++
  }'
