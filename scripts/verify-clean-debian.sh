#!/usr/bin/env bash
# Developer check (not part of the test suite): runs the README's test command in a fresh
# Debian 12 root made with debootstrap, to prove scripts/install-deps.sh installs everything.
# Usage (as root): scripts/verify-clean-debian.sh [ROOT_DIR]   (default /var/tmp/cv-bookworm)
# The committed tree (git archive HEAD) is copied in, plus ../shared when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-/var/tmp/cv-bookworm}"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror="${mirror:-http://deb.debian.org/debian}"
if [ ! -x "$root/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase bookworm "$root" "$mirror"
fi
# What a real machine has and a bare chroot lacks: "/" a mount point (`ip netns` remounts it
# rslave), /proc, /sys (`ip netns exec` mounts a fresh sysfs) and /dev.
mountpoint -q "$root" || mount --bind "$root" "$root"
mount --make-private "$root"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/sys" || mount -t sysfs sysfs "$root/sys"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
# Everything under the root, also what the tests mounted there (ip netns: /run/netns).
trap 'umount -R "$root" 2>/dev/null || true' EXIT
rm -rf "$root/work"
mkdir -p "$root/work/main"
git archive HEAD | tar -x -C "$root/work/main"
if [ -d ../shared ]; then cp -a ../shared "$root/work/shared"; fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# A build box behind a TLS-intercepting proxy trusts extra CAs (NODE_EXTRA_CA_CERTS): hand the
# same bundle to the root, or npm cannot reach its registry there. Nothing else uses it.
extra_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/host-extra-ca.crt"
  extra_ca="export NODE_EXTRA_CA_CERTS=/etc/host-extra-ca.crt;"
fi
chroot "$root" /bin/bash -c "$extra_ca cd /work/main && ./scripts/test.sh" 2>&1 | tee /var/tmp/cv-clean-debian.log | tail -40
