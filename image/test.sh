#!/usr/bin/env bash
# Boots the image that image/build.sh made under QEMU (software emulation, no network, serial
# console; the kernel and initrd are the image's own, booted directly) with posd.selftest on the
# kernel command line, and reads the self-test's marker from the console. Two boots, each on a copy
# of the image with a provisioning file put on its boot partition as a technician would:
#   provisioned  a valid file (with a technician login): installed; READY, /healthz, a sale, the
#                technician reads posd's journal and runs posd doctor, the watchdog restarts a hung posd
#   rejected     a bad certificate and a missing field: refused with a clear message, posd offline,
#                no technician account
# QEMU's exit code says nothing: a boot passes only on `POSD-SELFTEST: PASS`, and fails on
# `POSD-SELFTEST: FAIL ...` or when the marker does not come within POSD_IMAGE_TEST_TIMEOUT seconds.
#   POSD_IMAGE_TEST_BOOTS="provisioned"   run only some boots
#   POSD_IMAGE_TEST_DISPLAY=1             give the VMs a display (bochs DRM): the kiosk must come up
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${POSD_IMAGE_ARCH:-amd64}
OUT=${POSD_IMAGE_OUT:-$ROOT/image/out}
TIMEOUT=${POSD_IMAGE_TEST_TIMEOUT:-600}
BOOTS=${POSD_IMAGE_TEST_BOOTS:-provisioned rejected}
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
# The technician login's hash, made as docs/operations.md says (the password itself is not used).
openssl passwd -6 "selftest-$RANDOM$RANDOM" >"$WORK/tech.hash"
node - "$WORK" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs');
const dir = process.argv[2];
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
writeFileSync(`${dir}/provisioned.json`, JSON.stringify(good, null, 2));
const bad = { ...good, clientCert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' };
delete bad.cloudPublicKey;
writeFileSync(`${dir}/rejected.json`, JSON.stringify(bad, null, 2));
EOF

# --- one boot ---------------------------------------------------------------------------------------
# boot MODE: copies the image, drops the provisioning file, boots, waits for the marker.
boot() {
  local mode=$1 disk="$WORK/$1.img" log="$LOGS/console-$1.log"
  cp --sparse=always "$IMG" "$disk"
  local extra=""
  if [ "$mode" = provisioned ]; then
    # A disk larger than the image: the data partition must grow into the rest on first boot.
    truncate -s +1G "$disk"
    extra="posd.selftest.datamin=$(($(m partitions.data.sizeMiB) + 1024 - 64))"
  fi
  mcopy -o -i "$disk@@$BOOT_OFFSET" "$WORK/$mode.json" ::posd-provision.json
  rm -f "$log"
  local start
  start=$(date +%s%3N)
  local display=()
  [ "${POSD_IMAGE_TEST_DISPLAY:-0}" = 1 ] && display=(-device bochs-display)
  "${QEMU[@]}" -m 1024 -smp 2 -nodefaults -no-reboot -display none -nic none -monitor none "${display[@]}" \
    -serial "file:$log" \
    -kernel "$OUT/$(m kernel)" -initrd "$OUT/$(m initrd)" \
    -append "$CMDLINE console=$CONSOLE,115200 posd.selftest=$mode $extra systemd.show_status=error" \
    -drive "file=$disk,format=raw,if=virtio,cache=unsafe" &
  local pid=$!
  QEMU_PIDS+=("$pid")
  local ready_at="" verdict=""
  while :; do
    local now
    now=$(date +%s%3N)
    if [ -z "$ready_at" ] && grep -q 'POSD-SELFTEST: READY' "$log" 2>/dev/null; then
      ready_at=$(sec $((now - start)))
    fi
    verdict=$(grep -a -m1 -oE 'POSD-SELFTEST: (PASS|FAIL.*)' "$log" 2>/dev/null || true)
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
  if [ "$mode" = rejected ]; then
    grep -a -q 'posd-provision: REJECTED' "$log" || verdict="FAIL no REJECTED message on the console"
  fi
  case "$verdict" in
    'POSD-SELFTEST: PASS') echo "image-test: [$mode] PASS" >&2 ;;
    *) echo "image-test: [$mode] ${verdict#POSD-SELFTEST: } (console: $log)" >&2; tail -40 "$log" >&2; return 1 ;;
  esac
}

size=$(node -e "const b=require(process.argv[1]).bytes;const mb=(n)=>Math.round(n/1048576)+' MiB';console.log(mb(b.raw)+' raw, '+mb(b.allocated)+' written, '+mb(b.zstd)+' .img.zst')" "$MANIFEST")
echo "image-test: $IMG: $size" >&2
failed=0
for mode in $BOOTS; do
  boot "$mode" || failed=1
done
[ "$failed" = 0 ] || die "self-test failed"
echo "image-test: all boots passed" >&2
