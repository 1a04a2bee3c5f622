#!/usr/bin/env bash
# Installs what `npm start` / `npm test` need on a fresh Debian 12 machine with only Node and npm.
# npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
# Debian packages: installed with apt-get when missing and we are root; otherwise a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-test}"

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.posd-installed
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund
  echo "$lock_hash" > "$stamp"
fi

case "$purpose" in
  # fonts-wqy-zenhei: the simulated printer's CJK font (receipt images); without it the demo still
  # starts and draws Chinese as boxes, with a warning.
  start) want=(fonts-wqy-zenhei) ;;
  test) want=(socat mosquitto chromium fonts-wqy-microhei fonts-wqy-zenhei zbar-tools openssl python3 systemd mmdebstrap qemu-system-x86 dosfstools mtools fdisk e2fsprogs zstd ovmf rauc squashfs-tools rabbitmq-server postgresql) ;;
  image) want=(mmdebstrap qemu-system-x86 dosfstools mtools fdisk e2fsprogs zstd openssl systemd ovmf rauc squashfs-tools) ;;
  *) echo "ensure-deps: unknown purpose $purpose" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ensure-deps: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "ensure-deps: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi
