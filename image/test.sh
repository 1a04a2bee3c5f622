#!/usr/bin/env bash
# Boots the image that image/build.sh made under QEMU (software emulation, serial console) through
# its firmware: OVMF (UEFI; its code read-only, a copy of its variables per disk), systemd-boot from
# the image's ESP, the boot entry of the primary slot. posd.selftest=MODE goes on the kernel command
# line by writing it into the ESP's boot entry (as the terminal's own options are kept there). Reads
# the self-test's marker from the console. Boots, each with a provisioning file put on the boot
# partition as a technician would:
#   provisioned  a copy of the image, a valid file (with a technician login and the fleet's
#                provisioning key): installed; READY, /healthz, a sale, the technician reads posd's
#                journal and runs posd doctor but not the device key, the watchdog restarts a hung posd
#   reprovision  the provisioned disk booted again with a changed, unsigned file (a rogue broker and
#                cloud key): refused, nothing changed, the refusal visible; then a file signed by the
#                fleet key is applied, and one unsigned file after a technician reset
#   rejected     a fresh copy, a bad certificate and a missing field: refused with a clear message,
#                posd offline, no technician account
#   update       a fresh copy and a second disk with the bundles (image/test-update.sh):
#                A -> good bundle into B (the reboot held by an open code payment until the
#                customer confirms; B on trial, then marked good) -> bad bundle into A (posd exits
#                at start) that falls back to B by itself -> power cut while RAUC writes A (QEMU
#                killed) -> B boots, A never; a bundle signed by an unknown key refused
#                (image/files/selftest-update.mjs)
# Before booting, the boot partition's loader.conf is checked: no editor, no timeout.
# QEMU's exit code says nothing: a boot passes only on `POSD-SELFTEST: PASS`, and fails on
# `POSD-SELFTEST: FAIL ...` or when the marker does not come within POSD_IMAGE_TEST_TIMEOUT seconds.
#   POSD_IMAGE_TEST_BOOTS="provisioned"   run only some boots
#   POSD_IMAGE_TEST_DISPLAY="provisioned" the boots that get a display (virtio-gpu), a virtio tablet and
#                                         a QMP socket: the kiosk must come up, the PIN keypad is
#                                         saved as keypad-MODE.png (QMP screendump) and checked, the
#                                         customer page on the display's second output
#                                         (customer-MODE.png), the PIN tapped, the page signed in
#                                         (default: provisioned; empty for none)
#   POSD_IMAGE_TEST_APPEND="..."          more kernel command line (systemd.journald.forward_to_console=1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${POSD_IMAGE_ARCH:-amd64}
OUT=${POSD_IMAGE_OUT:-$ROOT/image/out}
TIMEOUT=${POSD_IMAGE_TEST_TIMEOUT:-600}
# Every boot by default, the update sequence last (about 8.5 minutes on a quiet 2-core machine:
# docs/updates.md "The image test"); POSD_IMAGE_TEST_BOOTS="provisioned" runs only some.
BOOTS=${POSD_IMAGE_TEST_BOOTS:-provisioned reprovision rejected update}
DISPLAY_BOOTS=${POSD_IMAGE_TEST_DISPLAY-provisioned}
MANIFEST="$OUT/posd-$ARCH.json"
LOGS=${POSD_IMAGE_TEST_LOGS:-$ROOT/test-artifacts/image}

die() { echo "image-test: error: $*" >&2; exit 1; }
sec() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
[ -f "$MANIFEST" ] || die "$MANIFEST missing: run npm run image first"
m() { node -e "const j=require(process.argv[1]);console.log(process.argv[2].split('.').reduce((o,k)=>o[k],j))" "$MANIFEST" "$1"; }
IMG="$OUT/$(m image)"
CMDLINE=$(m cmdline)
CONSOLE=$(m console)
BOOT_OFFSET=$(($(m partitions.boot.offsetMiB) * 1048576))
case "$ARCH" in
  amd64) QEMU=(qemu-system-x86_64 -accel tcg -machine q35 -cpu max) ;;
  arm64) QEMU=(qemu-system-aarch64 -accel tcg -machine virt -cpu max) ;;
  *) die "unknown arch $ARCH" ;;
esac
command -v "${QEMU[0]}" >/dev/null || die "${QEMU[0]} missing (scripts/ensure-deps.sh image installs it)"
# --- firmware boot: OVMF's code read-only, a copy of its variables per disk ---
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
FIRMWARE=0
if [ "$ARCH" = amd64 ]; then
  [ -f "$OVMF_CODE" ] && [ -f "$OVMF_VARS" ] || die "OVMF missing (scripts/ensure-deps.sh image installs ovmf)"
  FIRMWARE=1
fi

WORK=$(mktemp -d /var/tmp/posd-image-test.XXXXXX)
QEMU_PIDS=()
cleanup() {
  for pid in "${QEMU_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$LOGS"

# --- provisioning files: a client certificate and key, a cloud Ed25519 key -------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=SELFTEST-1 \
  -keyout "$WORK/client.key" -out "$WORK/client.crt" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$WORK/cloud.key" 2>/dev/null
openssl pkey -in "$WORK/cloud.key" -pubout -out "$WORK/cloud.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$WORK/fleet.key" 2>/dev/null
openssl pkey -in "$WORK/fleet.key" -pubout -out "$WORK/fleet.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$WORK/rogue.key" 2>/dev/null
openssl pkey -in "$WORK/rogue.key" -pubout -out "$WORK/rogue.pub" 2>/dev/null
# The technician login's hash, made as docs/operations.md says (the password itself is not used).
openssl passwd -6 "selftest-$RANDOM$RANDOM" >"$WORK/tech.hash"
node - "$WORK" "$ROOT" <<'EOF'
const { createHash, createPrivateKey, sign } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const dir = process.argv[2];
const canonicalize = require(`${process.argv[3]}/node_modules/canonicalize`);
const read = (f) => readFileSync(`${dir}/${f}`, 'utf8');
const good = {
  deviceId: 'SELFTEST-1',
  tenant: 'selftest',
  brokerUrl: 'mqtts://broker.invalid:8883',
  clientCert: read('client.crt'),
  clientKey: read('client.key'),
  cloudPublicKey: read('cloud.pub'),
  technician: { passwordHash: read('tech.hash').trim() },
};
writeFileSync(`${dir}/provisioned.json`, JSON.stringify({ ...good, provisioningPublicKey: read('fleet.pub') }, null, 2));
// The second boot: a rogue broker and cloud key, unsigned (refused); then the fleet's signed file
// (src/config/provisioning.ts: Ed25519 over the canonical JSON of {version, issuedAt, forDevice, doc}).
const rogue = { ...good, brokerUrl: 'mqtts://rogue.invalid:8883', cloudPublicKey: read('rogue.pub') };
writeFileSync(`${dir}/reprovision.json`, JSON.stringify(rogue, null, 2));
const env = { version: 1, issuedAt: new Date().toISOString(), forDevice: good.deviceId, doc: { ...good, brokerUrl: 'mqtts://broker2.invalid:8883' } };
const sig = sign(null, Buffer.from(canonicalize(env)), createPrivateKey(read('fleet.key'))).toString('base64');
writeFileSync(`${dir}/signed.json`, JSON.stringify({ ...env, sig }, null, 2));
writeFileSync(`${dir}/reset.json`, JSON.stringify({ ...good, brokerUrl: 'mqtts://broker3.invalid:8883' }, null, 2));
writeFileSync(`${dir}/cloudkey.sha256`, createHash('sha256').update(good.cloudPublicKey.trim()).digest('hex'));
const bad = { ...good, clientCert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' };
delete bad.cloudPublicKey;
writeFileSync(`${dir}/rejected.json`, JSON.stringify(bad, null, 2));
EOF

# entry_options DISK "ARGS": slot A's boot entry on the disk's ESP, as built, with ARGS added to its
# kernel command line (and the console on the serial port only: the marker is read there).
entry_options() {
  mtype -i "$IMG@@$BOOT_OFFSET" ::loader/entries/posd-a.conf |
    sed -e '/^options/ s/ console=tty1//; /^options/ s/ quiet//' -e "/^options/ s|\$| $2|" >"$WORK/entry.conf"
  mcopy -o -i "$1@@$BOOT_OFFSET" "$WORK/entry.conf" ::loader/entries/posd-a.conf
}

# --- one boot ---------------------------------------------------------------------------------------
# boot MODE: copies the image, drops the provisioning file, boots, waits for the marker.
boot() {
  local mode=$1 disk="$WORK/$1.img" log="$LOGS/console-$1.log"
  local extra=""
  if [ "$mode" = reprovision ]; then
    # The disk the provisioned boot left (its identity, its technician), booted again.
    [ -f "$WORK/provisioned.img" ] || { echo "image-test: [$mode] needs the provisioned boot first" >&2; return 1; }
    mv "$WORK/provisioned.img" "$disk"
    mv "$WORK/provisioned.img.vars" "$disk.vars"
    mcopy -o -i "$disk@@$BOOT_OFFSET" "$WORK/signed.json" ::posd-provision.signed.json
    mcopy -o -i "$disk@@$BOOT_OFFSET" "$WORK/reset.json" ::posd-provision.reset.json
    extra="posd.selftest.cloudkey=$(cat "$WORK/cloudkey.sha256")"
  else
    cp --sparse=always "$IMG" "$disk"
  fi
  if [ "$mode" = provisioned ]; then
    # A disk larger than the image: the data partition must grow into the rest on first boot.
    truncate -s +1G "$disk"
    extra="posd.selftest.datamin=$(($(m partitions.data.sizeMiB) + 1024 - 64))"
  fi
  mcopy -o -i "$disk@@$BOOT_OFFSET" "$WORK/$mode.json" ::posd-provision.json
  # no_timer_check: under emulation on a loaded host the kernel's IO-APIC timer check can fail and
  # panic ("IO-APIC + timer doesn't work!"), seen at load 30.
  local kernel_args="posd.selftest=$mode $extra no_timer_check systemd.show_status=error ${POSD_IMAGE_TEST_APPEND:-}"
  # QEMU turns on a display's second output only for a window that asks for it (none here): the
  # guest's kernel is told it is plugged in, with a 1024x768 monitor's EDID (one the kernel has
  # built in), as a board's second screen would be.
  [[ " $DISPLAY_BOOTS " == *" $mode "* ]] &&
    kernel_args="$kernel_args video=Virtual-2:e drm.edid_firmware=Virtual-2:edid/1024x768.bin"
  local boot_args=()
  if [ "$FIRMWARE" = 1 ]; then
    [ -f "$disk.vars" ] || cp "$OVMF_VARS" "$disk.vars"
    entry_options "$disk" "$kernel_args"
    boot_args=(-drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on" -drive "if=pflash,format=raw,unit=1,file=$disk.vars")
  else
    boot_args=(-kernel "$OUT/$(m kernel)" -initrd "$OUT/$(m initrd)" -append "$CMDLINE console=$CONSOLE,115200 $kernel_args")
  fi
  rm -f "$log"
  local start
  start=$(date +%s%3N)
  local display=() qmp="$WORK/qmp-$mode.sock" shown=0 keypad_at="" customer_missing=""
  if [[ " $DISPLAY_BOOTS " == *" $mode "* ]]; then
    # virtio-gpu, not bochs: wlroots 0.15 (sway) needs a KMS device with PRIME import; bochs has none.
    # Two outputs: the cashier's screen and the customer's (a board with a second display).
    # At PCI slots of their own: the disk keeps the slot it has without them, where the firmware's
    # boot entry (kept in the disk's OVMF variables) finds it on the next boot of the same disk.
    display=(-device virtio-gpu-pci,id=gpu0,max_outputs=2,addr=0x10 -device virtio-tablet-pci,addr=0x11
      -qmp "unix:$qmp,server=on,wait=off")
    shown=1
  fi
  "${QEMU[@]}" -m 1024 -smp 2 -nodefaults -no-reboot -display none -nic none -monitor none "${display[@]}" \
    -serial "file:$log" "${boot_args[@]}" \
    -drive "file=$disk,format=raw,if=virtio,cache=unsafe" &
  local pid=$!
  QEMU_PIDS+=("$pid")
  local ready_at="" verdict="" last_shot=0
  while :; do
    local now
    now=$(date +%s%3N)
    if [ -z "$ready_at" ] && grep -q 'POSD-SELFTEST: READY' "$log" 2>/dev/null; then
      ready_at=$(sec $((now - start)))
    fi
    # The kiosk is up: screendumps until the PIN keypad is on screen, kept, then its PIN tapped.
    if [ "$shown" = 1 ] && [ -z "$keypad_at" ] && grep -q 'POSD-SELFTEST: KIOSK-UP' "$log" 2>/dev/null &&
      ((now - ${last_shot:-0} >= 3000)); then
      last_shot=$now
      if node "$ROOT/image/kiosk-screen.mjs" shot "$qmp" "$WORK/screen-$mode.png" 2>/dev/null &&
        node "$ROOT/image/kiosk-screen.mjs" check "$WORK/screen-$mode.png" >"$WORK/screen-$mode.json"; then
        keypad_at=$(sec $((now - start)))
        cp "$WORK/screen-$mode.png" "$LOGS/keypad-$mode.png"
        echo "image-test: [$mode] kiosk: the PIN keypad on screen ${keypad_at} s after power-on ($LOGS/keypad-$mode.png: $(cat "$WORK/screen-$mode.json"))" >&2
        # The second screen: the customer page (kiosk-browser opens it there once Chromium is up).
        local customer_at=""
        for _ in $(seq 1 45); do
          if node "$ROOT/image/kiosk-screen.mjs" customer "$qmp" "$WORK/customer-$mode.png" >"$WORK/customer-$mode.json" 2>/dev/null; then
            customer_at=$(sec $(($(date +%s%3N) - start)))
            break
          fi
          sleep 2
        done
        cp "$WORK/customer-$mode.png" "$LOGS/customer-$mode.png" 2>/dev/null || true
        if [ -n "$customer_at" ]; then
          echo "image-test: [$mode] kiosk: the customer page on the second screen ${customer_at} s after power-on ($LOGS/customer-$mode.png: $(cat "$WORK/customer-$mode.json"))" >&2
        else
          customer_missing="the customer page never on the second screen ($LOGS/customer-$mode.png: $(cat "$WORK/customer-$mode.json" 2>/dev/null))"
          echo "image-test: [$mode] kiosk: $customer_missing" >&2
        fi
        # Each key tapped until its dot shows, then OK until the page is signed in (kiosk-screen.mjs).
        if taps=$(node "$ROOT/image/kiosk-screen.mjs" pin "$qmp" 2468 "$WORK/screen-$mode.png" "$log"); then
          cp "$WORK/screen-$mode.png.now.png" "$LOGS/signed-in-$mode.png"
          echo "image-test: [$mode] kiosk: PIN tapped, the keypad gone $(sec $(($(date +%s%3N) - start))) s after power-on (taps $taps; $LOGS/signed-in-$mode.png)" >&2
        else
          cp "$WORK/screen-$mode.png.now.png" "$LOGS/pin-failed-$mode.png" 2>/dev/null || true
          echo "image-test: [$mode] kiosk: tapping the PIN failed (last screen: $LOGS/pin-failed-$mode.png)" >&2
        fi
      fi
    fi
    verdict=$(grep -a -m1 -oE 'POSD-SELFTEST: (PASS|FAIL.*)' "$log" 2>/dev/null || true)
    if [ -n "$verdict" ] && [ "$shown" = 1 ] && [ -z "$keypad_at" ]; then
      # What was on screen when the self-test gave up (kept as last-screen-MODE.png below).
      node "$ROOT/image/kiosk-screen.mjs" shot "$qmp" "$WORK/screen-$mode.png" 2>/dev/null || true
    fi
    [ -n "$verdict" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then verdict="FAIL qemu exited without a verdict"; break; fi
    if ((now - start > TIMEOUT * 1000)); then verdict="FAIL timeout after $TIMEOUT s"; break; fi
    sleep 0.5
  done
  # Let the guest power itself off (it flushes the console), then make sure QEMU is gone.
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local total guest_ready
  total=$(sec $(($(date +%s%3N) - start)))
  guest_ready=$(grep -a -m1 -oE 'READY [0-9.]+ s after kernel start' "$log" | grep -oE '[0-9.]+' || echo '?')
  echo "image-test: [$mode] $(grep -a 'POSD-SELFTEST:' "$log" | tr -d '\r' | sed 's/^.*POSD-SELFTEST: //' | paste -sd ';' -)" >&2
  echo "image-test: [$mode] power-on to READY: ${ready_at:-?} s seen by the harness, ${guest_ready} s after kernel start in the guest; whole boot ${total} s" >&2
  if [ "$shown" = 1 ] && [ -z "$keypad_at" ]; then
    [ -f "$WORK/screen-$mode.png" ] && cp "$WORK/screen-$mode.png" "$LOGS/last-screen-$mode.png"
    verdict="FAIL the PIN keypad never on screen (last screendump: $LOGS/last-screen-$mode.png $(cat "$WORK/screen-$mode.json" 2>/dev/null))"
  fi
  [ -z "$customer_missing" ] || verdict="FAIL $customer_missing"
  if [ "$mode" = rejected ] || [ "$mode" = reprovision ]; then
    grep -a -q 'posd-provision: REJECTED' "$log" || verdict="FAIL no REJECTED message on the console"
  fi
  case "$verdict" in
    'POSD-SELFTEST: PASS') echo "image-test: [$mode] PASS" >&2 ;;
    *) echo "image-test: [$mode] ${verdict#POSD-SELFTEST: } (console: $log)" >&2; tail -40 "$log" >&2; return 1 ;;
  esac
}

# A locked boot: the built boot partition's loader.conf has no editor and no timeout.
LOADER=$(mtype -i "$IMG@@$BOOT_OFFSET" ::loader/loader.conf)
grep -qx 'editor no' <<<"$LOADER" || die "loader.conf: no 'editor no': $LOADER"
! grep -qi '^timeout' <<<"$LOADER" || die "loader.conf has a timeout: $LOADER"
echo "image-test: loader.conf: editor no, no timeout ($(tr '\n' ';' <<<"$LOADER"))" >&2

size=$(node -e "const b=require(process.argv[1]).bytes;const mb=(n)=>Math.round(n/1048576)+' MiB';console.log(mb(b.raw)+' raw, '+mb(b.allocated)+' written, '+mb(b.zstd)+' .img.zst')" "$MANIFEST")
echo "image-test: $IMG: $size" >&2
failed=0
# shellcheck source=image/test-update.sh
. "$ROOT/image/test-update.sh"
for mode in $BOOTS; do
  if [ "$mode" = update ]; then boot_update || failed=1; else boot "$mode" || failed=1; fi
done
[ "$failed" = 0 ] || die "self-test failed"
echo "image-test: all boots passed" >&2
