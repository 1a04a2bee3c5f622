#!/usr/bin/env bash
# The kiosk's compositor and browser on this machine, without QEMU: the image's sway config and
# kiosk-browser (image/files/) on wlroots' headless backend (pixman, as in the image), the URL and
# profile swapped for this machine's, then a grim screenshot. Seconds per try instead of a 10-minute
# boot (docs/operations.md "Why sway"). Needs sway, grim and chromium (apt-get install sway
# grim); runs as root, Chromium as nobody.
#   image/kiosk-headless.sh OUT.png URL                    the image's kiosk (sway); with
#                                                          WLR_HEADLESS_OUTPUTS=2 two screens (grim
#                                                          takes both side by side)
#   image/kiosk-headless.sh OUT.png URL --kiosk            cage 0.1.4 with these Chromium flags (the
#                                                          white screen it gave; apt-get install cage)
# Then `node image/kiosk-screen.mjs check OUT.png` says whether the PIN keypad is on it.
set -euo pipefail
OUT=$1 URL=$2
shift 2
F=$(cd "$(dirname "$0")" && pwd)/files
D=$(mktemp -d /tmp/posd-kiosk-headless.XXXXXX)
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$D" XDG_RUNTIME_DIR="$D" "$@"; }
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
if [ $# = 0 ]; then
  # As in the image, but no sandbox (nobody has no user namespace here) and no GPU (the image's
  # policy turns hardware acceleration off).
  sed -e "s|^UI=.*|UI=${URL%/}|" -e "s|^PROFILE=.*|PROFILE=$D/profile|" -e "s|--disable-gpu|--disable-gpu --no-sandbox|" \
    -e "s|/usr/lib/posd/kiosk-outputs.mjs|$F/kiosk-outputs.mjs|" "$F/kiosk-browser" >"$D/kiosk-browser"
  sed -e "s|/usr/lib/posd/kiosk-browser|$D/kiosk-browser >$D/browser.log 2>\&1|" "$F/kiosk-sway.conf" >"$D/sway.conf"
  chmod 0755 "$D/kiosk-browser"
  chown -R nobody:nogroup "$D"
  chmod 0700 "$D"
  as_nobody timeout 120 sway -c "$D/sway.conf" >"$D/compositor.log" 2>&1 &
  pid=$!
else
  chown nobody:nogroup "$D"
  chmod 0700 "$D"
  as_nobody WLR_XWAYLAND=/bin/false timeout 120 cage -d -s -- chromium --ozone-platform=wayland --no-sandbox \
    --disable-gpu --user-data-dir="$D/profile" --no-first-run "$@" "$URL" >"$D/compositor.log" 2>&1 &
  pid=$!
fi
sleep "${POSD_KIOSK_WAIT:-25}"
display=$(cd "$D" && ls wayland-? | head -1)
as_nobody WAYLAND_DISPLAY="$display" grim "$OUT"
# The compositor runs under timeout (which does not pass a kill on): end the compositor itself.
kill $(pgrep -P "$pid") 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "kiosk-headless: $OUT; $(grep -c 'Basic output test failed' "$D/compositor.log" || true) failed output commits" >&2
if [ -n "${POSD_KIOSK_KEEP:-}" ]; then cat "$D"/*.log >"$OUT.log"; fi
# Chromium may still be writing its profile for a moment after the compositor is gone.
rm -rf "$D" 2>/dev/null || { sleep 3; rm -rf "$D"; }
