#!/usr/bin/env bash
# The kiosk's compositor and browser on this machine, without QEMU: cage on wlroots' headless
# backend (pixman, as in the image) running Chromium with the given flags, then a grim screenshot.
# Seconds per try instead of a 10-minute boot; used to find why the kiosk page stays white
# (docs/operations.md "Image self-test"). Needs cage, grim and chromium (apt-get install cage grim);
# runs as root, Chromium as nobody.
#   image/kiosk-headless.sh OUT.png URL [chromium flags...]   e.g. ... /tmp/k.png http://127.0.0.1:8080/ --kiosk
set -euo pipefail
OUT=$1 URL=$2
shift 2
D=$(mktemp -d /tmp/posd-kiosk-headless.XXXXXX)
chown nobody:nogroup "$D"
chmod 0700 "$D"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$D" XDG_RUNTIME_DIR="$D" "$@"; }
as_nobody WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 WLR_XWAYLAND=/bin/false \
  timeout 120 cage -d -s -- chromium --ozone-platform=wayland --no-sandbox --disable-gpu \
  --user-data-dir="$D/profile" --no-first-run "$@" "$URL" >"$D/cage.log" 2>&1 &
pid=$!
sleep "${POSD_KIOSK_WAIT:-25}"
as_nobody WAYLAND_DISPLAY=wayland-0 grim "$OUT"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "kiosk-headless: $OUT; cage: $(grep -c 'Basic output test failed' "$D/cage.log") failed output commits" >&2
rm -rf "$D"
