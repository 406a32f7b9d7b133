#!/usr/bin/env bash
# Downloads one of Debian's kernels and unpacks it (never installs it): prints the directory that
# holds boot/vmlinuz-* and lib/modules/*/ with a modules.dep.
#   fetch.sh 6.1|6.12|5.10
# Each kernel comes from the Debian suite that ships it, through an apt configuration private to
# the cache (its own sources, lists and archives), so the machine's apt setup is neither needed
# nor touched. Cache: $URINE_KERNEL_CACHE (default /var/tmp/urine-kernels).
set -euo pipefail

version=${1:?usage: fetch.sh 6.1|6.12|5.10}
cache=${URINE_KERNEL_CACHE:-/var/tmp/urine-kernels}
mirror=${URINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

case $version in
  6.1) suite=bookworm ;;
  6.12) suite=bookworm-backports ;;
  5.10) suite=bullseye ;;
  *) echo "fetch.sh: no Debian suite known for kernel '$version' (6.1, 6.12 or 5.10)" >&2; exit 2 ;;
esac

unpacked=$cache/linux-$version
if [ -d "$unpacked/boot" ]; then
  echo "$unpacked"
  exit 0
fi

apt_dir=$cache/apt/$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt_dir/sources.list"
apt_options=(
  -o Dir::Etc::SourceList="$apt_dir/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$apt_dir/lists"
  -o Dir::Cache="$apt_dir"
  -o Dir::Cache::Archives="$apt_dir/archives"
  -o APT::Get::List-Cleanup=false
  -o APT::Sandbox::User=root
)
apt-get "${apt_options[@]}" -qq update >&2

# The suite's linux-image-amd64 depends on the image of its current kernel ABI.
package=$(apt-cache "${apt_options[@]}" depends linux-image-amd64 |
  awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$package" ]; then
  echo "fetch.sh: $suite lists no kernel image for amd64" >&2
  exit 1
fi
echo "fetch.sh: $package from $suite" >&2
(cd "$apt_dir/archives" && apt-get "${apt_options[@]}" -qq download "$package" >&2)

mkdir -p "$unpacked.partial"
dpkg-deb -x "$apt_dir/archives/${package}_"*.deb "$unpacked.partial"
release=$(ls "$unpacked.partial/lib/modules")
/sbin/depmod -b "$unpacked.partial" "$release"
rm -f "$apt_dir/archives/${package}_"*.deb
mv "$unpacked.partial" "$unpacked"
echo "$unpacked"
