# shellcheck shell=bash
# Sourced by image/test.sh: the `update` boot sequence (image/files/selftest-update.mjs, docs/operations.md
# "Image self-test"). Uses test.sh's IMG, WORK, LOGS, QEMU, OVMF_*, m, sec, entry_options.

# debugfs commands that remove a directory tree of an ext4 image (debugfs has no recursive rm).
rm_tree_cmds() { # rm_tree_cmds IMAGE DIR
  local line mode name
  while IFS= read -r line; do
    mode=$(cut -d/ -f3 <<<"$line") name=$(cut -d/ -f6 <<<"$line")
    case "$name" in . | .. | '') continue ;; esac
    if [[ "$mode" == 04* ]]; then rm_tree_cmds "$1" "$2/$name"; else echo "rm $2/$name"; fi
  done < <(debugfs -R "ls -p $2" "$1" 2>/dev/null)
  echo "rmdir $2"
}

# Bundles for the update boots, from slot A's root file system in the image, changed with debugfs
# (no mount): good.raucb (posd's version V-good), bad.raucb (V-bad, posd exits at start), and
# rogue.raucb (a small bundle signed by a key the image does not trust). The kiosk browser's files
# (Chromium, Mesa's LLVM) are left out of the test's bundles: the update boots have no display, and
# under emulation every MiB of a slot costs install time (docs/updates.md "The image test").
update_bundles() {
  local v root="$WORK/root.ext4" t0
  t0=$(date +%s)
  v=$(m version)
  # Versions that differ from the image's in the release itself (posd takes 1.4.0 and 1.4.0+g1a2b
  # for one release: UPDATE_SAME_VERSION).
  UPDATE_GOOD="${v%%+*}-good" UPDATE_BAD="${v%%+*}-bad"
  mkdir -p "$WORK/www"
  dd if="$IMG" of="$root" bs=1M skip="$(m partitions.rootA.offsetMiB)" count="$(m partitions.rootA.sizeMiB)" conv=sparse status=none
  # Only the file system (image/build.sh sizes it to its contents; the slot's rest is unused).
  truncate -s $(($(dumpe2fs -h "$root" 2>/dev/null | sed -n 's/^Block count: *//p') * 4096)) "$root"
  debugfs -R "cat /opt/posd/package.json" "$root" 2>/dev/null >"$WORK/package.json"
  debugfs -R "cat /usr/share/posd/posd.json" "$root" 2>/dev/null >"$WORK/posd-base.json"
  if [ "${POSD_IMAGE_TEST_BUNDLE_KIOSK:-0}" = 0 ]; then
    {
      rm_tree_cmds "$root" /usr/lib/chromium
      debugfs -R "ls -p /usr/lib/x86_64-linux-gnu/dri" "$root" 2>/dev/null | cut -d/ -f6 | grep '\.so$' | sed 's|^|rm /usr/lib/x86_64-linux-gnu/dri/|'
      echo "rm /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1"
      echo "rm /usr/lib/x86_64-linux-gnu/libz3.so.4"
    } >"$WORK/strip.cmd"
    debugfs -w -f "$WORK/strip.cmd" "$root" >/dev/null 2>&1 || { echo "image-test: [update] debugfs strip failed" >&2; return 1; }
    e2fsck -fy "$root" >/dev/null 2>&1 || true
    resize2fs -M "$root" >/dev/null 2>&1 || { echo "image-test: [update] resize2fs failed" >&2; return 1; }
    # The freed blocks as holes (zeros): squashfs stores nothing for them and reads them for free.
    e2fsck -fy -E discard "$root" >/dev/null 2>&1 || true
    truncate -s $(($(dumpe2fs -h "$root" 2>/dev/null | sed -n 's/^Block count: *//p') * 4096)) "$root"
  fi
  printf "console.error('posd (bad bundle): exits at start');\nprocess.exit(1);\n" >"$WORK/bad-main.js"
  local name version
  for name in good bad; do
    version=$UPDATE_GOOD
    [ "$name" = bad ] && version=$UPDATE_BAD
    node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1]));j.version=process.argv[2];process.stdout.write(JSON.stringify(j,null,2))" \
      "$WORK/package.json" "$version" >"$WORK/package-$name.json"
    # One copy, changed in turn: the good root, then the bad one.
    {
      echo "rm /opt/posd/package.json"
      echo "write $WORK/package-$name.json /opt/posd/package.json"
      if [ "$name" = bad ]; then
        echo "rm /opt/posd/dist/src/main.js"
        echo "write $WORK/bad-main.js /opt/posd/dist/src/main.js"
      fi
    } >"$WORK/debugfs-$name.cmd"
    debugfs -w -f "$WORK/debugfs-$name.cmd" "$root" >/dev/null 2>&1 || { echo "image-test: [update] debugfs on $name failed" >&2; return 1; }
    POSD_BUNDLE_ZSTD_LEVEL=${POSD_IMAGE_TEST_ZSTD_LEVEL:-3} bash "$ROOT/image/bundle.sh" "$root" "$version" "$WORK/www/$name.raucb" || return 1
  done
  rm -f "$root"
  # What the cloud's update.install names: each bundle's size and sha256.
  printf '{"good.raucb":{"size":%s,"sha256":"%s"},"bad.raucb":{"size":%s,"sha256":"%s"}}\n' \
    "$(stat -c %s "$WORK/www/good.raucb")" "$(sha256sum "$WORK/www/good.raucb" | cut -c1-64)" \
    "$(stat -c %s "$WORK/www/bad.raucb")" "$(sha256sum "$WORK/www/bad.raucb" | cut -c1-64)" >"$WORK/www/bundles.json"
  # Signed by a key the image does not know.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue -keyout "$WORK/rogue.key" -out "$WORK/rogue.crt" 2>/dev/null
  mkdir -p "$WORK/rogue/etc" && head -c 200000 /dev/urandom >"$WORK/rogue/etc/rogue"
  truncate -s 16M "$WORK/rogue.ext4" && mkfs.ext4 -q -F -d "$WORK/rogue" "$WORK/rogue.ext4"
  POSD_BUNDLE_KEY="$WORK/rogue.key" POSD_BUNDLE_CERT="$WORK/rogue.crt" bash "$ROOT/image/bundle.sh" "$WORK/rogue.ext4" "${v%%+*}-rogue" "$WORK/www/rogue.raucb" || return 1
  echo "image-test: [update] bundles made in $(($(date +%s) - t0)) s: good $(($(stat -c %s "$WORK/www/good.raucb") / 1048576)) MiB ($UPDATE_GOOD), bad $(($(stat -c %s "$WORK/www/bad.raucb") / 1048576)) MiB ($UPDATE_BAD)" >&2
}

# The bundles on a disk of their own (ext4, label posd-bundles), attached read-only: the guest
# installs from it (QEMU's user networking moved 435 MiB in 210 s under emulation; the download
# itself is posd's, tested against the reference cloud in tests/integration).
bundles_disk() {
  local mb
  mb=$(($(du -sm "$WORK/www" | cut -f1) * 11 / 10 + 32))
  truncate -s "${mb}M" "$WORK/bundles.ext4"
  mkfs.ext4 -q -F -L posd-bundles -d "$WORK/www" "$WORK/bundles.ext4"
  rm -rf "$WORK/www"
}

# posd's config linked to the guest's cloud (selftest-cloud.mjs) and the cloud's signing key, put on
# the disk's data partition before the first boot, as provisioning would leave them: posd starts
# linked, with no restart in the guest (that restart took 40 s under emulation).
configure_data() { # configure_data DISK
  local data="$WORK/data.ext4" off size
  off=$(m partitions.data.offsetMiB) size=$(m partitions.data.sizeMiB)
  node "$ROOT/image/files/selftest-cloud.mjs" configure "$WORK/posd-base.json" "$WORK/posd.json" "$WORK/selftest-cloud-key.pem" || return 1
  dd if="$1" of="$data" bs=1M skip="$off" count="$size" status=none
  {
    echo "write $WORK/posd.json /config/posd.json"
    echo "sif /config/posd.json mode 0100640"
    echo "sif /config/posd.json gid 900"
    echo "write $WORK/selftest-cloud-key.pem /selftest-cloud-key.pem"
    echo "sif /selftest-cloud-key.pem mode 0100600"
  } >"$WORK/data.cmd"
  debugfs -w -f "$WORK/data.cmd" "$data" >/dev/null 2>&1 || { echo "image-test: [update] debugfs on the data partition failed" >&2; return 1; }
  debugfs -R "cat /config/posd.json" "$data" 2>/dev/null | grep -q UPD-1 || { echo "image-test: [update] posd.json not on the data partition" >&2; return 1; }
  dd if="$data" of="$1" bs=1M seek="$off" conv=notrunc status=none
  rm -f "$data"
}

boot_update() {
  local disk="$WORK/update.img" log="$LOGS/console-update.log" t0 run=1 verdict="" seen=0 cut_ms=""
  [ "$FIRMWARE" = 1 ] || { echo "image-test: [update] needs the firmware boot (amd64)" >&2; return 1; }
  update_bundles || return 1
  bundles_disk || return 1
  cp --sparse=always "$IMG" "$disk"
  configure_data "$disk" || return 1
  # Room on the data partition (it grows to the disk at first boot) for a downloaded bundle.
  truncate -s +1536M "$disk"
  cp "$OVMF_VARS" "$disk.vars"
  entry_options "$disk" "posd.selftest=update posd.selftest.good=$UPDATE_GOOD posd.selftest.bad=$UPDATE_BAD transparent_hugepage=never no_timer_check systemd.show_status=error ${POSD_IMAGE_TEST_APPEND:-}"
  rm -f "$log" "$log".*
  t0=$(date +%s%3N)
  while :; do
    # -no-reboot: a reboot of the guest ends QEMU and the harness powers it on again at once. A warm
    # reset inside one QEMU took 524 s from "Restarting system" to READY at load 9 (OVMF 58 s, boot
    # loader to kernel 131 s, the kernel 200 s clearing pages while it unpacked the initramfs,
    # `clear_page_erms` in RCU stall reports) against 8 s + 8 s + 20 s for a fresh QEMU. The EFI
    # variables and the disks are files, so nothing of the reboot is lost. The guest powers off at the end. Each power-on gets
    # OVMF's variables as new (an NVRAM reset): the boot state lives on the ESP, not in EFI variables
    # (docs/decisions/0008), and a variable store grown by every boot's writes slowed the firmware.
    cp "$OVMF_VARS" "$disk.vars"
    # 1.5 GiB and no transparent huge pages: writing a slot under emulation on a loaded machine
    # otherwise stalls in khugepaged (soft lockups).
    "${QEMU[@]}" -m 1536 -smp 2 -nodefaults -no-reboot -display none -monitor none -nic none \
      -serial "file:$log.$(printf %02d "$run")" \
      -drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on" -drive "if=pflash,format=raw,unit=1,file=$disk.vars" \
      -drive "file=$disk,format=raw,if=virtio,cache=unsafe" -drive "file=$WORK/bundles.ext4,format=raw,if=virtio,readonly=on" &
    local pid=$! cut=0 gone=0
    QEMU_PIDS+=("$pid")
    seen=0
    while :; do
      local now lines
      now=$(date +%s%3N)
      # Each new marker line, with the harness's time since the first power-on (and the firmware's
      # and the kernel's start, to see where a reboot's time goes).
      mapfile -t lines < <(grep -a -E 'POSD-SELFTEST:|BdsDxe: starting|\] Linux version|reboot: Restarting' "$log.$(printf %02d "$run")" 2>/dev/null | tr -d '\r' |
        sed -e 's/^.*POSD-SELFTEST: //' -e 's/^.*BdsDxe: starting.*/firmware: starting the boot loader/' -e 's/^.*Linux version.*/kernel started/' -e 's/^.*reboot: Restarting.*/kernel: restarting/')
      while [ "$seen" -lt "${#lines[@]}" ]; do
        echo "image-test: [update] +$(sec $((now - t0))) s: ${lines[$seen]}" >&2
        case "${lines[$seen]}" in
          CUT-NOW*) cut=1 ;;
          PASS) verdict=PASS ;;
          FAIL*) verdict="${lines[$seen]}" ;;
        esac
        seen=$((seen + 1))
      done
      if [ "$cut" = 1 ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        cut_ms=$now
        echo "image-test: [update] power cut: QEMU killed while RAUC writes slot A; powering on again" >&2
        break
      fi
      [ -n "$verdict" ] && break
      # QEMU gone and its console read once more without a verdict: the guest rebooted.
      [ "$gone" = 1 ] && break
      if ! kill -0 "$pid" 2>/dev/null; then gone=1; continue; fi
      if ((now - t0 > ${POSD_IMAGE_TEST_UPDATE_TIMEOUT:-2400} * 1000)); then verdict="FAIL timeout"; break; fi
      sleep 0.5
    done
    [ -n "$verdict" ] && break
    wait "$pid" 2>/dev/null || true
    run=$((run + 1))
    [ "$run" -le 12 ] || { verdict="FAIL more than 12 boots"; break; }
  done
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cat "$log".* >"$log" && rm -f "$log".*
  local boots
  boots=$(grep -a -c 'Linux version' "$log" || true)
  echo "image-test: [update] $boots kernel boots in $(sec $(($(date +%s%3N) - t0))) s (power cut at +$(sec $((${cut_ms:-$t0} - t0))) s); READY per boot: $(grep -a -oE 'POSD-SELFTEST: READY [0-9.]+' "$log" | grep -oE '[0-9.]+$' | paste -sd ' ' -) s after kernel start" >&2
  if [ "$verdict" = PASS ]; then
    echo "image-test: [update] PASS" >&2
  else
    echo "image-test: [update] ${verdict#POSD-SELFTEST: } (console: $log)" >&2
    tail -60 "$log" >&2
    return 1
  fi
}
