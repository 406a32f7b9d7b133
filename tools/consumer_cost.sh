#!/usr/bin/env bash
# What a consumer pays to build against installed urine: a one-file program importing urine one
# way, built cold (fresh build tree) with -j2, its module units counted and its CPU and wall time
# measured; then the rebuild after a one-line change of the program. Prints a markdown table.
#
#   tools/consumer_cost.sh <install prefix> [work dir]
# e.g. cmake --workflow --preset install && cmake --install build/install --prefix /tmp/urine &&
#      tools/consumer_cost.sh /tmp/urine
set -euo pipefail

prefix=$(realpath "$1")
work=${2:-$(mktemp -d)}
cxx=${CXX:-clang++-19}
modules=(urine "urine.ring urine.ops" urine.abi urine.ring urine.ops urine.registration)
[ -e "$prefix/include/urine/async" ] || [ -e "$prefix/include/urine/urine.async.cppm" ] && modules+=(urine.async)

# seconds of CPU (user + system, children included) and wall for a command, as "cpu wall"
measure() {
  local TIMEFORMAT='%U %S %R' out
  out=$( { time "$@" >/dev/null 2>&1; } 2>&1)
  awk '{ printf "%.1f %.1f\n", $1 + $2, $3 }' <<<"$out"
}

echo "| imports | module units compiled | cold build CPU (s) | cold build wall (s, -j2) | rebuild after a one-line change, CPU (s) |"
echo "|---|---|---|---|---|"
for imports in "${modules[@]}"; do
  dir=$work/${imports// /+}
  rm -rf "$dir" && mkdir -p "$dir"
  cat >"$dir/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.28)
project(cost LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 23)
find_package(urine CONFIG REQUIRED)
add_executable(cost main.cpp)
target_link_libraries(cost PRIVATE urine::urine)
CMAKE
  { for m in $imports; do echo "import $m;"; done; echo 'int main() { return 0; }'; } >"$dir/main.cpp"
  cmake -S "$dir" -B "$dir/build" -G Ninja -D CMAKE_BUILD_TYPE=Release -D CMAKE_CXX_COMPILER="$cxx" \
        -D CMAKE_PREFIX_PATH="$prefix" >/dev/null
  read -r cpu wall < <(measure cmake --build "$dir/build" -j2)
  units=$(awk '$4 ~ /\.bmi$/ && !seen[$4]++' "$dir/build/.ninja_log" | wc -l)
  echo '// one line changed' >>"$dir/main.cpp"
  read -r rebuild _ < <(measure cmake --build "$dir/build" -j2)
  echo "| \`import ${imports// /; import };\` | $units | $cpu | $wall | $rebuild |"
done
