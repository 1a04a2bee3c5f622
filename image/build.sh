#!/usr/bin/env bash
# Builds the posd device image: a raw GPT disk with
#   1 posd-boot    FAT32 ESP: systemd-boot, kernel + initrd per slot, the provisioning file drop
#   2 posd-root-a  ext4 root slot A (this build)
#   3 posd-root-b  root slot B (empty; an update writes the next root here and switches slots)
#   4 posd-data    ext4 /data: /data/state is /var/lib/posd (the ledger), /data/config is /etc/posd
# from Debian bookworm (mmdebstrap, minbase), with Node from the npm registry (image/node-runtime.json)
# and posd built here with its production dependencies compiled for that Node.
#
#   image/build.sh                     amd64, kiosk (sway + chromium) included
#   POSD_IMAGE_KIOSK=0 image/build.sh  without the kiosk browser (headless terminal)
#   POSD_IMAGE_ARCH=arm64 ...          see image/README.md (needs qemu-user binfmt; not run in CI)
#
# Output in image/out (POSD_IMAGE_OUT): posd-ARCH.img, .img.zst, .vmlinuz, .initrd, posd-ARCH.json,
# and the signed update bundle posd-ARCH.raucb (image/bundle.sh; POSD_IMAGE_BUNDLE_ONLY=1 makes only
# the bundle: `npm run bundle`). POSD_IMAGE_VERSION sets posd's version in the image and the bundle.
# Downloads (Debian packages, the Node tarball, compiled dependencies) are cached in
# ~/.cache/posd-image (POSD_IMAGE_CACHE), so a rebuild needs no network and little time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${POSD_IMAGE_ARCH:-amd64}
KIOSK=${POSD_IMAGE_KIOSK:-1}
SUITE=bookworm
MIRROR=${POSD_IMAGE_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${POSD_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE=${POSD_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/posd-image}
OUT=${POSD_IMAGE_OUT:-$ROOT/image/out}
ESP_MB=256
DATA_MB=${POSD_IMAGE_DATA_MB:-512}

T0=$(date +%s)
step() { echo "image: [$(($(date +%s) - T0))s] $*" >&2; }
die() { echo "image: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root; file owners inside the filesystems)"
for tool in mmdebstrap mkfs.ext4 mkfs.vfat mcopy sfdisk zstd; do
  command -v "$tool" >/dev/null || die "$tool missing (scripts/ensure-deps.sh image installs it)"
done
case "$ARCH" in
  amd64) KERNEL_PKG=linux-image-amd64 EFI_NAME=BOOTX64.EFI EFI_STUB=systemd-bootx64.efi NODE_PLATFORM=linux-x64
    ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 CONSOLE=ttyS0 ;;
  arm64) KERNEL_PKG=linux-image-arm64 EFI_NAME=BOOTAA64.EFI EFI_STUB=systemd-bootaa64.efi NODE_PLATFORM=linux-arm64
    ROOT_TYPE=B921B045-1DF0-41C3-AF44-4C6F280D3FAE CONSOLE=ttyAMA0 ;;
  *) die "unknown POSD_IMAGE_ARCH $ARCH (amd64 or arm64)" ;;
esac
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "building $ARCH here needs qemu-user binfmt (apt-get install qemu-user-static binfmt-support)"
fi

mkdir -p "$CACHE/apt-$ARCH" "$CACHE/node" "$CACHE/deps" "$OUT"
WORK=$(mktemp -d /var/tmp/posd-image.XXXXXX)
[ "${POSD_IMAGE_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT # POSD_IMAGE_KEEP=1 keeps the work dir

# --- Node runtime: pinned npm package, checked against its integrity ------------------------------
json() { node -e "const j=require(process.argv[1]);console.log(process.argv[2].split('.').reduce((o,k)=>o[k],j))" "$ROOT/image/node-runtime.json" "$1"; }
NODE_VERSION=$(json version)
NODE_PKG=$(json "$ARCH.package")
NODE_INTEGRITY=$(json "$ARCH.integrity")
NODE_TGZ="$CACHE/node/$NODE_PKG-$NODE_VERSION.tgz"
NODE_DIR="$CACHE/node/$NODE_PKG-$NODE_VERSION"
if [ ! -f "$NODE_TGZ" ]; then
  step "npm pack $NODE_PKG@$NODE_VERSION"
  (cd "$CACHE/node" && npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null)
fi
actual="sha512-$(openssl dgst -sha512 -binary "$NODE_TGZ" | base64 -w0)"
if [ "$actual" != "$NODE_INTEGRITY" ]; then
  rm -f "$NODE_TGZ"
  die "$NODE_TGZ: integrity $actual, expected $NODE_INTEGRITY (removed; run again)"
fi
if [ ! -x "$NODE_DIR/bin/node" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tar xzf "$NODE_TGZ" -C "$NODE_DIR" --strip-components=1
fi

# --- posd: compiled, then production dependencies compiled against that Node (headers ship in it) ----
# Compiled into the work dir, not dist/: tests that run dist/ may be running beside this build.
step "building posd (tsc)"
(cd "$ROOT" && node node_modules/typescript/bin/tsc -p tsconfig.json --outDir "$WORK/tsc" &&
  node node_modules/typescript/bin/tsc -p ui/tsconfig.json --outDir "$WORK/tsc/ui")
DEPS_KEY="$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)-node$NODE_VERSION-$ARCH"
DEPS="$CACHE/deps/$DEPS_KEY"
if [ ! -f "$DEPS/.complete" ]; then
  step "npm ci --omit=dev for Node $NODE_VERSION ($ARCH)"
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$DEPS/"
  (
    cd "$DEPS"
    export npm_config_nodedir="$NODE_DIR" npm_config_update_notifier=false
    if [ "$ARCH" = "$(dpkg --print-architecture)" ]; then
      export PATH="$NODE_DIR/bin:$PATH" # npm and node-gyp run by the image's own Node
    else
      # Cross-compiling (arm64 on an amd64 host): see image/README.md.
      command -v aarch64-linux-gnu-g++ >/dev/null || die "cross compiler missing: apt-get install g++-aarch64-linux-gnu"
      export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
      export npm_config_arch=arm64 npm_config_target_arch=arm64 npm_config_target="$NODE_VERSION"
    fi
    # No install scripts yet: better-sqlite3's would try to download a prebuilt binary from GitHub.
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    # better-sqlite3 is built for Node's ABI: compiled here with node-gyp against $NODE_DIR's headers.
    npm_config_build_from_source=true npm rebuild --loglevel=error better-sqlite3 >/dev/null
    if [ "$ARCH" = "$(dpkg --print-architecture)" ]; then
      # N-API addons with prebuilt binaries inside their npm packages: their own load checks.
      npm rebuild --loglevel=error node-hid @serialport/bindings-cpp >/dev/null
      node -e "const D=require('better-sqlite3'); new D(':memory:').prepare('select 1').get()" ||
        die "better-sqlite3 does not load in Node $NODE_VERSION"
    fi
    # Keep the compiled addon, drop its sources and objects; drop other platforms' prebuilt binaries.
    rm -rf node_modules/better-sqlite3/{deps,src,build/deps,build/Release/obj.target,build/Release/.deps,build/Release/test_extension.node}
    find node_modules -type d -path '*/prebuilds/*' -prune ! -name "*$NODE_PLATFORM" -exec rm -rf {} +
  )
  touch "$DEPS/.complete"
fi

APP="$WORK/app"
mkdir -p "$APP/dist" "$APP/ui" "$APP/docs"
cp "$ROOT/package.json" "$APP/"
# --- updates: the version this root carries (posd's own, or POSD_IMAGE_VERSION) ---
VERSION=${POSD_IMAGE_VERSION:-$(node -p "require('$ROOT/package.json').version")}
node -e "const f=process.argv[1],j=require(f);j.version=process.argv[2];require('fs').writeFileSync(f,JSON.stringify(j,null,2)+'\\n')" "$APP/package.json" "$VERSION"
cp -r "$WORK/tsc/src" "$WORK/tsc/cloud" "$WORK/tsc/ui" "$APP/dist/"
cp "$ROOT"/ui/*.html "$ROOT"/ui/*.css "$APP/ui/"
cp "$ROOT"/ui/*.svg "$APP/ui/" 2>/dev/null || true
cp "$ROOT/docs/operations.md" "$APP/docs/" 2>/dev/null || true
cp -r "$DEPS/node_modules" "$APP/"
[ -f "$APP/ui/index.html" ] && [ -f "$APP/dist/src/main.js" ] || die "posd build output missing"

# --- root filesystem --------------------------------------------------------------------------------
PACKAGES=usr-is-merged,systemd,systemd-sysv,udev,kmod,"$KERNEL_PKG",systemd-boot-efi,systemd-timesyncd,systemd-resolved
PACKAGES+=,dbus,libpam-systemd,ca-certificates,zstd,e2fsprogs,dosfstools,wireless-regdb
# Updates (docs/decisions/0008-updates-with-rauc.md): RAUC and its D-Bus service; polkitd lets posd
# (not root) run `systemctl reboot` at the safe moment (a rule for user posd only).
PACKAGES+=,rauc,rauc-service,polkitd
# usr-is-merged stands for usrmerge (which pulls in perl, 50 MB): mmdebstrap's merged-usr hook
# lays out the merged /usr before anything is unpacked.
# The kiosk's compositor: sway, not cage (cage 0.1.4 never painted Chromium's full-screen window).
[ "$KIOSK" = 1 ] && PACKAGES+=,sway,chromium,fonts-wqy-microhei
# seatd hands the kiosk the display, input devices and its VT (libseat's logind backend needs
# logind's polkit-checked session activation, refused without polkitd: docs/operations.md).
[ "$KIOSK" = 1 ] && PACKAGES+=,seatd
DPKG_EXCLUDES=()
while read -r line; do
  case "$line" in
    '' | '#'*) ;;
    +*) DPKG_EXCLUDES+=("--dpkgopt=path-include=${line#+}") ;;
    *) DPKG_EXCLUDES+=("--dpkgopt=path-exclude=$line") ;;
  esac
done <"$ROOT/image/exclude-paths.txt"

F="$ROOT/image/files"
S="$ROOT/systemd"
# The Debian root (mmdebstrap, the slow stage) is cached as a tar keyed on what makes it; a week old
# at most, so security updates still come in. POSD_IMAGE_FRESH=1 ignores the cache.
ROOTFS_KEY=$(printf '%s\n' "$SUITE" "$ARCH" "$MIRROR" "$PACKAGES" "${DPKG_EXCLUDES[*]}" | sha256sum | cut -c1-16)
ROOTFS_TAR="$CACHE/rootfs-$ARCH-$ROOTFS_KEY.tar"
find "$CACHE" -maxdepth 1 -name "rootfs-$ARCH-*.tar" -mtime +7 -delete
if [ "${POSD_IMAGE_FRESH:-0}" != 1 ] && [ -f "$ROOTFS_TAR" ]; then
  step "Debian root from the cache ($(basename "$ROOTFS_TAR"))"
  mkdir -p "$WORK/rootfs"
  tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$ROOTFS_TAR" -C "$WORK/rootfs"
else
  step "mmdebstrap $SUITE $ARCH (kiosk=$KIOSK)"
  mmdebstrap --mode=root --variant=minbase --arch="$ARCH" --include="$PACKAGES" \
    --aptopt='Acquire::Retries "3"' \
    "${DPKG_EXCLUDES[@]}" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && printf "MODULES=most\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/posd.conf"' \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives" && find "'"$CACHE/apt-$ARCH"'" -name "*.deb" -exec cp -t "$1/var/cache/apt/archives/" {} +' \
    --customize-hook='sync-out /var/cache/apt/archives "'"$CACHE/apt-$ARCH"'"' \
    --customize-hook='find "'"$CACHE/apt-$ARCH"'" -name "*.deb" -mtime +60 -delete' \
    "$SUITE" "$WORK/rootfs" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main" \
    >"$WORK/mmdebstrap.log" 2>&1 || { tail -40 "$WORK/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
  rm -f "$CACHE"/rootfs-"$ARCH"-*.tar
  tar --numeric-owner --xattrs --xattrs-include='*' -cf "$ROOTFS_TAR.tmp" -C "$WORK/rootfs" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
fi
R="$WORK/rootfs"

step "installing posd, Node $NODE_VERSION, units and config"
install -D -m 0755 "$NODE_DIR/bin/node" "$R/usr/lib/posd/node/bin/node"
install -D -m 0644 "$NODE_DIR/LICENSE" "$R/usr/share/doc/nodejs-posd/copyright"
ln -sf /usr/lib/posd/node/bin/node "$R/usr/bin/node"
cp -r "$APP" "$R/opt/posd"
chown -R root:root "$R/opt/posd"
chmod -R u=rwX,go=rX "$R/opt/posd"
printf '#!/bin/sh\nexec /usr/bin/node /opt/posd/dist/src/main.js "$@"\n' >"$R/usr/bin/posd"
chmod 0755 "$R/usr/bin/posd"
install -m 0644 "$S"/posd.service "$S"/posd-provision.service "$S"/posd-accounts.service "$F/posd-selftest.service" "$R/usr/lib/systemd/system/"
if [ "$KIOSK" = 1 ]; then
  install -m 0644 "$S/posd-kiosk.service" "$R/usr/lib/systemd/system/"
  install -D -m 0644 "$F/kiosk-sway.conf" "$R/usr/share/posd/kiosk-sway.conf"
  install -D -m 0755 "$F/kiosk-browser" "$R/usr/lib/posd/kiosk-browser"
  install -D -m 0644 "$F/kiosk-libinput.quirks" "$R/etc/libinput/local-overrides.quirks"
  # Chromium's managed policy (docs/security.md "The kiosk"): no DevTools, downloads, printing,
  # file://, or origins other than the local UI and the store apps.
  install -D -m 0644 "$F/chromium-policy.json" "$R/etc/chromium/policies/managed/posd.json"
fi
install -m 0755 "$F/provision.mjs" "$F/technician.mjs" "$F/accounts-mount.sh" "$F/kiosk-outputs.mjs" "$F"/selftest*.mjs "$R/usr/lib/posd/"
install -m 0755 "$F/posd-provisioning-reset" "$R/usr/bin/"
install -D -m 0644 "$F/posd.json" "$R/usr/share/posd/posd.json"
install -D -m 0644 "$S/posd.sysusers" "$R/usr/lib/sysusers.d/posd.conf"
install -D -m 0644 "$S/posd.tmpfiles" "$R/usr/lib/tmpfiles.d/posd.conf"
install -D -m 0644 "$S/posd-modules.conf" "$R/usr/lib/modules-load.d/posd.conf"
install -D -m 0644 "$S/99-posd.rules" "$R/usr/lib/udev/rules.d/99-posd.rules"
install -D -m 0644 "$F/fstab" "$R/etc/fstab"
install -D -m 0644 -t "$R/usr/lib/repart.d" "$F"/repart.d/*.conf
install -D -m 0644 "$F/80-posd-wired.network" "$R/etc/systemd/network/80-posd-wired.network"
install -D -m 0644 "$F/journald-posd.conf" "$R/etc/systemd/journald.conf.d/posd.conf"
echo posd >"$R/etc/hostname"
echo LANG=C.UTF-8 >"$R/etc/default/locale"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tposd\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
mkdir -p "$R/data" "$R/boot/efi" "$R/etc/posd" "$R/var/lib/posd" "$R/var/log/journal"
: >"$R/etc/machine-id"
chroot "$R" systemd-sysusers >/dev/null
UNITS=(posd.service posd-provision.service posd-accounts.service posd-selftest.service systemd-networkd.service systemd-resolved.service)
[ "$KIOSK" = 1 ] && UNITS+=(posd-kiosk.service seatd.service) && chroot "$R" systemctl set-default graphical.target >/dev/null 2>&1
chroot "$R" systemctl enable "${UNITS[@]}" >/dev/null 2>&1
# Login prompts for the technician (docs/operations.md): tty2 here; the serial console's getty
# (serial-getty@$CONSOLE) comes from console= on the kernel command line (systemd-getty-generator).
# Only a provisioned technician (user tech) can log in: root stays locked.
chroot "$R" systemctl enable getty@tty2.service >/dev/null 2>&1
# --- updates (RAUC, A/B slots, boot counting): docs/decisions/0008-updates-with-rauc.md ---------------
U="$F/update"
sed "s/@ARCH@/$ARCH/" "$U/system.conf" | install -D -m 0644 /dev/stdin "$R/etc/rauc/system.conf"
install -D -m 0644 "$(POSD_IMAGE_ARCH=$ARCH bash "$ROOT/image/bundle.sh" --cert)" "$R/etc/rauc/keyring.pem"
install -m 0755 "$U/rauc-bootloader" "$U/boot-assessment" "$R/usr/lib/posd/"
install -m 0644 "$U/posd-trial-failed.service" "$U/posd-trial-deadline.service" "$U/posd-trial-deadline.timer" "$R/usr/lib/systemd/system/"
install -D -m 0644 "$U/50-update-trial.conf" "$R/usr/lib/systemd/system/posd.service.d/50-update-trial.conf"
# An install must not starve posd (the watchdog, the ledger's fsync): bounded writeback, RAUC niced.
install -D -m 0644 "$U/50-posd-writeback.conf" "$R/usr/lib/sysctl.d/50-posd-writeback.conf"
install -D -m 0644 "$U/rauc-priority.conf" "$R/usr/lib/systemd/system/rauc.service.d/50-posd-priority.conf"
# Only root and posd may talk to RAUC (the package's file lets anyone); posd may reboot (polkit).
install -m 0644 "$U/de.pengutronix.rauc.conf" "$R/usr/share/dbus-1/system.d/de.pengutronix.rauc.conf"
install -D -m 0644 "$U/50-posd-reboot.rules" "$R/usr/share/polkit-1/rules.d/50-posd-reboot.rules"
printf 'd /data/rauc 0700 root root -\n' >"$R/usr/lib/tmpfiles.d/posd-update.conf"
install -m 0644 "$F/posd-selftest-update.service" "$R/usr/lib/systemd/system/"
chroot "$R" systemctl enable posd-trial-deadline.timer posd-selftest-update.service >/dev/null 2>&1
# A boot is marked good by posd (`rauc status mark-good` once healthy), never by systemd-bless-boot
# (package systemd-boot, not installed): masked in case a later package list brings it in.
ln -sf /dev/null "$R/etc/systemd/system/systemd-bless-boot.service"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"
rm -rf "$R/var/cache/apt/archives"/*.deb "$R/var/lib/apt/lists"/* "$R/var/log"/*.log
# The root is read-only: the first-boot updates (hwdb, ldconfig, journal catalog) are done now, and
# /etc/.updated and /var/.updated newer than /usr tell ConditionNeedsUpdate= units there is nothing to do.
chroot "$R" systemd-hwdb update
chroot "$R" ldconfig
chroot "$R" journalctl --update-catalog 2>/dev/null || true
touch "$R/usr" && sleep 1 && touch "$R/etc/.updated" "$R/var/.updated"

# --- filesystems and the disk ------------------------------------------------------------------------
KVER=$(basename "$(ls -d "$R"/usr/lib/modules/*)")
cp "$R/boot/vmlinuz-$KVER" "$OUT/posd-$ARCH.vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$OUT/posd-$ARCH.initrd"
# The slot keeps its kernel and initrd in /boot: an update copies them from the new slot to the ESP.
ROOT_MB=$(du -sm --apparent-size "$R" | cut -f1)
# A slot holds this root with room to grow: 1.5 times its size, in steps of 256 MiB.
SLOT_MB=${POSD_IMAGE_SLOT_MB:-$(((ROOT_MB * 3 / 2 + 255) / 256 * 256))}
uuid() { cat /proc/sys/kernel/random/uuid; }
UUID_A=$(uuid) UUID_B=$(uuid) UUID_BOOT=$(uuid) UUID_DATA=$(uuid)
# The root slot is mounted read-only (docs/security.md "A locked boot"): what changes lives on the
# data partition (/etc/posd, /var/lib/posd, /var through an overlay, /home) or in /run and /tmp.
# rauc.slot names the booted slot for RAUC; panic=10 reboots a kernel or initramfs that cannot go on
# (a slot on trial then takes its next try or falls back).
CMDLINE="root=PARTUUID=$UUID_A ro rauc.slot=A panic=10"

step "root filesystem ($ROOT_MB MiB in a $SLOT_MB MiB slot)"
# The file system is sized to its contents (plus a tenth), not to the slot: an update writes every
# block of it (RAUC copies the image), and the slot's rest stays unused (the root is read-only).
FS_MB=$(($(du -sm "$R" | cut -f1) * 11 / 10 + 64))
while :; do
  [ "$FS_MB" -le "$SLOT_MB" ] || FS_MB=$SLOT_MB
  rm -f "$WORK/root-a.ext4" && truncate -s "${FS_MB}M" "$WORK/root-a.ext4"
  mkfs.ext4 -q -F -L posd-root-a -d "$R" -E lazy_itable_init=1,lazy_journal_init=1 "$WORK/root-a.ext4" 2>"$WORK/mkfs.log" && break
  [ "$FS_MB" -lt "$SLOT_MB" ] || { cat "$WORK/mkfs.log" >&2; die "the root does not fit its slot"; }
  FS_MB=$((FS_MB * 11 / 10))
done

# --- updates: the signed bundle of this root (what slot A holds) ---
step "update bundle (version $VERSION)"
BUNDLE="$OUT/posd-$ARCH.raucb"
POSD_IMAGE_ARCH=$ARCH bash "$ROOT/image/bundle.sh" "$WORK/root-a.ext4" "$VERSION" "$BUNDLE"
if [ "${POSD_IMAGE_BUNDLE_ONLY:-0}" = 1 ]; then
  step "done: $BUNDLE"
  exit 0
fi

mkdir -p "$WORK/data/config" "$WORK/data/state" "$WORK/data/var/upper" "$WORK/data/var/work" "$WORK/data/home"
mkdir -m 0700 "$WORK/data/rauc" # RAUC's slot status (data-directory)
chown 0:900 "$WORK/data/config" && chmod 0750 "$WORK/data/config"
chown 900:900 "$WORK/data/state" && chmod 0750 "$WORK/data/state"
truncate -s "${DATA_MB}M" "$WORK/data.ext4"
mkfs.ext4 -q -F -L posd-data -d "$WORK/data" -E lazy_itable_init=1,lazy_journal_init=1 "$WORK/data.ext4"

mkfs.vfat -F 32 -n POSD-BOOT -C "$WORK/boot.vfat" $((ESP_MB * 1024)) >/dev/null
mkdir -p "$WORK/esp/EFI/BOOT" "$WORK/esp/loader/entries" "$WORK/esp/posd/a"
cp "$R/usr/lib/systemd/boot/efi/$EFI_STUB" "$WORK/esp/EFI/BOOT/$EFI_NAME"
cp "$OUT/posd-$ARCH.vmlinuz" "$WORK/esp/posd/a/vmlinuz"
cp "$OUT/posd-$ARCH.initrd" "$WORK/esp/posd/a/initrd.img"
# A locked boot: no menu timeout (the menu shows only while a key is held), no editor (no kernel
# command line edits such as init=/bin/sh), no automatic entries (EFI shell, firmware setup).
# The default is the first posd entry in systemd-boot's order: the primary slot's (sort-key), or the
# other one once the primary has no tries left (rauc-bootloader, boot counting).
printf 'default posd-*\neditor no\nauto-entries no\nauto-firmware no\nconsole-mode keep\n' >"$WORK/esp/loader/loader.conf"
cat >"$WORK/esp/loader/entries/posd-a.conf" <<EOF
title   posd (slot A)
sort-key posd-1-primary
version $KVER
linux   /posd/a/vmlinuz
initrd  /posd/a/initrd.img
options $CMDLINE console=$CONSOLE,115200 console=tty1 quiet
EOF
cp "$F/posd-provision.example.json" "$WORK/esp/"
mcopy -s -i "$WORK/boot.vfat" "$WORK/esp"/* ::/

step "assembling the disk"
IMG="$OUT/posd-$ARCH.img"
rm -f "$IMG" "$IMG.zst"
TOTAL_MB=$((1 + ESP_MB + 2 * SLOT_MB + DATA_MB + 1))
truncate -s "${TOTAL_MB}M" "$IMG"
mib=2048 # sectors per MiB
sfdisk -q "$IMG" <<EOF
label: gpt
unit: sectors
start=$((1 * mib)), size=$((ESP_MB * mib)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$UUID_BOOT, name="posd-boot"
start=$(((1 + ESP_MB) * mib)), size=$((SLOT_MB * mib)), type=$ROOT_TYPE, uuid=$UUID_A, name="posd-root-a"
start=$(((1 + ESP_MB + SLOT_MB) * mib)), size=$((SLOT_MB * mib)), type=$ROOT_TYPE, uuid=$UUID_B, name="posd-root-b"
start=$(((1 + ESP_MB + 2 * SLOT_MB) * mib)), size=$((DATA_MB * mib)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$UUID_DATA, name="posd-data"
EOF
put() { dd if="$1" of="$IMG" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$WORK/boot.vfat" 1
put "$WORK/root-a.ext4" $((1 + ESP_MB))
put "$WORK/data.ext4" $((1 + ESP_MB + 2 * SLOT_MB))

step "compressing"
zstd -q -T0 -3 "$IMG" -o "$IMG.zst"

APPARENT=$(stat -c %s "$IMG")
ALLOCATED=$(($(stat -c %b "$IMG") * $(stat -c %B "$IMG")))
COMPRESSED=$(stat -c %s "$IMG.zst")
cat >"$OUT/posd-$ARCH.json" <<EOF
{
  "arch": "$ARCH",
  "image": "posd-$ARCH.img",
  "kernel": "posd-$ARCH.vmlinuz",
  "initrd": "posd-$ARCH.initrd",
  "kernelVersion": "$KVER",
  "nodeVersion": "$NODE_VERSION",
  "version": "$VERSION",
  "bundle": { "file": "posd-$ARCH.raucb", "version": "$VERSION", "bytes": $(stat -c %s "$BUNDLE") },
  "kiosk": $([ "$KIOSK" = 1 ] && echo true || echo false),
  "cmdline": "$CMDLINE",
  "console": "$CONSOLE",
  "partitions": {
    "boot": { "uuid": "$UUID_BOOT", "offsetMiB": 1, "sizeMiB": $ESP_MB },
    "rootA": { "uuid": "$UUID_A", "offsetMiB": $((1 + ESP_MB)), "sizeMiB": $SLOT_MB },
    "rootB": { "uuid": "$UUID_B", "offsetMiB": $((1 + ESP_MB + SLOT_MB)), "sizeMiB": $SLOT_MB },
    "data": { "uuid": "$UUID_DATA", "offsetMiB": $((1 + ESP_MB + 2 * SLOT_MB)), "sizeMiB": $DATA_MB }
  },
  "rootMiB": $ROOT_MB,
  "bytes": { "raw": $APPARENT, "allocated": $ALLOCATED, "zstd": $COMPRESSED },
  "buildSeconds": $(($(date +%s) - T0))
}
EOF
mb() { echo "$(($1 / 1048576)) MiB"; }
step "done: $IMG"
echo "image: root filesystem $ROOT_MB MiB; disk $(mb "$APPARENT") raw, $(mb "$ALLOCATED") written, $(mb "$COMPRESSED") as .img.zst; built in $(($(date +%s) - T0)) s" >&2
