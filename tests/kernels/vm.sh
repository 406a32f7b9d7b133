#!/usr/bin/env bash
# Boots an unpacked kernel (from fetch.sh) under qemu and runs a script in it, in a chroot of this
# machine's root; prints the guest's console and exits with the script's status (124: the guest
# did not finish within the time limit).
#   vm.sh KERNEL_DIR RUN_DIR SECONDS SCRIPT
# The guest sees / read-only, RUN_DIR (which must hold SCRIPT) writable at the same path, and /tmp
# as a fresh ext4 on NVMe namespace 1. Namespace 2 is a raw 256 MiB scratch disk for the device
# tests, named to them by URINE_TEST_NVME; the controller has a poll queue, so IORING_SETUP_IOPOLL
# works on both.
# TCG, not KVM: the machines this runs on may offer /dev/kvm without nested virtualisation, where a
# KVM guest hangs at boot.
set -euo pipefail

kernel_dir=${1:?usage: vm.sh KERNEL_DIR RUN_DIR SECONDS SCRIPT}
run_dir=$(realpath "${2:?}")
seconds=${3:?}
script=$(realpath "${4:?}")
here=$(dirname "$(realpath "$0")")

release=$(ls "$kernel_dir/lib/modules")
modules=$kernel_dir/lib/modules/$release
work=$(mktemp -d "${TMPDIR:-/var/tmp}/urine-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The initramfs: busybox, the init script, and the drivers for virtio 9p, NVMe and ext4 with
# their dependencies in load order, uncompressed (busybox's insmod may not read .ko.xz).
root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,host,lib/modules}
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
: >"$root/modules.load"
for driver in crc32c_generic virtio_pci 9pnet_virtio 9p nvme ext4; do
  /sbin/modprobe -d "$kernel_dir" -S "$release" --show-depends "$driver" |
    awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
  name=$(basename "${path%.xz}")
  case $path in
    *.xz) xz -dc "$path" >"$root/lib/modules/$name" ;;
    *) cp "$path" "$root/lib/modules/$name" ;;
  esac
  parameters=
  [ "$name" = nvme.ko ] && parameters=poll_queues=1
  echo "$name $parameters" >>"$root/modules.load"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

truncate -s 4G "$work/scratch.img"
mkfs.ext4 -q -F "$work/scratch.img"
truncate -s 256M "$work/device.img"

console=$work/console
status=0
timeout --foreground -k 10 "$seconds" qemu-system-x86_64 \
  -accel tcg -cpu max -smp 2 -m 4G -nographic -no-reboot -net none \
  -kernel "$kernel_dir/boot/vmlinuz-$release" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 nvme.poll_queues=1 urine_run=$run_dir urine_command=$script" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$run_dir",mount_tag=run,security_model=none,multidevs=remap \
  -device nvme,id=nvme0,serial=urine-scratch \
  -drive file="$work/scratch.img",if=none,id=scratch,format=raw \
  -device nvme-ns,drive=scratch,bus=nvme0,nsid=1 \
  -drive file="$work/device.img",if=none,id=device,format=raw \
  -device nvme-ns,drive=device,bus=nvme0,nsid=2 \
  </dev/null 2>&1 | sed -u "s/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g" | tee "$console" || status=$?
[ "$status" -eq 124 ] && exit 124
exit_line=$(grep -a '^=== guest exit ' "$console" | tail -1)
[ -n "$exit_line" ] || exit 125
exit "${exit_line##* }"
