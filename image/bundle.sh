#!/usr/bin/env bash
# Makes a signed RAUC update bundle (verity format) of a root file system image:
#   image/bundle.sh ROOTFS.ext4 VERSION OUT.raucb     the bundle (the ext4 is copied, not changed)
#   image/bundle.sh --cert                            prints the signing certificate's path (the
#                                                     image's keyring), making the key on first use
# Signing: POSD_BUNDLE_KEY + POSD_BUNDLE_CERT (production: docs/operations.md "Update signing keys"),
# else the development key in POSD_DEV_KEYS (default ~/.config/posd-dev-keys), made on first use and
# never in the repository. POSD_IMAGE_ARCH (amd64) names the compatible (posd-ARCH);
# POSD_BUNDLE_ZSTD_LEVEL the squashfs compression (zstd; default 3: 436 MiB in about 2.5 minutes on the
# shared 2-core machine; level 15 made 383 MiB in 12 minutes: a release build may choose it).
set -euo pipefail
ARCH=${POSD_IMAGE_ARCH:-amd64}
KEYS=${POSD_DEV_KEYS:-${XDG_CONFIG_HOME:-$HOME/.config}/posd-dev-keys}
die() { echo "bundle: error: $*" >&2; exit 1; }

signing() {
  if [ -n "${POSD_BUNDLE_KEY:-}" ] || [ -n "${POSD_BUNDLE_CERT:-}" ]; then
    [ -f "${POSD_BUNDLE_KEY:-}" ] && [ -f "${POSD_BUNDLE_CERT:-}" ] || die "POSD_BUNDLE_KEY and POSD_BUNDLE_CERT must both name files"
    KEY=$POSD_BUNDLE_KEY CERT=$POSD_BUNDLE_CERT
    return
  fi
  KEY=$KEYS/bundle.key CERT=$KEYS/bundle.crt
  if [ ! -f "$KEY" ] || [ ! -f "$CERT" ]; then
    mkdir -p "$KEYS" && chmod 0700 "$KEYS"
    openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/O=posd development/CN=posd update signing (development)" \
      -keyout "$KEY.tmp" -out "$CERT.tmp" 2>/dev/null
    chmod 0600 "$KEY.tmp"
    mv "$KEY.tmp" "$KEY" && mv "$CERT.tmp" "$CERT"
    echo "bundle: made the development signing key $KEY (and $CERT): keep it out of the repository" >&2
  fi
}

signing
if [ "${1:-}" = --cert ]; then
  echo "$CERT"
  exit 0
fi
[ $# = 3 ] || die "usage: $0 ROOTFS.ext4 VERSION OUT.raucb | $0 --cert"
ROOTFS=$1 VERSION=$2 OUT=$3
[ -f "$ROOTFS" ] || die "$ROOTFS missing"
for tool in rauc mksquashfs; do
  command -v "$tool" >/dev/null || die "$tool missing (scripts/ensure-deps.sh image installs rauc, squashfs-tools)"
done
WORK=$(mktemp -d /var/tmp/posd-bundle.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/b"
# The image as it is (image/build.sh sizes the file system to its contents: RAUC writes every block).
ln "$ROOTFS" "$WORK/b/rootfs.ext4" 2>/dev/null || cp --sparse=always "$ROOTFS" "$WORK/b/rootfs.ext4"
cat >"$WORK/b/manifest.raucm" <<EOF
[update]
compatible=posd-$ARCH
version=$VERSION
description=posd root file system
build=$(date -u +%Y-%m-%dT%H:%M:%SZ)

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
EOF
rm -f "$OUT"
rauc bundle --cert="$CERT" --key="$KEY" \
  --mksquashfs-args="-comp zstd -Xcompression-level ${POSD_BUNDLE_ZSTD_LEVEL:-3} -processors 2" \
  "$WORK/b" "$OUT" >"$WORK/rauc.log" 2>&1 || { cat "$WORK/rauc.log" >&2; die "rauc bundle failed"; }
echo "bundle: $OUT: version $VERSION, $(($(stat -c %s "$OUT") / 1048576)) MiB (root file system $(($(stat -c %s "$WORK/b/rootfs.ext4") / 1048576)) MiB)" >&2
