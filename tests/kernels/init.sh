#!/bin/busybox sh
# PID 1 of the test guest (packed into its initramfs by vm.sh). Loads the drivers listed in
# /modules.load, mounts the host's root read-only (9p) with the run's directory writable over it
# at the same path, mounts the scratch namespace's ext4 at /tmp, runs the command vm.sh named on
# the kernel command line in a chroot of the host's root, and powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ip link set lo up  # the network tests talk over loopback

while read -r module parameters; do
  insmod "/lib/modules/$module" $parameters || echo "init: cannot load $module"
done </modules.load

for word in $(cat /proc/cmdline); do
  case $word in
    urine_run=*) run_dir=${word#*=} ;;
    urine_command=*) command=${word#*=} ;;
  esac
done

finish() {
  echo "=== guest exit $1"
  sync
  poweroff -f
}

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 host /host || finish 125
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 run "/host$run_dir" || finish 125
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts
mount -t tmpfs shm /host/dev/shm
mount -t tmpfs run /host/run

# The NVMe controller probes asynchronously, and newer kernels scan namespaces in parallel, so
# their names need not follow their ids: find them by nsid (1: scratch ext4, 2: raw device for the
# device tests), giving them up to 20 s to appear.
scratch=
device=
for _ in $(seq 40); do
  for namespace in /sys/block/nvme*n*; do
    case $(cat "$namespace/nsid" 2>/dev/null) in
      1) scratch=/dev/${namespace##*/} ;;
      2) device=/dev/${namespace##*/} ;;
    esac
  done
  [ -n "$scratch" ] && [ -n "$device" ] && break
  sleep 0.5
done
mount -t ext4 "$scratch" /host/tmp || finish 125
chmod 1777 /host/tmp
export URINE_TEST_NVME=$device

echo "=== guest kernel $(uname -r)"
chroot /host /bin/sh -c "cd /tmp && exec /bin/sh '$command'"
status=$?
umount /host/tmp
finish "$status"
