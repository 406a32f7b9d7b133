#!/usr/bin/env bash
# The kernel matrix: builds the dev configuration, runs every test binary on each kernel (Debian's
# under qemu, and the machine's own), and writes the table to docs/kernels.md.
#   tests/kernels/run.sh [-B BUILD_DIR] [--no-build] [KERNEL...]
# Exits 1 when a test of the kernels run failed, hung or crashed, or a kernel left no results.
# KERNEL: 6.1 (Debian 12), 6.12 (Debian 12 backports), 5.10 (Debian 11), host (the running kernel,
# without a VM); all four by default. BUILD_DIR defaults to build/kernels. Results stay in
# BUILD_DIR/kernels/KERNEL; the table covers every kernel with results there, so one kernel can be
# re-run alone; --no-build tests the build as it is. Needs root (qemu exports / over 9p); installs
# qemu-system-x86, busybox-static, cpio and kmod from Debian when they are missing.
# Limits: URINE_TEST_SECONDS of silence before a test counts as hung (default 60),
# URINE_VM_SECONDS per guest (default 1800).
set -euo pipefail

here=$(dirname "$(realpath "$0")")
source_dir=$(realpath "$here/../..")
build=$source_dir/build/kernels
rebuild=yes
while [ $# -gt 0 ]; do
  case $1 in
    -B) build=$(realpath -m "$2"); shift 2 ;;
    --no-build) rebuild=no; shift ;;
    *) break ;;
  esac
done
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12 5.10 host)
test_seconds=${URINE_TEST_SECONDS:-60}
vm_seconds=${URINE_VM_SECONDS:-1800}

# The guest's tools, from Debian; installed here when missing (as root, like the toolchain).
missing=()
for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio depmod:kmod; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: ${missing[*]} missing; as root: apt-get install ${missing[*]}" >&2
    exit 2
  fi
  echo "run.sh: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${missing[@]}" >/dev/null; }
fi

if [ $rebuild = yes ]; then
  cmake --preset dev -B "$build" >/dev/null
  cmake --build "$build" -j2
fi

for kernel in "${kernels[@]}"; do
  leg=$build/kernels/$kernel
  rm -rf "$leg"
  mkdir -p "$leg"
  start=$(date +%s)
  if [ "$kernel" = host ]; then
    "$here/suite.sh" "$build" "$leg/results" "$test_seconds" >"$leg/console" 2>&1 || status=$?
  else
    kernel_dir=$("$here/fetch.sh" "$kernel")
    printf '#!/bin/sh\nexec %q %q %q %q\n' \
      "$here/suite.sh" "$build" "$leg/results" "$test_seconds" >"$leg/guest.sh"
    "$here/vm.sh" "$kernel_dir" "$leg" "$vm_seconds" "$leg/guest.sh" >"$leg/console" 2>&1 || status=$?
  fi
  echo "$(($(date +%s) - start))" >"$leg/seconds"
  echo "${status:-0}" >"$leg/status"
  echo "run.sh: $kernel done in $(cat "$leg/seconds") s (status ${status:-0})"
  grep -a '^##### ' "$leg/console" || true
  unset status
done

"$here/report.sh" "$build/kernels" >"$source_dir/docs/kernels.md"
echo "run.sh: wrote docs/kernels.md"

verdict=0
for kernel in "${kernels[@]}"; do
  results=$build/kernels/$kernel/results
  if ! compgen -G "$results/*.results" >/dev/null; then
    echo "run.sh: $kernel left no results (see $build/kernels/$kernel/console)"
    verdict=1
    continue
  fi
  if grep -H -E '^(fail|hang|crash)' "$results"/*.results; then verdict=1; fi
done
[ $verdict = 0 ] && echo "run.sh: every test passed or skipped on ${kernels[*]}"
exit $verdict
