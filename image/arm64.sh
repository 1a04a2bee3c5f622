#!/usr/bin/env bash
# arm64 image: the amd64 recipe with POSD_IMAGE_ARCH=arm64 (see docs/operations.md, "arm64 boards").
# Installs what a Debian 12 amd64 host needs for it (as root): qemu-user binfmt for mmdebstrap's
# arm64 chroot, a cross compiler for better-sqlite3, qemu-system-aarch64 for the boot test.
# Not run in CI: about 3 minutes more than amd64 once the packages are cached.
set -euo pipefail
cd "$(dirname "$0")/.."
want=(qemu-user-static binfmt-support arch-test g++-aarch64-linux-gnu qemu-system-arm)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
export POSD_IMAGE_ARCH=arm64
bash image/build.sh
[ "${1:-}" = --no-test ] || bash image/test.sh
