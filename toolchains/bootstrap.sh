#!/usr/bin/env bash
# Installs everything urine needs to build, test and benchmark on Debian 12 (bookworm), from
# Debian's own archive only. Idempotent: when every tool is present it only checks and returns.
#
#   toolchains/bootstrap.sh           install what is missing (needs root, or sudo)
#   toolchains/bootstrap.sh --check   report what is missing, change nothing (exit 1 if anything is)
set -euo pipefail

readonly packages=(
  clang-19 clang-tools-19 clang-tidy-19 clang-format-19 clangd-19 libclang-rt-19-dev lld-19
  ninja-build libgtest-dev libgmock-dev libbenchmark-dev liburing-dev
  valgrind git pkg-config python3 libasio-dev
)
readonly min_cmake=3.28

log() { printf 'bootstrap: %s\n' "$*" >&2; }

cmake_ok() {
  command -v cmake >/dev/null || return 1
  local have
  have=$(cmake --version | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
  [ "$(printf '%s\n%s\n' "$min_cmake" "$have" | sort -V | head -n1)" = "$min_cmake" ]
}

missing_packages() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# bookworm's own cmake is 3.25, too old for C++20 modules; 3.28+ lives in bookworm-backports.
ensure_backports() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 1
  fi
  log "adding the bookworm-backports suite to apt's sources"
  as_root tee /etc/apt/sources.list.d/urine-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  return 0
}

main() {
  local check_only=0
  [ "${1:-}" = "--check" ] && check_only=1

  local missing
  missing=$(missing_packages)
  if [ -z "$missing" ] && cmake_ok; then
    log "toolchain complete ($(cmake --version | head -n1), $(clang++-19 --version | head -n1))"
    return 0
  fi
  if [ "$check_only" -eq 1 ]; then
    log "missing: ${missing//$'\n'/ }$(cmake_ok || printf ' cmake>=%s' "$min_cmake")"
    return 1
  fi

  local updated=0
  if ensure_backports || ! cmake_ok; then
    as_root apt-get update -qq
    updated=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! cmake_ok; then
    log "installing cmake from bookworm-backports"
    as_root apt-get install -y -qq -t bookworm-backports cmake cmake-data >/dev/null
  fi
  if [ -n "$missing" ]; then
    [ "$updated" -eq 1 ] || as_root apt-get update -qq
    log "installing: ${missing//$'\n'/ }"
    # shellcheck disable=SC2086
    as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  cmake_ok || { log "cmake >= $min_cmake still missing"; return 1; }
  log "toolchain ready ($(cmake --version | head -n1), $(clang++-19 --version | head -n1))"
}

main "$@"
