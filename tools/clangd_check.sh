#!/usr/bin/env bash
# clangd-19 on an example, the way docs/editors.md sets it up: the build tree's
# compile_commands.json, the module interfaces already built, clangd started from the build
# directory (CMake's module maps name BMIs relative to it). Fails on any diagnostic of the file.
#
#   tools/clangd_check.sh <build dir> [source, default examples/first_program.cpp]
set -euo pipefail
build=$(realpath "$1")
source=$(realpath "${2:-$(dirname "$0")/../examples/first_program.cpp}")
clangd=${CLANGD:-clangd-19}

out=$(cd "$build" && timeout 300 "$clangd" --compile-commands-dir=. --check="$source" 2>&1) || true
# Diagnostics of the checked file are the lines "E[time] [code] Line N: message"; refactoring
# tweaks that do not apply (also printed as E[...]) are not problems of the code.
diagnostics=$(grep -E '^E\[[^]]*\] \[[a-z_]+\] Line [0-9]+:' <<<"$out" || true)
if [ -n "$diagnostics" ] || ! grep -q 'All checks completed' <<<"$out"; then
  printf '%s\n' "${diagnostics:-clangd did not finish}"
  exit 1
fi
echo "clangd: no diagnostics in ${source##*/}"
